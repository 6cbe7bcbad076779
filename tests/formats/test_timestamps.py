"""Logged times are read in bulk (``parse_stamps``) exactly as one by one (``parse_ts``)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta, timezone

import polars as pl
import pytest

from analyzer.formats.base import TS_TYPE, EventSink, Stamp, parse_stamps, parse_ts

TEXTS = [
    *("2026-11-24 20:45:39.570037", "2026-11-24 21:08:16,843", "2026-11-24T21:08:16.842775Z"),
    *("2026-11-24T21:08:16+00:00", "2026-11-24 20:45:39Z", "2026-11-24 20:45:39,5Z"),
    *("2026-11-24 20:45:39.5", "2026-11-24T20:45:39", "2026-11-24 20:45:39.123456+00:00"),
    # Not the bulk shape: offsets, dates alone, short or basic forms, padding, 7 digits.
    *("2026-11-24T21:08:16+05:30", "2026-11-24T20:45:39.123-01:00", "2026-11-24"),
    *(
        "2026-11-24 20:45",
        "20261124T204539",
        " 2026-11-24 20:45:39 ",
        "2026-11-24 20:45:39.1234567",
    ),
    # Times the bulk parser would take and parse_ts refuses (or the other way round).
    *("2026-02-30 10:00:00", "2026-11-24 24:00:00", "2026-11-24 23:59:60", "0000-01-01 00:00:00"),
    *("0999-01-01 00:00:00", "2026-11-24 20:45:39.", "2026-11-24 20:45:39+00", "garbage", ""),
]


def one_by_one(values: Sequence[Stamp]) -> list[datetime | None]:
    return [parse_ts(v) if isinstance(v, str) else v for v in values]


@pytest.fixture
def reading(fast_paths: object) -> None:
    """Both ways ``parse_stamps`` reads: in bulk (large logs) and one by one (small ones)."""


@pytest.mark.usefixtures("reading")
def test_bulk_reading_gives_what_reading_one_by_one_gives() -> None:
    got = parse_stamps(TEXTS).to_list()
    want = pl.Series(one_by_one(TEXTS), dtype=TS_TYPE).to_list()
    assert [(t, g) for t, g, w in zip(TEXTS, got, want, strict=True) if g != w] == []
    assert sum(v is not None for v in want) > len(TEXTS) / 2


@pytest.mark.usefixtures("reading")
def test_times_and_texts_and_others_mix_in_one_column() -> None:
    plus_two = timezone(timedelta(hours=2))
    values: list[Stamp] = [
        datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC),
        "2026-11-24 20:45:39,5",
        None,
        datetime(2026, 1, 2, 3, 4, 5, tzinfo=plus_two),
        12345,  # type: ignore[list-item]  # a garbled record's "timestamp"
        "2026-11-24T21:08:16+05:30",
    ]
    assert parse_stamps(values).to_list() == [
        datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC),
        datetime(2026, 11, 24, 20, 45, 39, 500000, tzinfo=UTC),
        None,
        datetime(2026, 1, 2, 1, 4, 5, tzinfo=UTC),
        None,
        datetime(2026, 11, 24, 15, 38, 16, tzinfo=UTC),
    ]


@pytest.mark.parametrize("when", ["2026-11-24 21:08:16,843", "2026-11-24T21:08:16+05:30", None])
def test_the_sink_reads_a_records_time_as_written(when: str | None) -> None:
    sink = EventSink("test")
    sink.add("message", 1, ts=when, content="hi")
    assert sink.frame()["ts"].to_list() == [parse_ts(when)]
