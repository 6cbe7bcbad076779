"""LOOP04 (empty replies): where it fires and where it must stay silent."""

from __future__ import annotations

from typing import Any

import pytest

from ..conftest import msg
from .cases import Case, assert_case

CASES: list[Case] = [
    (
        "three empty replies",
        [msg("u", "hi", "b"), msg("b", ""), msg("u", ""), msg("b", "")],
        [1, 2, 3],
    ),
    ("one empty reply", [msg("u", "hi", "b"), msg("b", ""), msg("u", "ok then")], []),
]


@pytest.mark.parametrize(("case", "rows", "seqs"), CASES, ids=[c[0] for c in CASES])
def test_loop04_cases(case: str, rows: list[dict[str, Any]], seqs: list[int]) -> None:
    assert_case("LOOP04", rows, seqs)
