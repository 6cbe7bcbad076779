"""The fuzz campaign: mutated real logs of every format through parse, analysis, every renderer
and batch. A case fails on any exception other than ``AnalyzerError``, a planted secret in any
output, live markup in a Markdown output, a control character on the terminal, or a run over
its time or memory budget.

    python -m tests.fuzz.campaign --cases 10000 --seed 1      # or --seconds 600
    python -m tests.fuzz.campaign --replay 1234 --seed 1      # one case again

Own seeded mutators rather than hypothesis or atheris: the inputs are whole real log files
and the mutations are the ways such files break, so a case number and a seed rebuild a case
exactly, and a campaign runs for as long as it is given. hypothesis's strength, shrinking
generated values, has little to shrink in a 40 KB log; atheris needs an instrumented
interpreter per run and gives no reproducible case list.
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import shutil
import tempfile
import time
import traceback
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path

from markdown_it import MarkdownIt

from analyzer.batch import BatchOptions, run_batch, summary_rows, write_outputs
from analyzer.errors import AnalyzerError
from analyzer.formats import detect_format
from analyzer.pipeline import AnalysisResult, analyze_file
from analyzer.report import plots
from analyzer.report.batch_summary import render_index, summary_frame
from analyzer.report.html import render_html
from analyzer.report.json_report import document
from analyzer.report.markdown import render_markdown
from analyzer.report.terminal import summary_lines

from . import mutate

ROOT = Path(__file__).resolve().parents[2]
SEEDS_DIRS = (ROOT / "sample_logs", ROOT / "tests" / "fixtures")
CASE_SECONDS = 20.0  # a case (parse, analysis, every renderer) over this has hung
CHART_EVERY = 25  # charts cost ~0.5 s a run: every 25th case draws them (and see run())
BATCH_EVERY = 200  # and every 200th runs the last cases' files as one batch
MAX_RSS_MB = 4096


@dataclass
class Tally:
    cases: int = 0
    by_format: Counter[str] = field(default_factory=Counter)
    by_mutator: Counter[str] = field(default_factory=Counter)
    outcomes: Counter[str] = field(default_factory=Counter)
    charted: int = 0
    batches: int = 0
    failures: list[str] = field(default_factory=list)
    slowest: tuple[float, str] = (0.0, "")


def seeds() -> list[Path]:
    return sorted(
        p
        for d in SEEDS_DIRS
        for p in d.rglob("*")
        if p.is_file() and p.name != "label.json" and not p.name.startswith(".")
    )


def _seed_names(seed: Path, cache: dict[Path, tuple[str, ...]]) -> tuple[str, ...]:
    """Agent and tool names of the seed log, longest first (what a hostile name replaces)."""
    if seed not in cache:
        try:
            result = analyze_file(seed)
            names = {a for run in result.runs for a in run.stats.agents}
            names |= {
                t for run in result.runs for t in run.events["tool_name"].drop_nulls().to_list()
            }
        except AnalyzerError:
            names = set()
        cache[seed] = tuple(sorted((n for n in names if len(n) >= 3), key=len, reverse=True))
    return cache[seed]


def build(number: int, seed_value: int, pool: list[Path], work: Path, names: dict) -> mutate.Case:
    rng = random.Random(f"{seed_value}:{number}")
    seed = rng.choice(pool)
    planted: list[str] = []
    is_db = seed.suffix == ".db"
    choices = [*mutate.MUTATORS, "splice", "hostile_names"] + (["sqlite_rows"] * 6 if is_db else [])
    name = rng.choice(choices)
    out = work / f"case{number}{seed.suffix}"
    if name == "sqlite_rows":
        mutate.mutate_sqlite(seed, out, rng, planted)
    else:
        data = seed.read_bytes()
        if name == "splice":
            data = mutate.splice(data, rng, planted, rng.choice(pool).read_bytes())
        elif name == "hostile_names":
            data = mutate.hostile_names(data, rng, planted, _seed_names(seed, names))
        else:
            data = mutate.MUTATORS[name](data, rng, planted)
        out.write_bytes(data)
    return mutate.Case(number, seed, name, tuple(planted), out)


_MD = MarkdownIt("gfm-like", {"linkify": True})
_MD.linkify.set({"fuzzy_link": False, "fuzzy_email": False})
_MD.validateLink = lambda url: True  # see every link, even those a renderer would refuse


def live_markup(text: str, allowed: set[str]) -> list[str]:
    """Links, images and raw HTML the Markdown would render, other than the tool's own."""
    found = []
    stack = list(_MD.parse(text))
    while stack:
        token = stack.pop()
        stack.extend(token.children or ())
        if token.type in ("html_inline", "html_block"):
            found.append(f"raw HTML {token.content[:40]!r}")
        elif token.type in ("link_open", "image"):
            target = str(token.attrs.get("href") or token.attrs.get("src") or "")
            if target not in allowed:
                found.append(f"{token.type} to {target[:60]!r}")
        elif token.type == "heading_open" and token.tag not in ("h1", "h2", "h3"):
            found.append(f"heading {token.tag}")
    return found


_PAGE_TAGS = {
    "html", "head", "meta", "title", "style", "body", "main", "h1", "h2", "h3", "p", "b",
    "span", "code", "div", "table", "tr", "th", "td",
}  # fmt: skip


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in _PAGE_TAGS:
            self.found.append(f"element <{tag}>")
        self.found += [
            f"attribute {k} on <{tag}>"
            for k, _ in attrs
            if k.startswith("on") or k in ("href", "src")
        ]

    def handle_comment(self, data: str) -> None:
        self.found.append("a comment")


def live_html(text: str) -> list[str]:
    """Elements, attributes or comments in a run's page that the page itself does not write."""
    parser = _Tags()
    parser.feed(text)
    return parser.found


def _outputs(result: AnalysisResult, chart: bool, work: Path) -> tuple[dict[str, str], set[str]]:
    """Every text the tool would show for ``result``: name -> text; and the link targets the
    tool itself puts in Markdown."""
    texts: dict[str, str] = {}
    allowed: set[str] = set()
    for i, run in enumerate(result.runs):
        images = [f"r{i}.timeline.png"]
        allowed |= set(images)
        texts[f"md{i}"] = render_markdown(result, run, images)
        texts[f"html{i}"] = render_html(result, run)
        if chart and i < 2:
            texts[f"chart{i}"] = "\n".join(_chart_texts(run, work))
    texts["json"] = json.dumps(document([result], []), ensure_ascii=False)
    texts["terminal"] = "\n".join(summary_lines(result, ["reports/x.md"]))
    rows = summary_rows(result, [f"runs/r{i}.md" for i in range(len(result.runs))], "0" * 32)
    allowed |= {r["report"] for r in rows}
    texts["rows"] = json.dumps(rows, ensure_ascii=False)
    texts["index"] = render_index(summary_frame(rows), [], [], [])
    return texts, allowed


def _chart_texts(run: object, work: Path) -> list[str]:
    """The texts drawn on the run's charts, gathered as each figure is saved."""
    from matplotlib.text import Text

    seen: list[str] = []
    save = plots._save

    def gather(fig, path):  # type: ignore[no-untyped-def]
        seen.extend(t.get_text() for t in fig.findobj(Text))
        return save(fig, path)

    plots._save = gather
    try:
        plots.render_plots(run, work, "chart", analyze_file.__defaults__[0])  # type: ignore[arg-type, index]
    finally:
        plots._save = save
    return seen


def check(case: mutate.Case, chart: bool, work: Path) -> tuple[str, list[str]]:
    """(outcome, problems) of one case."""
    try:
        result = analyze_file(case.path)
    except AnalyzerError as exc:
        text = str(exc)
        problems = [f"error message holds {s[:12]}…" for s in case.planted if s in text]
        if "\n" in text or "\x1b" in text:
            problems.append("multi-line or escaped error message")
        return "error", problems
    except Exception:  # the one thing a case must never do
        return "crash", [traceback.format_exc(limit=-6)]
    try:
        texts, allowed = _outputs(result, chart, work)
    except Exception:
        return "crash", ["while rendering:\n" + traceback.format_exc(limit=-6)]
    problems = []
    for name, text in texts.items():
        problems += [f"{name} holds {s[:12]}…" for s in case.planted if s in text]
        if name.startswith("md") or name == "index":
            problems += [f"{name}: {p}" for p in live_markup(text, allowed)]
        if name.startswith("html"):
            problems += [f"{name}: {p}" for p in live_html(text)]
        if name == "terminal" and any(c in text for c in "\x1b\r\x07\x00"):
            problems.append("terminal output holds a control character")
    return "analysed", problems


def run(
    cases: int | None, seconds: float | None, seed_value: int = 1, only: int | None = None
) -> Tally:
    pool = seeds()
    tally = Tally()
    names: dict[Path, tuple[str, ...]] = {}
    started = time.monotonic()
    peak = 0.0
    with tempfile.TemporaryDirectory(prefix="fuzz-") as tmp:
        work = Path(tmp)
        recent: list[Path] = []
        for number in _numbers(cases, only):
            if seconds is not None and time.monotonic() - started > seconds:
                break
            case = build(number, seed_value, pool, work, names)
            # Names and payloads reach chart labels: those cases always draw.
            chart = number % CHART_EVERY == 0 or case.mutator in ("hostile_names", "payloads")
            t = time.monotonic()
            outcome, problems = check(case, chart, work)
            took = time.monotonic() - t
            fmt = _format_of(case.seed)
            tally.cases += 1
            tally.by_format[fmt] += 1
            tally.by_mutator[case.mutator] += 1
            tally.outcomes[outcome] += 1
            tally.charted += chart
            tally.slowest = max(tally.slowest, (took, f"case {number}"))
            if took > CASE_SECONDS:
                problems.append(f"took {took:.1f} s")
            rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
            if rss > MAX_RSS_MB >= peak:  # the case that crossed the line, not every one after
                problems.append(f"memory high-water mark {rss:.0f} MB")
            peak = rss
            if outcome == "crash" or problems:
                where = f"case {number} ({case.mutator} of {case.seed.relative_to(ROOT)})"
                tally.failures.append(f"{where}: " + "; ".join(problems))
            keep = work / "batch" / case.path.name
            keep.parent.mkdir(exist_ok=True)
            shutil.move(case.path, keep)
            recent.append(keep)
            if len(recent) >= BATCH_EVERY:
                tally.batches += 1
                tally.failures += _batch(recent, work / "batch-out")
                for p in recent:
                    p.unlink()
                recent = []
    return tally


def _batch(files: list[Path], out: Path) -> list[str]:
    try:
        result = run_batch(files, BatchOptions(out, use_cache=False), workers=1)
        write_outputs(result, out)
    except Exception:
        return ["batch: " + traceback.format_exc(limit=-6)]
    return [f"batch: {p}" for p in live_markup((out / "index.md").read_text(), set(_links(out)))]


def _links(out: Path) -> Iterator[str]:
    yield from (f"runs/{p.name}" for p in (out / "runs").glob("*.md"))
    yield from (p.name for p in out.glob("*.png"))


def _numbers(cases: int | None, only: int | None) -> Iterator[int]:
    if only is not None:
        yield only
        return
    number = 0
    while cases is None or number < cases:
        yield number
        number += 1


_FORMATS: dict[Path, str] = {}


def _format_of(seed: Path) -> str:
    if seed not in _FORMATS:
        try:
            _FORMATS[seed] = detect_format(seed).name
        except AnalyzerError:
            _FORMATS[seed] = "(no format)"
    return _FORMATS[seed]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=None)
    parser.add_argument("--seconds", type=float, default=None)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--replay", type=int, default=None, help="run this one case number")
    args = parser.parse_args()
    if args.cases is None and args.seconds is None and args.replay is None:
        args.seconds = 60.0
    tally = run(args.cases, args.seconds, args.seed, args.replay)
    print(f"{tally.cases} cases, {tally.charted} with charts, {tally.batches} batches")
    print("outcomes:", dict(tally.outcomes))
    print("by format:", dict(sorted(tally.by_format.items())))
    print("by mutator:", dict(sorted(tally.by_mutator.items())))
    print(f"slowest: {tally.slowest[1]} {tally.slowest[0]:.2f} s")
    print(f"{len(tally.failures)} failing")
    for failure in tally.failures[:50]:
        print(" -", failure)
    raise SystemExit(1 if tally.failures else 0)


if __name__ == "__main__":
    main()
