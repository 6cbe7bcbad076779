"""The event contract: strict kinds, contiguous seq, documented subkinds."""

from __future__ import annotations

import polars as pl
import pytest

from analyzer.formats.base import EventSink
from analyzer.schema import EVENT_SCHEMA, validate_events

from .conftest import make_events, msg


def test_unknown_kind_is_rejected_not_nulled() -> None:
    sink = EventSink("test")
    sink.add("bogus", 1)
    with pytest.raises(pl.exceptions.InvalidOperationError):
        sink.frame()


def test_validate_events_checks_schema_seq_and_subkinds() -> None:
    good = make_events(msg("a", "hi"), msg("b", "ho"))
    validate_events(good)
    assert good.schema == EVENT_SCHEMA
    with pytest.raises(ValueError, match="not contiguous"):
        validate_events(good.with_columns(seq=pl.Series([0, 2], dtype=pl.UInt32)))
    with pytest.raises(ValueError, match="unknown subkinds"):
        validate_events(good.with_columns(subkind=pl.lit("made_up")))
