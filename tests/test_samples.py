"""Every real sample log gets its labelled verdict, phase and evidence, from every form."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from analyzer import analyze_file
from analyzer.formats.io.files import iter_lines

from .conftest import ROOT, labelled_samples

CASES = labelled_samples()


def test_there_are_samples_for_every_verdict() -> None:
    verdicts = {expected["verdict"] for _, expected in CASES}
    assert {
        "loop",
        "blocking_tool",
        "input_wait",
        "context_explosion",
        "recursive_reentry",
        "healthy",
    } <= verdicts
    healthy_scenarios = {p.parent.name for p, e in CASES if e["verdict"] == "healthy"}
    assert len(healthy_scenarios) >= 2


@pytest.mark.parametrize(
    ("path", "expected"), CASES, ids=[str(p.relative_to(ROOT)) for p, _ in CASES]
)
def test_sample_verdict(path: Path, expected: dict[str, Any]) -> None:
    result = analyze_file(path)
    # one run, unless the label says the log holds more (a SocietyOfMind's inner team logs
    # under its own team id): then every run gets the verdict
    assert len(result.runs) == expected.get("runs", 1)
    for other in result.runs[1:]:
        assert other.diagnosis.label == expected["verdict"], other.diagnosis.summary
    run = result.runs[0]
    d = run.diagnosis
    assert d.label == expected["verdict"], d.summary
    if expected["phase"] != "*":
        assert d.phase == expected["phase"]
    assert 0.0 <= d.confidence <= 1.0
    cited = [e for f in run.findings if f.code in d.because for e in f.evidence]
    assert cited, "a verdict must cite evidence"
    if expected["evidence"]:
        assert any(expected["evidence"] in e.excerpt for e in cited), [e.excerpt for e in cited]
    if path.suffix != ".db":
        n_lines = sum(1 for _ in iter_lines(path))
        assert all(1 <= e.source_line <= n_lines for e in cited)
    assert str(path) in d.summary  # the explanation cites file:line
