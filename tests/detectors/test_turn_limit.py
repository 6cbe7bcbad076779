"""LOOP05 (turn limit): where it fires and where it must stay silent."""

from __future__ import annotations

from typing import Any

import pytest

from ..conftest import msg
from .cases import Case, assert_case

CASES: list[Case] = [
    (
        "limit reached",
        [msg("u", "hi"), {"kind": "termination", "content": "Maximum rounds (6) reached"}],
        [1],
    ),
    (
        "task done",
        [msg("u", "hi"), {"kind": "termination", "content": "Text 'TERMINATE' mentioned"}],
        [],
    ),
]


@pytest.mark.parametrize(("case", "rows", "seqs"), CASES, ids=[c[0] for c in CASES])
def test_loop05_cases(case: str, rows: list[dict[str, Any]], seqs: list[int]) -> None:
    assert_case("LOOP05", rows, seqs)
