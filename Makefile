# autogen-postmortem. `make demo` and `make test` work on a fresh clone: they set up .venv themselves.
PY      ?= python3
VENV    := .venv
BIN     := $(VENV)/bin
STAMP   := $(VENV)/.installed
SAMPLES_VENV := .venv-samples
AGENTCHAT_VENV := .venv-agentchat
AGENTCHAT04_VENV := .venv-agentchat-0.4
SRC     := analyzer tests bench samples

.PHONY: dev demo test lint browser fmt golden samples corpus corpus-score bench fuzz clean

$(STAMP): pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --disable-pip-version-check -e '.[dev,cluster]'
	touch $(STAMP)

dev: $(STAMP)

## analyse every sample log into reports/
demo: $(STAMP)
	$(BIN)/autogen-postmortem analyze sample_logs --out reports --html
	$(BIN)/autogen-postmortem batch sample_logs --out reports/batch --html
	@echo "reports written to reports/ (open reports/*.md and reports/batch/index.md)"

## lint + the whole test suite (T=pattern runs matching tests only, stopping at the first failure)
test: lint browser
	$(BIN)/pytest -q $(if $(T),-x -k '$(T)')

## Debian's chromium for the HTML report's browser test: installed in CI (as root), asked for elsewhere
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ -n "$$CI" ] && [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "installing Debian's chromium for the HTML browser test"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	  else echo "chromium not found: the HTML browser test is skipped (apt-get install chromium)"; fi; }

lint: $(STAMP)
	$(BIN)/ruff format --check $(SRC)
	$(BIN)/ruff check $(SRC)
	$(BIN)/mypy analyzer

fmt: $(STAMP)
	$(BIN)/ruff format $(SRC)
	$(BIN)/ruff check --fix $(SRC)

golden: $(STAMP)
	$(BIN)/pytest -q tests/test_golden.py --update-golden

## re-record sample_logs/ by running the real frameworks (own venvs: the analyzer never imports them)
samples:
	test -x $(SAMPLES_VENV)/bin/python || $(PY) -m venv $(SAMPLES_VENV)
	$(SAMPLES_VENV)/bin/pip install -q --disable-pip-version-check 'autogen[openai,tracing]==0.14.1'
	$(SAMPLES_VENV)/bin/python samples/classic/record.py
	test -x $(AGENTCHAT_VENV)/bin/python || $(PY) -m venv $(AGENTCHAT_VENV)
	$(AGENTCHAT_VENV)/bin/pip install -q --disable-pip-version-check 'autogen-agentchat==0.7.5' 'autogen-ext[openai]==0.7.5' opentelemetry-sdk python-json-logger==4.2.0
	$(AGENTCHAT_VENV)/bin/python samples/agentchat/record.py
	test -x $(AGENTCHAT04_VENV)/bin/python || $(PY) -m venv $(AGENTCHAT04_VENV)
	$(AGENTCHAT04_VENV)/bin/pip install -q --disable-pip-version-check 'autogen-agentchat==0.4.9' 'autogen-ext[openai]==0.4.9' opentelemetry-sdk
	$(AGENTCHAT04_VENV)/bin/python samples/agentchat/record.py --agentchat-0.4

## record the classic program on every release line into corpus/ (git-ignored; own venvs)
corpus: $(STAMP)
	$(BIN)/python samples/releases/record.py

## score the analyzer on corpus/: HALF=tune while tuning, HALF=held_out once, untouched
corpus-score: $(STAMP)
	$(BIN)/python bench/corpus_score.py $(if $(HALF),--half $(HALF))

## the fuzz campaign, as long as asked: make fuzz SECONDS=600 (or CASES=10000), SEED=N
fuzz: $(STAMP)
	$(BIN)/python -m tests.fuzz.campaign --seed $(or $(SEED),1) $(if $(CASES),--cases $(CASES),--seconds $(or $(SECONDS),300))

bench: $(STAMP)
	$(BIN)/python bench/throughput.py
	$(BIN)/python bench/scale.py

clean:
	rm -rf reports/*.md reports/*.png bench/out .pytest_cache .mypy_cache .ruff_cache
