"""The classic JSON-lines formats (runtime file log, IOStream events) parsed in spans must give
the sequential parse: one record per line, so any line end is a cut; the runtime log's tool
names that an earlier record gives are resolved after the merge."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from analyzer.formats import classic_events_json, classic_runtime_file
from analyzer.formats._runtime_records import resolve_tool_names
from analyzer.formats.base import EventSink, ParsedLog
from analyzer.formats.io import split_parse
from analyzer.formats.io.line_batches import Span
from analyzer.formats.io.split_parse import cut, merge

from ..conftest import SAMPLES

CLASSIC = sorted((SAMPLES / "classic").iterdir())
FORMATS = {
    "runtime.log": (classic_runtime_file.ClassicRuntimeFile, classic_runtime_file._parse_span),
    "events.jsonl": (classic_events_json.ClassicEventsJson, classic_events_json._parse_span),
}


@pytest.fixture(scope="module", params=sorted(FORMATS))
def joined(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Every classic sample of one format in one file (the runtime logs: one session each)."""
    path = tmp_path_factory.mktemp("joined") / request.param
    path.write_bytes(b"".join((d / request.param).read_bytes() for d in CLASSIC))
    return path


def sequential(path: Path, monkeypatch: pytest.MonkeyPatch) -> ParsedLog:
    with monkeypatch.context() as m:
        m.setenv(split_parse.ENV_PROCESSES, "1")
        return FORMATS[path.name][0].parse(path)


def in_spans(path: Path, spans: list[Span]) -> ParsedLog:
    merged = merge([FORMATS[path.name][1](path, span) for span in spans])
    events, skipped = merged.events, merged.skipped
    resolved = resolve_tool_names(events) if path.name == "runtime.log" else events
    return ParsedLog(resolved, skipped)


@pytest.mark.parametrize("parts", [2, 5, 13, 40])
def test_spans_give_the_sequential_parse(
    joined: Path, parts: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    want = sequential(joined, monkeypatch)
    got = in_spans(joined, cut(joined, parts, lambda line: True))
    assert want.events.height > 500
    assert_frame_equal(got.events, want.events)
    assert got.skipped == want.skipped
    if joined.name == "runtime.log":
        assert want.events["run_id"].n_unique() == len(CLASSIC)


@pytest.mark.usefixtures("tiny_spans")
def test_parse_uses_worker_processes_for_a_large_file(
    joined: Path, merges: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    parsed = FORMATS[joined.name][0].parse(joined)
    assert merges and merges[0] > 4
    want = sequential(joined, monkeypatch)
    assert_frame_equal(parsed.events, want.events)
    assert parsed.skipped == want.skipped


def test_a_function_named_only_by_an_earlier_span_keeps_its_name() -> None:
    # ag2's function_use records carry the arguments, not the function's name: it is the
    # name of the last call with those arguments, here logged in the span before.
    path = SAMPLES / "classic/healthy_tool_terminate/runtime.log"
    raw = path.read_bytes()
    at = raw.rindex(b"\n", 0, raw.index(b'"input_args"')) + 1  # the first function_use line
    first, second = (classic_runtime_file._parse_span(path, s) for s in (Span(0, at), Span(at)))
    uses = pl.col("subkind") == "tool_exec_end"
    assert second.events.filter(uses)["tool_name"].null_count() > 0  # unknown in its span
    events = resolve_tool_names(merge([first, second]).events)
    assert events.filter(uses)["tool_name"].null_count() == 0


@pytest.mark.usefixtures("fast_paths")  # in polars, and walked in Python
def test_names_come_from_the_last_earlier_call_only() -> None:
    sink = EventSink("classic-runtime-file")
    sink.add("tool_result", 1, tool_call_id="c1", tool_name="own")  # before any call: own name
    sink.add("tool_call", 2, tool_call_id="c1", tool_name="first", tool_args='{"a": 1}')
    sink.add("tool_call", 3, tool_call_id="c1", tool_name="second", tool_args='{"a": 1}')
    sink.add("tool_result", 4, tool_call_id="c1", tool_name="own")
    sink.add("other", 5, subkind="tool_exec_end", tool_args='{"a": 1}')
    sink.add("other", 6, subkind="tool_exec_end", tool_args='{"a": 1}', tool_name="given")
    sink.add("other", 7, subkind="tool_exec_end", tool_args='{"a": 2}')
    sink.add("tool_call", 8, tool_call_id="c1", tool_name="later", tool_args='{"a": 2}')
    sink.add("tool_call", 9, tool_call_id="c1", tool_args='{"a": 1}')  # the last: no name
    sink.add("tool_result", 10, tool_call_id="c1", tool_name="own")
    sink.add("other", 11, subkind="tool_exec_end", tool_args='{"a": 1}')
    sink.add("tool_result", 12, tool_name="own")  # no id: its own name
    assert resolve_tool_names(sink.frame())["tool_name"].to_list() == [
        *("own", "first", "second", "second", "second", "given", None, "later", None, "own"),
        *(None, "own"),
    ]
