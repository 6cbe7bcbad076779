"""LOOP02 (near duplicate messages): where it fires and where it must stay silent."""

from __future__ import annotations

from typing import Any

import pytest

from ..conftest import SAMPLES, call, make_events, msg, result
from .cases import PARAPHRASES, TOPICS, VARIED, Case, assert_case, fire

CASES: list[Case] = [
    (
        "paraphrase cycle",
        [msg("user", "Build the importer.", "m")]
        + [
            msg("planner" if i % 2 == 0 else "coder", PARAPHRASES[(i // 2) % 2].format(n=i), "m")
            for i in range(12)
        ],
        [5, 6, 10, 11, 12],
    ),
    ("varied healthy chat", [msg(f"a{i % 3}", t, "m") for i, t in enumerate(VARIED)], []),
    (
        "an early repeat, then a long varied chat (below the share)",
        [msg("planner", "Let us agree on the importer plan first.", "m") for _ in range(4)]
        + [
            msg(f"a{i % 3}", f"{a} {b}: nothing else to add from my side.", "m")
            for i, (a, b) in enumerate((a, b) for a in TOPICS for b in TOPICS if a != b)
        ][:20],
        [],
    ),
]


@pytest.mark.parametrize(("case", "rows", "seqs"), CASES, ids=[c[0] for c in CASES])
def test_loop02_cases(case: str, rows: list[dict[str, Any]], seqs: list[int]) -> None:
    assert_case("LOOP02", rows, seqs)


# --- LOOP02: a failing-code loop's fix quotes the error that keeps coming back ---------------

FAILING_CODE = sorted(
    p for p in SAMPLES.glob("classic-releases/*__loop_failing_code/*") if p.name != "label.json"
)


@pytest.mark.parametrize("path", FAILING_CODE, ids=lambda p: str(p.relative_to(SAMPLES)))
def test_loop02_names_the_error_a_failing_code_loop_repeats(path: Any) -> None:
    from analyzer import analyze_file

    run = analyze_file(path).runs[0]
    (loop,) = [f for f in run.findings if f.code == "LOOP02"]
    assert "The same code keeps failing with `NameError: name 'sale' is not defined" in loop.fix
    assert "max_consecutive_auto_reply" in loop.fix
    # The failed code's traceback is the executor's message, not a crash of the run.
    assert run.ending is not None and run.ending.kind != "crashed"


def test_loop02_keeps_its_general_fix_for_repeats_without_failed_code() -> None:
    rows = [msg("a", "Let me check the build status again.", "b") for _ in range(6)]
    (found,) = fire("LOOP02", make_events(*rows))
    assert found.fix == ""  # the detector's family fix applies


def _reading(pages: list[int]) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for page in pages:
        rows.append(call("reader", "read_log", f'{{"page":{page}}}', f"call_{len(rows)}"))
        rows.append(result("reader", f"call_{len(rows) - 1}", "worker-7 retrying", "read_log"))
        rows.append(msg("reviewer", "Keep reading, the cause is not in this part yet."))
    return rows


def test_loop02_leaves_alone_what_is_said_while_a_tool_pages_forward() -> None:
    assert fire("LOOP02", make_events(*_reading([1, 2, 3, 4, 5]))) == []
    # the same page again and again: the same words are a loop
    assert len(fire("LOOP02", make_events(*_reading([1, 1, 1, 1, 1])))) == 1
    # a page number going back is not reading forward
    assert len(fire("LOOP02", make_events(*_reading([1, 2, 1, 2, 1])))) == 1
