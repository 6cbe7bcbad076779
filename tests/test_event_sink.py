"""The event sink keeps each value in its own column, whatever order it stores rows in."""

from __future__ import annotations

from datetime import UTC, datetime

from analyzer.formats.base import EventSink
from analyzer.schema import EVENT_SCHEMA


def test_every_argument_lands_in_its_own_column() -> None:
    sink = EventSink("classic-console", run_id="run-a")
    given = {
        "ref": "ref-1",
        "agent": "agent-1",
        "recipient": "recipient-1",
        "content": "content-1",
        "subkind": "speaker_selected",
        "ts": datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC),
        "tool_name": "tool-1",
        "tool_call_id": "call-1",
        "tool_args": '{"a":1}',
        "prompt_tokens": 11,
        "completion_tokens": 12,
        "duration_ms": 13.5,
        "is_error": True,
        "model": "model-1",
        "cost_usd": 0.25,
    }
    sink.add("other", 7, **given)  # type: ignore[arg-type]
    sink.add("message", 9, content="second")
    assert len(sink) == 2
    row = sink.frame().row(0, named=True)
    assert set(row) == set(EVENT_SCHEMA.names())
    expected = {
        **{("source_ref" if k == "ref" else k): v for k, v in given.items()},
        "run_id": "run-a",
        "seq": 0,
        "source_line": 7,
        "kind": "other",
        "source_format": "classic-console",
    }
    assert row == expected


def test_seq_counts_per_run() -> None:
    sink = EventSink("classic-console")
    sink.add("message", 1)
    sink.run_id = "other"
    sink.add("message", 2)
    sink.add("message", 3)
    frame = sink.frame()
    assert frame["seq"].to_list() == [0, 0, 1]
    assert frame["run_id"].to_list() == ["run-1", "other", "other"]


def test_bulk_rows_keep_their_place_and_count_in_their_run() -> None:
    import polars as pl

    sink = EventSink("classic-console")
    sink.add("message", 1, content="first")
    sink.add_rows(
        pl.DataFrame(
            {
                "source_line": [2, 3],
                "kind": ["message", "other"],
                "subkind": [None, "speaker_selected"],
                "content": ["bulk a", "bulk b"],
            }
        )
    )
    sink.add("message", 4, content="last")
    assert len(sink) == 4
    frame = sink.frame()
    assert frame["content"].to_list() == ["first", "bulk a", "bulk b", "last"]
    assert frame["seq"].to_list() == [0, 1, 2, 3]
    assert frame["source_line"].to_list() == [1, 2, 3, 4]
    assert frame["is_error"].to_list() == [False] * 4
    assert frame["source_format"].unique().to_list() == ["classic-console"]
