"""RUN01 (run end): it reads every run's ending, so it reports on every run; its cases are
what it says: healthy where the run terminated, unknown where the log just stops."""

from __future__ import annotations

from typing import Any

import pytest

from ..conftest import make_events, msg
from .cases import Case, assert_case, fire

ALWAYS_REPORTS = True  # no silent case: every run gets its ending read

CASES: list[Case] = [
    (
        "terminated",
        [
            msg("user", "Plan the release.", "bot"),
            msg("bot", "Done. TERMINATE", "user"),
            {"kind": "termination", "content": "TERMINATE"},
        ],
        [2],
    ),
    ("the log just stops", [msg("user", "Plan it.", "bot"), msg("bot", "Working.", "user")], [1]),
]


@pytest.mark.parametrize(("case", "rows", "seqs"), CASES, ids=[c[0] for c in CASES])
def test_run01_cases(case: str, rows: list[dict[str, Any]], seqs: list[int]) -> None:
    assert_case("RUN01", rows, seqs)


def test_run01_names_what_it_read() -> None:
    (terminated,) = fire("RUN01", make_events(*CASES[0][1]))
    (stopped,) = fire("RUN01", make_events(*CASES[1][1]))
    assert (terminated.stall_class, stopped.stall_class) == ("healthy", "unknown")
