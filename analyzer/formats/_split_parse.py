"""One large plain log parsed on every core, with the result a sequential parse would give.

The file is cut into spans, each starting at a line where the sequential parser ends any
record in progress (the format says which lines those are). The first span is parsed in this
process while worker processes parse the others. A span's parser does not know what the lines
before it established, so each part reports what the merge needs to put it back:
- its run id is ``PENDING_RUN`` until the span names a run; the merge carries the previous
  span's last run over those events;
- AutoGen logs a chat message once per hop and only the first becomes an event, keyed in a
  ``seen`` set: a part lists the keys it saw first with the rows each one emitted, and the merge
  drops the rows of keys an earlier span already saw;
- line numbers start at 1 in every span; ``seq`` restarts per run: both are renumbered.
Anything that goes wrong in a worker (not in the parse itself) makes the caller parse
sequentially, so parallelism can only change the speed.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import tempfile
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path
from typing import BinaryIO

import polars as pl

from ._line_batches import Span
from .base import EventSink, ParsedLog, Skipped, is_plain, require_events

PENDING_RUN = "\x00pending"  # a span's run before it names one; never a real run id
MIN_SPAN_BYTES = 64 << 20  # below this a worker's start-up (~0.35 s, imports) is not repaid
_BOUNDARY_WINDOW = 4 << 20  # how far past a cut point to look for a record start
# A worker parses from ~0.35 s after the split (process start, imports); this process reads
# ~100 MB/s meanwhile. Measured on 1 GB: equal halves, the worker finished 0.3-0.5 s later.
_WORKER_START_BYTES = 32 << 20
ENV_PROCESSES = "AUTOGEN_POSTMORTEM_PARSE_PROCESSES"  # "1" turns splitting off


@dataclass(frozen=True, slots=True)
class Part:
    """What one span's parse hands to the merge."""

    events: pl.DataFrame
    skipped: tuple[Skipped, ...]
    lines: int  # lines in the span
    last_run: str  # the run current at the span's end (PENDING_RUN if it named none)
    firsts: tuple[tuple[str, int, int], ...]  # (key, first row, end row) per key seen first

    @classmethod
    def of(cls, sink: EventSink, span: Span, firsts: Sequence[tuple[str, int, int]]) -> Part:
        """The part a span's parse left in ``sink``."""
        return cls(sink.frame(), tuple(sink.skipped), span.lines, sink.run_id, tuple(firsts))


def span_sink(source_format: str, span: Span) -> EventSink:
    """Where a span's events go: the first span's run is the default one until the log names
    its own, any other span's is ``PENDING_RUN`` (the merge carries the previous run over)."""
    return EventSink(source_format, EventSink.DEFAULT_RUN if not span.start else PENDING_RUN)


ParseSpan = Callable[[Path, Span], Part]
StartsRecord = Callable[[str], bool]


def parse_log_in_spans(
    path: Path, parse_span: ParseSpan, starts_record: StartsRecord, what: str
) -> ParsedLog:
    """``path`` parsed on every core when it is large (see ``plan``), else in one span; the
    sequential result either way. ``what`` names the records in the no-events error."""
    spans = plan(path, starts_record)
    if len(spans) > 1 and (merged := parse_in_parts(path, parse_span, spans)):
        events, skipped = merged
    else:
        part = parse_span(path, Span())
        events, skipped = part.events, part.skipped
    require_events(path, events, what)
    return ParsedLog(events, skipped)


def plan(path: Path, starts_record: StartsRecord, min_span: int | None = None) -> list[Span]:
    """The spans to parse ``path`` in: one (the whole file) unless it is a large plain file
    and there are spare cores."""
    try:
        size = path.stat().st_size
    except OSError:
        return [Span()]
    parts = min(_processes(), size // max(1, min_span or MIN_SPAN_BYTES))
    if parts < 2 or not is_plain(path):
        return [Span()]
    return cut(path, parts, starts_record)


def cut(path: Path, parts: int, starts_record: StartsRecord) -> list[Span]:
    """``parts`` spans, each after the first starting at a record start (a cut point with none
    in the next few MB is dropped). The first, parsed here while the workers start, is longer
    by what this process reads meanwhile; the others are of equal size."""
    size = path.stat().st_size
    head = min(_WORKER_START_BYTES, size // (4 * parts))
    each = (size - head) // parts
    starts = [0]
    with path.open("rb") as fh:
        for k in range(1, parts):
            at = _record_start_after(fh, max(starts[-1] + 1, head + each * k), starts_record)
            if at is not None and at < size:
                starts.append(at)
    ends: list[int | None] = [*starts[1:], None]
    return [Span(start, end) for start, end in zip(starts, ends, strict=True)]


def _record_start_after(fh: BinaryIO, offset: int, starts_record: StartsRecord) -> int | None:
    """The byte offset of the first line after ``offset`` that starts a record."""
    fh.seek(offset - 1)
    window = fh.read(_BOUNDARY_WINDOW)
    at = window.find(b"\n") + 1  # the first line that begins at or after offset
    while at:
        end = window.find(b"\n", at)
        if end < 0:
            return None  # the line runs past the window: it cannot be judged
        if starts_record(window[at:end].decode("utf-8", errors="replace").rstrip("\r")):
            return offset - 1 + at
        at = end + 1
    return None


def parse_in_parts(
    path: Path, parse_span: ParseSpan, spans: Sequence[Span]
) -> tuple[pl.DataFrame, tuple[Skipped, ...]] | None:
    """Parse the spans (the first here, the rest in worker processes) and merge them; None if
    the workers could not be used (the caller then parses sequentially)."""
    # Never fork a process that runs polars' thread pool: it can deadlock.
    method = "forkserver" if "forkserver" in mp.get_all_start_methods() else "spawn"
    pool = ProcessPoolExecutor(len(spans) - 1, mp_context=mp.get_context(method))
    files: list[str] = []  # the workers' event files: named and removed here, whatever they do
    try:
        files += [_scratch_file() for _ in spans[1:]]  # no room there: parse sequentially
        others = [
            pool.submit(_parse_and_ship, parse_span, path, span, file)
            for span, file in zip(spans[1:], files, strict=True)
        ]
        first = parse_span(path, spans[0])
        parts = [first, *(f.result().unpack() for f in others)]
    except Exception:  # a broken pool, or a parse error the sequential parse raises again
        return None
    finally:
        # Wait for the workers to exit (no measurable cost on 1 GB): a pool left to wind down
        # on its own (wait=False) whose task never reached a worker kept its manager thread
        # alive, and the interpreter's exit hung joining it.
        pool.shutdown(wait=True, cancel_futures=True)
        for file in files:
            Path(file).unlink(missing_ok=True)
    return merge(parts)


@dataclass(frozen=True, slots=True)
class _Shipped:
    """A worker's ``Part`` on its way back, its events (left out of ``part``) in an Arrow IPC
    file: pickled, the ~40 MB frame of half a 1 GB log took 0.2-0.8 s to reach this process;
    the file, ~0.05 s."""

    events_file: str
    part: Part

    def unpack(self) -> Part:
        # Read whole, not memory-mapped: a mapped file could not be deleted on every system.
        return replace(self.part, events=pl.read_ipc(Path(self.events_file).read_bytes()))


def _scratch_file() -> str:
    fd, name = tempfile.mkstemp(prefix="autogen-postmortem-", suffix=".arrow")
    os.close(fd)
    return name


def _parse_and_ship(parse_span: ParseSpan, path: Path, span: Span, file: str) -> _Shipped:
    """In a worker: the span parsed, its events written to ``file``."""
    part = parse_span(path, span)
    part.events.write_ipc(file, compression="uncompressed")
    return _Shipped(file, replace(part, events=part.events.clear()))


def merge(parts: Sequence[Part]) -> tuple[pl.DataFrame, tuple[Skipped, ...]]:
    """The parts' events as one sequential parse would have produced them."""
    seen: set[str] = set()
    frames, skipped = [], []
    offset, run = 0, EventSink.DEFAULT_RUN
    for part in parts:
        keep = [True] * part.events.height
        for key, start, end in part.firsts:
            if key in seen:
                keep[start:end] = [False] * (end - start)
        seen.update(key for key, _, _ in part.firsts)
        frames.append(
            part.events.filter(pl.Series(keep, dtype=pl.Boolean)).with_columns(
                run_id=pl.col("run_id").replace(PENDING_RUN, run),
                source_line=(pl.col("source_line") + offset).cast(pl.UInt32),
            )
        )
        skipped += [Skipped(s.line + offset, s.reason) for s in part.skipped]
        offset += part.lines
        run = run if part.last_run == PENDING_RUN else part.last_run
    events = pl.concat(frames).with_columns(
        seq=pl.int_range(pl.len(), dtype=pl.UInt32).over("run_id")
    )
    return events, tuple(skipped)


def _processes() -> int:
    """Processes a parse may use: none extra inside a daemon (a Dask worker may not have
    children) or when the environment says so."""
    if mp.current_process().daemon:
        return 1
    wanted = os.environ.get(ENV_PROCESSES, "")
    if wanted.isdigit() and int(wanted) > 0:
        return int(wanted)
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
