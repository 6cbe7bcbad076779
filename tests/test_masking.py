"""Masking runs in polars (Rust regex); it must hide what Python's re would with the same
patterns, on real messages and on the tokens it is for."""

from __future__ import annotations

import re

import polars as pl

from analyzer.formats import parse_log
from analyzer.masking import MASKS, masked

from .conftest import labelled_samples

TRICKY = [
    "job 42 failed at 2026-11-24T10:00:01.123Z, retry 3.5 s later",
    "call_AbC123xyz and chatcmpl-9 and toolu_01ABCDEFG and run_abcdef",
    "uuid 8F14E45F-CEEA-467A-9A2B-3C0D1E2F3A4B in ids/8f14e45f-ceea-467a-9a2b-3c0d1e2f3a4b",
    "hex 0xDEADbeef, sha deadbeefdeadbeef0123 and word cafe",
    "digits \u0661\u0662\u0663 (Arabic-Indic) and full-width \uff11\uff12",
    "2026-11-24 10:00 and 10:00:01,5+01:00",
    "",
]


def python_mask(text: str) -> str:
    for pattern, token in MASKS:
        text = re.sub(pattern, token, text)
    return text


def test_polars_masking_equals_python_re() -> None:
    texts = list(TRICKY)
    for path, _ in labelled_samples():
        events = parse_log(path)[1].events
        texts += events["content"].drop_nulls().head(200).to_list()
        texts += events["tool_args"].drop_nulls().head(50).to_list()
    got = pl.select(masked(pl.Series(texts, dtype=pl.String))).to_series().to_list()
    assert len(texts) > 2000
    assert got == [python_mask(t) for t in texts]


def test_masking_hides_the_volatile_tokens() -> None:
    got = pl.select(masked(pl.Series([TRICKY[0], TRICKY[1], None]))).to_series().to_list()
    assert got[0] == "job <N> failed at <TS>, retry <N> s later"
    assert got[1].startswith("<ID> and chatcmpl-<N> and <ID> and <ID>")
    assert got[2] == ""
