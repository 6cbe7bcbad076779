"""A large log parsed in spans on several processes must give exactly the sequential parse:
same events, run ids, seq, line numbers and skipped lines, wherever the cuts fall."""

from __future__ import annotations

import gzip
import multiprocessing as mp
import os
import tempfile
import threading
import time
from itertools import pairwise
from pathlib import Path

import pytest
from polars.testing import assert_frame_equal

from analyzer import fastpaths
from analyzer.fastpaths import FallbackError
from analyzer.formats.agentchat_logging.text import AgentchatLogging, _parse_span, _starts_record
from analyzer.formats.base import ParsedLog
from analyzer.formats.io import split_parse
from analyzer.formats.io.line_batches import Span
from analyzer.formats.io.split_parse import cut, guided, merge, parse_in_parts, plan

from ..conftest import SAMPLES
from .test_agentchat import rewrite
from .test_agentchat_bulk import STYLES

AC = SAMPLES / "agentchat"


@pytest.fixture(scope="module")
def many_runs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Every recorded AgentChat logging sample in one file: eleven team runs, tracebacks of
    interrupted runs, streamed calls, tool errors, a 1 MB context."""
    path = tmp_path_factory.mktemp("split") / "all.log"
    path.write_bytes(b"".join(p.read_bytes() for p in sorted(AC.glob("*/events.log"))))
    return path


def sequential(path: Path) -> ParsedLog:
    part = _parse_span(path, Span())
    return ParsedLog(part.events, part.skipped, None, part.coverage)


def in_spans(path: Path, spans: list[Span]) -> ParsedLog:
    return merge([_parse_span(path, span) for span in spans])


def assert_same(got: ParsedLog, want: ParsedLog) -> None:
    assert want.events.height > 0
    assert_frame_equal(got.events, want.events)
    assert got.skipped == want.skipped
    assert got.coverage == want.coverage and got.coverage is not None


@pytest.mark.parametrize("parts", [2, 3, 5, 8, 13])
def test_any_number_of_spans_gives_the_sequential_parse(many_runs: Path, parts: int) -> None:
    spans = cut(many_runs, parts, _starts_record)
    assert len(spans) == parts
    assert_same(in_spans(many_runs, spans), sequential(many_runs))


@pytest.mark.parametrize("style", ["pipes", "level-first", "padded", "pid-thread"])
def test_cuts_are_found_whatever_the_format_string(style: str, tmp_path: Path) -> None:
    path = rewrite(AC / "reentry_team_run/events.log", tmp_path / "app.log", STYLES[style])
    spans = cut(path, 6, _starts_record)
    assert len(spans) == 6
    assert_same(in_spans(path, spans), sequential(path))


def test_a_span_per_few_records_still_gives_the_sequential_parse(tmp_path: Path) -> None:
    # The extreme: spans a few records long, so nearly every chat message is first seen in
    # one span and seen again in the next ones, and most spans name no run of their own.
    path = AC / "loop_swarm_pingpong/events.log"
    offsets, at = [], 0
    for line in path.read_bytes().splitlines(keepends=True):
        if _starts_record(line.decode().rstrip("\n")):
            offsets.append(at)
        at += len(line)
    starts = [0, *offsets[1 :: max(1, len(offsets) // 30)]]
    spans = [Span(s, e) for s, e in zip(starts, [*starts[1:], None], strict=True)]
    assert len(spans) > 20
    assert_same(in_spans(path, spans), sequential(path))


def test_spans_cover_the_file_and_start_at_record_starts(many_runs: Path) -> None:
    spans = cut(many_runs, 8, _starts_record)
    raw = many_runs.read_bytes()
    assert spans[0].start == 0 and spans[-1].end is None
    for left, right in pairwise(spans):
        assert left.end == right.start
        assert raw[right.start - 1 : right.start] == b"\n"
        line = raw[right.start : raw.index(b"\n", right.start)].decode()
        assert _starts_record(line)


def test_a_cut_never_falls_inside_a_traceback(tmp_path: Path) -> None:
    # A record followed by a long traceback: the cut point lands inside it and must move on
    # to the next record, or the traceback's error would be lost or split in two.
    head = "2026-11-24 10:00:00,000 - autogen_core - INFO - Publishing message\n"
    error = "2026-11-24 10:00:01,000 - autogen_core - ERROR - Error processing publish message\n"
    trace = "".join(f'  File "mod{i}.py", line {i}, in f\n    call()\n' for i in range(4000))
    tail = "ValueError: boom\n" + head
    path = tmp_path / "trace.log"
    path.write_text(head + error + "Traceback (most recent call last):\n" + trace + tail)
    spans = cut(path, 2, _starts_record)
    assert len(spans) == 2 and spans[1].start == path.stat().st_size - len(head)
    got = in_spans(path, spans)
    assert got.events["content"].str.contains("ValueError: boom").sum() == 1
    assert_same(got, sequential(path))


@pytest.mark.parametrize("size", [(1 << 30) + 12345, 200 << 20, 20 << 20, 9 << 20])
@pytest.mark.parametrize("processes", [2, 4])
def test_guided_spans_shrink_towards_the_end_within_bounds(size: int, processes: int) -> None:
    starts = guided(size, processes)
    sizes = [end - start for start, end in pairwise([*starts, size])]
    assert starts[0] == 0 and sum(sizes) == size
    assert all(b <= a for a, b in pairwise(sizes[:-1]))  # the rest may top the last one up
    assert max(sizes) <= split_parse.MAX_SPAN_BYTES
    assert min(sizes) >= split_parse.MIN_SPAN_BYTES or len(sizes) == 1
    assert sizes[-1] < 2 * split_parse.MIN_SPAN_BYTES or len(sizes) == 1
    if size > 1 << 30:  # enough for the bounds to bite at both ends
        assert sizes[0] == split_parse.MAX_SPAN_BYTES and len(sizes) > 4 * processes


def copy_of(path: Path, into: Path) -> Path:
    """A file of its own, so a worker's flag (see ``waits_for_a_worker``) is this test's."""
    into.mkdir(exist_ok=True)
    copy = into / path.name
    copy.write_bytes(path.read_bytes())
    return copy


def worker_flag(path: Path) -> Path:
    return path.with_name(path.name + ".worker-took-a-span")


def waits_for_a_worker(path: Path, span: Span) -> split_parse.Part:
    """Parses, but in this process not before a worker has taken a span: spans go to whoever
    asks first, and a small file would otherwise be parsed here before any worker started."""
    if mp.parent_process() is not None:
        worker_flag(path).touch()
    else:
        deadline = time.monotonic() + 60
        while not worker_flag(path).exists() and time.monotonic() < deadline:
            time.sleep(0.01)
    return _parse_span(path, span)


def test_worker_processes_give_the_sequential_parse(
    many_runs: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))  # where workers leave their events
    path = copy_of(many_runs, tmp_path / "in")
    merged = parse_in_parts(path, waits_for_a_worker, cut(path, 6, _starts_record))
    assert merged is not None and worker_flag(path).exists()
    assert_same(merged, sequential(path))
    assert not list(tmp_path.glob("autogen-postmortem-*"))


def fails_here(path: Path, span: Span) -> split_parse.Part:
    """Parses in the workers (leaving a file per span beside ``path``), fails in this
    process."""
    if mp.parent_process() is None:
        raise ValueError("cannot parse this span")
    path.with_name(f"{path.name}.worker-span-{span.start}").touch()
    return _parse_span(path, span)


def dies_in_a_worker(path: Path, span: Span) -> split_parse.Part:
    """Parses here (once a worker has taken a span); the worker dies as if killed (no
    exception, no result)."""
    if mp.parent_process() is not None:
        worker_flag(path).touch()
        os._exit(1)
    return waits_for_a_worker(path, span)


def test_no_room_for_the_workers_files_means_a_sequential_parse(
    many_runs: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "missing"))
    with pytest.raises(FallbackError, match="split-parse fell back: FileNotFoundError"):
        parse_in_parts(many_runs, _parse_span, cut(many_runs, 2, _starts_record))


@pytest.mark.parametrize(
    ("parse_span", "parts"), [(fails_here, 3), (dies_in_a_worker, 2)], ids=["failed", "killed"]
)
@pytest.mark.usefixtures("fallbacks")
def test_a_failed_parse_or_killed_worker_leaves_no_worker_files(
    parse_span: split_parse.ParseSpan,
    parts: int,
    many_runs: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    path = copy_of(many_runs, tmp_path / "in")
    assert parse_in_parts(path, parse_span, cut(path, parts, _starts_record)) is None
    assert not list(tmp_path.glob("autogen-postmortem-*"))


@pytest.mark.usefixtures("fallbacks")
def test_a_failed_parse_here_stops_the_workers_taking_more_spans(tmp_path: Path) -> None:
    # The sequential parse that follows would report the error: the workers parsing the rest
    # of the file first would only delay it.
    path = copy_of(AC / "loop_swarm_pingpong/events.log", tmp_path / "in")
    assert parse_in_parts(path, fails_here, cut(path, 40, _starts_record)) is None
    assert len(list(path.parent.glob("*.worker-span-*"))) <= 1


def test_parse_splits_large_files_only(
    many_runs: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(split_parse.ENV_PROCESSES, "3")
    size = many_runs.stat().st_size
    assert size < split_parse.SPLIT_PARSE.limit and len(plan(many_runs, _starts_record)) == 1
    monkeypatch.setenv(fastpaths.ENV_MODE, "always")  # as if it were large
    spans = plan(many_runs, _starts_record)
    assert len(spans) == len(guided(size, 3)) > 4
    packed = tmp_path / "all.log.gz"
    packed.write_bytes(gzip.compress(many_runs.read_bytes()))  # gzip cannot be cut by offset
    assert len(plan(packed, _starts_record)) == 1
    monkeypatch.setenv(split_parse.ENV_PROCESSES, "1")
    assert len(plan(many_runs, _starts_record)) == 1


def failing(path: Path, span: Span) -> split_parse.Part:
    """A span parser that fails in the worker (MemoryError) and here (ValueError). Module-level,
    so the worker can receive it: a nested function cannot be pickled, and the task then never
    reaches the worker at all."""
    raise MemoryError if span.start else ValueError("cannot parse this span")


@pytest.mark.usefixtures("tiny_spans")
def test_parse_uses_the_spans_and_falls_back_when_a_part_fails(
    many_runs: Path, merges: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    want = sequential(many_runs)
    assert_same(AgentchatLogging.parse(many_runs), want)
    assert merges == [len(guided(many_runs.stat().st_size, 2))] and merges[0] > 4

    # A span's parse error is the log's: the sequential parse reports it, no fallback.
    assert parse_in_parts(many_runs, failing, cut(many_runs, 2, _starts_record)) is None
    monkeypatch.setattr(split_parse, "parse_in_parts", lambda *a: None)
    assert_same(AgentchatLogging.parse(many_runs), want)


def test_no_pool_thread_outlives_the_parse(many_runs: Path) -> None:
    """A pool left to wind down on its own once kept the interpreter from exiting (its manager
    thread was still being joined at exit): the parse returns only once the pool is gone."""
    from concurrent.futures.process import _ExecutorManagerThread

    assert parse_in_parts(many_runs, _parse_span, cut(many_runs, 2, _starts_record))
    assert not [t for t in threading.enumerate() if isinstance(t, _ExecutorManagerThread)]


def test_merged_events_are_one_chunk_per_column(many_runs: Path) -> None:
    # The detectors query every column of the merged table; over one chunk per span they
    # took 40% longer on a 1 GB log.
    spans = cut(many_runs, 6, _starts_record)
    merged = merge([_parse_span(many_runs, span) for span in spans])
    events, _ = merged.events, merged.skipped
    assert set(events.n_chunks("all")) == {1}
