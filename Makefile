# autogen-postmortem. `make demo` and `make test` work on a fresh clone: they set up .venv themselves.
PY      ?= python3
VENV    := .venv
BIN     := $(VENV)/bin
STAMP   := $(VENV)/.installed
SAMPLES_VENV := .venv-samples
AGENTCHAT_VENV := .venv-agentchat
AGENTCHAT04_VENV := .venv-agentchat-0.4
MAF_VENV := .venv-maf
PHOENIX_VENV := .venv-phoenix
AGENTCHAT_PHOENIX_VENV := .venv-agentchat-phoenix
OTLP_JSON := opentelemetry-exporter-otlp-json-file==0.66b1
SRC     := analyzer tests bench samples

.PHONY: dev demo test lint browser fmt golden samples samples-phoenix corpus corpus-score bench fuzz clean

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
	$(AGENTCHAT_VENV)/bin/pip install -q --disable-pip-version-check 'autogen-agentchat==0.7.5' 'autogen-ext[openai]==0.7.5' opentelemetry-sdk python-json-logger==4.2.0 $(OTLP_JSON) openinference-instrumentation-autogen-agentchat==0.1.22 langfuse==5.0.4
	$(AGENTCHAT_VENV)/bin/python samples/agentchat/record.py
	$(AGENTCHAT_VENV)/bin/python samples/agentchat/record.py --traces otlp
	$(AGENTCHAT_VENV)/bin/python samples/agentchat/record.py --traces openinference
	$(AGENTCHAT_VENV)/bin/python samples/agentchat/record.py --traces langfuse
	test -x $(MAF_VENV)/bin/python || $(PY) -m venv $(MAF_VENV)
	$(MAF_VENV)/bin/pip install -q --disable-pip-version-check agent-framework-core==1.23.0 agent-framework-openai==1.17.0 agent-framework-orchestrations==1.4.0 $(OTLP_JSON)
	$(MAF_VENV)/bin/python samples/agent_framework/record.py
	test -x $(AGENTCHAT04_VENV)/bin/python || $(PY) -m venv $(AGENTCHAT04_VENV)
	$(AGENTCHAT04_VENV)/bin/pip install -q --disable-pip-version-check 'autogen-agentchat==0.4.9' 'autogen-ext[openai]==0.4.9' opentelemetry-sdk
	$(AGENTCHAT04_VENV)/bin/python samples/agentchat/record.py --agentchat-0.4

## OpenInference spans sent to a local Phoenix server, exported as `px traces` writes them
## (own venvs: autogen-core pins protobuf 5, the OTLP/HTTP exporter's newest wants 6+)
samples-phoenix:
	test -x $(PHOENIX_VENV)/bin/python || $(PY) -m venv $(PHOENIX_VENV)
	$(PHOENIX_VENV)/bin/pip install -q --disable-pip-version-check arize-phoenix==20.26.1
	test -x $(AGENTCHAT_PHOENIX_VENV)/bin/python || $(PY) -m venv $(AGENTCHAT_PHOENIX_VENV)
	$(AGENTCHAT_PHOENIX_VENV)/bin/pip install -q --disable-pip-version-check 'autogen-agentchat==0.7.5' 'autogen-ext[openai]==0.7.5' openinference-instrumentation-autogen-agentchat==0.1.22 opentelemetry-exporter-otlp-proto-http
	mkdir -p .phoenix && PHOENIX_WORKING_DIR=.phoenix $(PHOENIX_VENV)/bin/phoenix serve > .phoenix/serve.log 2>&1 & echo $$! > .phoenix/pid; \
	  sleep 20; $(AGENTCHAT_PHOENIX_VENV)/bin/python samples/agentchat/record.py --traces phoenix; \
	  status=$$?; kill $$(cat .phoenix/pid); exit $$status

## record the classic program on every release line into corpus/ (git-ignored; own venvs)
corpus: $(STAMP)
	$(BIN)/python samples/releases/record.py
	$(BIN)/python samples/releases/record.py ag2-0.11.5 ag2-0.14.0 autogen-0.14.1 --forms ag2-traces,openinference

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
