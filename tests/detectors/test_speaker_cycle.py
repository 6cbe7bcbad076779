"""LOOP03 (speaker cycle): where it fires and where it must stay silent."""

from __future__ import annotations

from typing import Any

import polars as pl
import pytest

from ..conftest import SAMPLES, make_events, msg
from .cases import Case, assert_case, fire


def _alternating(rounds: int) -> list[dict[str, Any]]:
    """``rounds`` speaker selections alternating between the planner and the coder."""
    return [
        {
            "kind": "other",
            "subkind": "speaker_selected",
            "recipient": "planner" if i % 2 else "coder",
            "content": "Next speaker",
        }
        for i in range(rounds)
    ]


_ROSTER = [msg("reviewer", "I will review at the end.", "chat_manager")]
CASES: list[Case] = [
    ("two of three members for 24 rounds", [*_ROSTER, *_alternating(24)], [1, 2, 22, 23, 24]),
    ("two members alternating: the whole team", _alternating(24), []),
    ("two of three for 4 rounds", [*_ROSTER, *_alternating(4)], []),
]


@pytest.mark.parametrize(("case", "rows", "seqs"), CASES, ids=[c[0] for c in CASES])
def test_loop03_cases(case: str, rows: list[dict[str, Any]], seqs: list[int]) -> None:
    assert_case("LOOP03", rows, seqs)


def test_speaker_cycle_fires_only_with_a_starved_member() -> None:
    selections = [
        {
            "kind": "other",
            "subkind": "speaker_selected",
            "recipient": "planner" if i % 2 else "coder",
            "content": "Next speaker",
        }
        for i in range(24)
    ]
    assert fire("LOOP03", make_events(*selections)) == []  # two members alternating
    roster = [msg("reviewer", "I will review at the end.", "chat_manager")]
    found = fire("LOOP03", make_events(*roster, *selections))
    assert len(found) == 1 and found[0].metrics["cycle_length"] == 24
    # A selection record without a name (blank recipient) is no turn and no member.
    blanks = [row | {"recipient": ""} if i % 6 == 5 else row for i, row in enumerate(selections)]
    found = fire("LOOP03", make_events(*roster, *blanks))
    assert len(found) == 1 and found[0].metrics == {"cycle_length": 20, "speakers": 2, "roster": 3}


def test_speaker_cycle_tail_is_the_longest_two_member_tail() -> None:
    """The vectorised tail search against the walk it replaced, on random turn orders."""
    import random

    from analyzer.detectors.speaker_cycle import _two_member_tail

    def walk(speakers: list[str]) -> tuple[int, set[str]]:
        start, names = len(speakers), set()
        while start and (speakers[start - 1] in names or len(names) < 2):
            start -= 1
            names.add(speakers[start])
        return start, names

    rng = random.Random(7)
    for _ in range(500):
        roster = ["a", "b", "c", "d"][: rng.randint(1, 4)]
        speakers = [rng.choice(roster) for _ in range(rng.randint(1, 30))]
        if rng.random() < 0.5:
            speakers += [rng.choice(roster[:2]) for _ in range(rng.randint(0, 20))]
        assert _two_member_tail(speakers) == walk(speakers), speakers


def test_speaker_cycle_in_a_two_member_team_needs_one_member_re_selected() -> None:
    def picks(names: list[str]) -> list[dict]:
        return [
            {"kind": "other", "subkind": "speaker_selected", "recipient": n, "content": "x"}
            for n in names
        ]

    starved = fire("LOOP03", make_events(*picks(["writer", "critic"] + ["writer"] * 10)))
    assert len(starved) == 1
    assert starved[0].metrics == {"cycle_length": 10, "speakers": 1, "roster": 2}
    assert "critic" in starved[0].summary
    assert fire("LOOP03", make_events(*picks(["writer", "critic"] * 6))) == []
    assert fire("LOOP03", make_events(*picks(["writer", "critic"] + ["writer"] * 4))) == []


def test_a_selector_falling_back_again_and_again_is_a_cycle() -> None:
    def picks(n: int, fallbacks: int) -> list[dict]:
        rows: list[dict] = []
        for k in range(n):
            if k < fallbacks:
                rows.append({"kind": "other", "subkind": "selector_fallback", "content": "x"})
            rows.append({"kind": "other", "subkind": "speaker_selected", "recipient": "coder"})
        return rows

    found = fire("LOOP03", make_events(msg("user", "fix it", "team"), *picks(8, 3)))
    assert len(found) == 1 and found[0].metrics["fallbacks"] == 3
    assert "no valid speaker 3 time(s)" in found[0].summary
    assert "user" not in found[0].summary  # the task's sender is no member the selector skips
    assert fire("LOOP03", make_events(msg("user", "fix it", "team"), *picks(8, 0))) == []
    assert fire("LOOP03", make_events(msg("user", "fix it", "team"), *picks(8, 1))) == []


def test_selector_fallbacks_are_read_from_agentchat_logging() -> None:
    from analyzer.formats import parse_log

    log = SAMPLES / "agentchat" / "loop_selector_same_agent" / "events.log"
    _, parsed = parse_log(log)
    fell_back = parsed.events.filter(pl.col("subkind") == "selector_fallback")
    warnings = log.read_text().count("Model failed to select a speaker after")
    assert fell_back.height == warnings > 0


@pytest.mark.parametrize(
    ("path", "words"),
    [
        ("agentchat/loop_graphflow_cycle/otel.json", "DiGraphBuilder.add_edge"),
        ("agentchat/loop_selector_same_agent/events.log", "selector_func"),
    ],
)
def test_loop03_fix_is_the_one_for_the_team_kind_the_run_names(path: str, words: str) -> None:
    from analyzer import analyze_file

    run = analyze_file(SAMPLES / path).runs[0]
    (found,) = [f for f in run.findings if f.code == "LOOP03"]
    assert words in found.fix
    other = "selector_func" if words != "selector_func" else "DiGraphBuilder"
    assert other not in found.fix
