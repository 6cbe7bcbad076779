"""Golden findings for every sample and golden Markdown for two: review changes in diffs.

Rewrite with ``make golden`` (``pytest --update-golden``).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from analyzer import analyze_file, fastpaths
from analyzer.formats import ALL_FORMATS, detect_format
from analyzer.formats.base import Sniff
from analyzer.formats.io.files import read_head
from analyzer.report.markdown import render_markdown

from .conftest import ROOT, labelled_samples

GOLDEN = Path(__file__).resolve().parent / "golden"


def summary(path: Path) -> dict:
    run = analyze_file(path.relative_to(ROOT)).runs[0]
    return {
        "verdict": [run.diagnosis.label, run.diagnosis.phase, run.diagnosis.confidence],
        "findings": [
            [f.code, round(f.score, 3), [e.seq for e in f.evidence]] for f in run.findings
        ],
    }


@pytest.mark.parametrize("mode", list(fastpaths.Mode))
def test_findings_golden(
    mode: fastpaths.Mode, update_golden: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every fast path taken, none, or each by its size: every sample reads the same."""
    monkeypatch.chdir(ROOT)
    monkeypatch.setenv(fastpaths.ENV_MODE, mode.value)
    actual = {str(p.relative_to(ROOT)): summary(p) for p, _ in labelled_samples()}
    target = GOLDEN / "findings.json"
    if update_golden and mode is fastpaths.Mode.AUTO:
        target.write_text(json.dumps(actual, indent=1, sort_keys=True) + "\n")
    expected = json.loads(target.read_text())
    # Which samples changed, each with its old and new reading: not a diff of every key.
    changed = {
        name: {"golden": expected.get(name), "now": actual.get(name)}
        for name in sorted(actual.keys() | expected.keys())
        if actual.get(name) != expected.get(name)
    }
    assert not changed, (
        f"{len(changed)} sample(s) read differently (make golden to accept):\n"
        + json.dumps(changed, indent=1)
    )


def claim(path: Path) -> list[str]:
    """The format that claims ``path``, and the sniff tier it claims it with."""
    head = read_head(path)
    fmt = detect_format(path)
    score = fmt.sniff(head)
    return [fmt.name, score.name if isinstance(score, Sniff) else f"graded {score:.2f}"]


def test_every_sample_is_claimed_by_its_format_at_a_named_tier(update_golden: bool) -> None:
    actual = {str(p.relative_to(ROOT)): claim(p) for p, _ in labelled_samples()}
    target = GOLDEN / "formats.json"
    if update_golden:
        target.write_text(json.dumps(actual, indent=1, sort_keys=True) + "\n")
    expected = json.loads(target.read_text())
    changed = {n: [expected.get(n), actual.get(n)] for n in actual.keys() | expected.keys()}
    changed = {n: pair for n, pair in sorted(changed.items()) if pair[0] != pair[1]}
    assert not changed, f"claimed differently (make golden to accept): {json.dumps(changed)}"
    assert {fmt for fmt, _ in actual.values()} == {f.name for f in ALL_FORMATS}


@pytest.mark.parametrize(
    "sample", ["classic/loop_groupchat_auto/console.txt", "classic/blocking_tool_sigint/logs.db"]
)
def test_markdown_golden(sample: str, update_golden: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    result = analyze_file(Path("sample_logs") / sample)
    text = render_markdown(result, result.runs[0], ["x.timeline.png"])
    target = GOLDEN / (sample.replace("/", "__") + ".md")
    if update_golden:
        target.write_text(text)
    assert text == target.read_text()
