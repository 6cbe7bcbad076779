"""The verdict from findings alone."""

from __future__ import annotations

from analyzer.classify import classify
from analyzer.config import DEFAULT
from analyzer.findings import Evidence, Finding


def finding(code: str, cls: str, score: float, phase: str = "none", line: int = 1) -> Finding:
    return Finding(
        code,
        code.lower(),
        cls,
        phase,
        score,
        f"{code} happened",
        (Evidence(0, line, "a", "x", "why"),),
        fix=f"fix {code}",
    )


END_OK = finding("RUN01", "healthy", 0.9)
END_CUT = finding("RUN01", "unknown", 0.5, "model_call")


def test_terminated_without_signals_is_healthy() -> None:
    d = classify([END_OK, finding("LOOP05", "loop", 0.3)], "x.log", DEFAULT)
    assert (d.label, d.phase) == ("healthy", "none")
    assert d.confidence == 0.75


def test_cut_off_without_signals_is_unknown_not_a_guess() -> None:
    d = classify([END_CUT, finding("LOOP03", "loop", 0.4)], "x.log", DEFAULT)
    assert (d.label, d.phase) == ("unknown", "model_call")


def test_best_class_wins_and_cites_file_lines() -> None:
    d = classify(
        [END_CUT, finding("BLOCK01", "blocking_tool", 0.9, "tool_execution", 7)], "run.log", DEFAULT
    )
    assert (d.label, d.phase, d.because) == ("blocking_tool", "tool_execution", ("BLOCK01",))
    assert "run.log:7" in d.summary and d.fix == "fix BLOCK01"


def test_a_cause_within_the_margin_beats_its_symptom() -> None:
    loop = [finding("LOOP01", "loop", 0.9), finding("LOOP02", "loop", 0.9)]
    d = classify(
        [*loop, finding("REENT01", "recursive_reentry", 0.9, "tool_execution"), END_CUT],
        "x",
        DEFAULT,
    )
    assert d.label == "recursive_reentry"
    assert d.confidence == round(0.9 - 0.1 * 0.95, 2)


def test_a_weak_cause_does_not_beat_a_strong_loop() -> None:
    d = classify(
        [finding("LOOP01", "loop", 0.9), finding("BLOCK01", "blocking_tool", 0.6), END_CUT],
        "x",
        DEFAULT,
    )
    assert d.label == "loop"
    assert d.confidence == round(0.9 - 0.25 * 0.6, 2)
