"""LOOP06 (orchestrator stalls): where it fires and where it must stay silent."""

from __future__ import annotations

from typing import Any

import pytest

from ..conftest import SAMPLES, make_events
from .cases import Case, assert_case, fire

# --- LOOP06: Magentic-One's own ledger --------------------------------------------------------


def ledger_row(satisfied: bool, stuck: bool, line: int) -> dict[str, Any]:
    text = f"satisfied={satisfied} in_loop={stuck} progress={not stuck} next=browser"
    return {
        "kind": "other",
        "subkind": "ledger",
        "agent": "MagenticOneOrchestrator",
        "content": text,
        "line": line,
    }


def replan(line: int) -> dict[str, Any]:
    return {
        "kind": "other",
        "subkind": "replan",
        "agent": "MagenticOneOrchestrator",
        "content": "Stall count exceeded, re-planning",
        "line": line,
    }


CASES: list[Case] = [
    (
        "re-planned three times, stuck",
        [r for i in range(3) for r in (ledger_row(False, True, 2 * i + 1), replan(2 * i + 2))],
        [1, 3, 5, 4],
    ),
    (
        "re-planned, then declared success",
        [
            *(r for i in range(3) for r in (ledger_row(False, True, 2 * i + 1), replan(2 * i + 2))),
            ledger_row(True, False, 9),
        ],
        [],
    ),
    ("re-planned once", [ledger_row(False, True, 1), replan(2), ledger_row(False, False, 3)], []),
]


@pytest.mark.parametrize(("case", "rows", "seqs"), CASES, ids=[c[0] for c in CASES])
def test_loop06_cases(case: str, rows: list[dict[str, Any]], seqs: list[int]) -> None:
    assert_case("LOOP06", rows, seqs)


def test_loop06_reads_the_orchestrators_replans_unless_it_declared_success() -> None:
    stuck = make_events(
        *(r for i in range(3) for r in (ledger_row(False, True, 2 * i + 1), replan(2 * i + 2)))
    )
    (found,) = fire("LOOP06", stuck)
    assert found.metrics["replans"] == 3 and "browser" in found.summary
    recovered = make_events(
        *(r for i in range(3) for r in (ledger_row(False, True, 2 * i + 1), replan(2 * i + 2))),
        ledger_row(True, False, 9),
    )
    assert fire("LOOP06", recovered) == []
    once = make_events(ledger_row(False, True, 1), replan(2), ledger_row(False, False, 3))
    assert fire("LOOP06", once) == []


@pytest.mark.parametrize("form", ["console.txt", "events.log", "otel.json"])
def test_loop06_fires_on_the_recorded_magentic_one_stall_in_every_form(form: str) -> None:
    from analyzer import analyze_file

    run = analyze_file(SAMPLES / "agentchat/loop_magentic_one_stalls" / form).runs[0]
    assert "LOOP06" in run.diagnosis.because
    healthy = analyze_file(SAMPLES / "agentchat/healthy_magentic_one" / form).runs[0]
    assert "LOOP06" not in {f.code for f in healthy.findings}
