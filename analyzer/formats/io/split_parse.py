"""One large plain log parsed on every core, with the result a sequential parse would give.

The file is cut into spans of ~32 MB, each starting at a line where the sequential parser ends
any record in progress (the format says which lines those are). This process and the worker
processes take the spans in file order from a shared counter until none is left: whoever is
free takes the next, so a worker that starts late (~0.35 s: process start, imports) or a
process slowed by the other's threads costs no more than one span at the end. A span's parser
does not know what the lines before it established, so each part reports what the merge needs
to put it back:
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
import pickle
import tempfile
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, BinaryIO

import polars as pl

from ...fastpaths import Mode, declare, fell_back, mode, take
from ..base import Coverage, EventSink, ParsedLog, Skipped, require_events
from .files import is_plain
from .line_batches import Span

PENDING_RUN = "\x00pending"  # a span's run before it names one; never a real run id
# Below its limit a worker's start-up (~0.35 s, imports) is not repaid.
SPLIT_PARSE = declare("split-parse", 128 << 20, "bytes", "a large plain log parsed on every core")
# Span sizes: guided, each a share of what is left, so the processes finish within a small span
# of each other; bounded because each span restarts the parser's memory of what it saw (on
# 100 MB, 12 spans cost no measurable CPU over 1) and the smallest still repays its start.
MAX_SPAN_BYTES, MIN_SPAN_BYTES = 64 << 20, 8 << 20
_BOUNDARY_WINDOW = 4 << 20  # how far past a cut point to look for a record start
ENV_PROCESSES = "AUTOGEN_POSTMORTEM_PARSE_PROCESSES"  # "1" turns splitting off


@dataclass(frozen=True, slots=True)
class Part:
    """What one span's parse hands to the merge."""

    events: pl.DataFrame
    skipped: tuple[Skipped, ...]
    lines: int  # lines in the span
    last_run: str  # the run current at the span's end (PENDING_RUN if it named none)
    firsts: tuple[tuple[str, int, int], ...]  # (key, first row, end row) per key seen first
    coverage: Coverage

    @classmethod
    def of(cls, sink: EventSink, span: Span, firsts: Sequence[tuple[str, int, int]]) -> Part:
        """The part a span's parse left in ``sink``."""
        return cls(
            sink.frame(),
            tuple(sink.skipped),
            span.lines,
            sink.run_id,
            tuple(firsts),
            sink.coverage(),
        )


def span_sink(source_format: str, span: Span) -> EventSink:
    """Where a span's events go: the first span's run is the default one until the log names
    its own, any other span's is ``PENDING_RUN`` (the merge carries the previous run over)."""
    return EventSink(source_format, EventSink.DEFAULT_RUN if not span.start else PENDING_RUN)


ParseSpan = Callable[[Path, Span], Part]
StartsRecord = Callable[[str], bool]


def parse_log_in_spans(
    path: Path, parse_span: ParseSpan, starts_record: StartsRecord, what: str, hint: str = ""
) -> ParsedLog:
    """``path`` parsed on every core when it is large (see ``plan``), else in one span; the
    sequential result either way. ``what`` names the records in the no-events error."""
    spans = plan(path, starts_record)
    parsed = parse_in_parts(path, parse_span, spans) if len(spans) > 1 else None
    if parsed is None:
        part = parse_span(path, Span())
        parsed = ParsedLog(part.events, part.skipped, None, part.coverage)
    require_events(path, parsed.events, what, parsed.coverage, hint)
    return parsed


def plan(path: Path, starts_record: StartsRecord) -> list[Span]:
    """The spans to parse ``path`` in: one (the whole file) unless it is a large plain file
    (``SPLIT_PARSE``) and there are spare cores."""
    try:
        size = path.stat().st_size
    except OSError:
        return [Span()]
    processes = _processes()
    if processes < 2 or not take(SPLIT_PARSE, size) or not is_plain(path):
        return [Span()]
    return cut_at(path, guided(size, processes), starts_record)


def guided(size: int, processes: int) -> list[int]:
    """Where the spans should start: each span a ``2 * processes``-th of the file from its
    start on (within the span bounds), so they shrink towards the end of the file."""
    most, least = MAX_SPAN_BYTES, MIN_SPAN_BYTES
    if mode() is Mode.ALWAYS:  # a small file too is cut into several spans
        most, least = max(1, size // 4), max(1, size // 16)
    offsets = [0]
    while True:
        left = size - offsets[-1]
        step = min(most, max(least, left // (2 * processes)))
        if left - step < least:  # the rest is the last span
            return offsets
        offsets.append(offsets[-1] + step)


def cut(path: Path, parts: int, starts_record: StartsRecord) -> list[Span]:
    """``parts`` spans of about equal size."""
    size = path.stat().st_size
    return cut_at(path, [size * k // parts for k in range(parts)], starts_record)


def cut_at(path: Path, offsets: Sequence[int], starts_record: StartsRecord) -> list[Span]:
    """Spans starting at the first record start at or after each offset (the first at 0; an
    offset with no record start in the next few MB is dropped)."""
    size = path.stat().st_size
    starts = [0]
    with path.open("rb") as fh:
        for offset in offsets[1:]:
            at = _record_start_after(fh, max(starts[-1] + 1, offset), starts_record)
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


def parse_in_parts(path: Path, parse_span: ParseSpan, spans: Sequence[Span]) -> ParsedLog | None:
    """Parse the spans (here and in worker processes, each taking the next span left) and
    merge them; None if the workers could not be used (the caller then parses sequentially)."""
    # Never fork a process that runs polars' thread pool: it can deadlock.
    context = mp.get_context(
        "forkserver" if "forkserver" in mp.get_all_start_methods() else "spawn"
    )
    workers = max(1, min(_processes(), len(spans)) - 1)
    claims = context.Value("i", 0)  # the next span to take; its lock makes taking atomic
    pool = ProcessPoolExecutor(workers, context, initializer=_share, initargs=(claims,))
    files: list[str] = []  # the workers' event files: named and removed here, whatever they do
    try:
        files += [_scratch_file() for _ in spans]  # no room there: parse sequentially
        theirs = [
            pool.submit(_parse_and_ship, parse_span, path, spans, files) for _ in range(workers)
        ]
        parts = {k: parse_span(path, spans[k]) for k in _taken(claims, len(spans))}
        for future in theirs:
            parts.update((k, shipped.unpack()) for k, shipped in future.result())
    except (BrokenProcessPool, OSError, pickle.PicklingError) as exc:  # the workers, not the log
        fell_back(SPLIT_PARSE, repr(exc))
        return None
    except Exception:  # a span's parse failed: the sequential parse reports it as it would
        return None
    finally:
        _take_all(claims, len(spans))  # a worker stops after its span, not at the file's end
        # Wait for the workers to exit (no measurable cost on 1 GB): a pool left to wind down
        # on its own (wait=False) whose task never reached a worker kept its manager thread
        # alive, and the interpreter's exit hung joining it.
        pool.shutdown(wait=True, cancel_futures=True)
        for file in files:
            Path(file).unlink(missing_ok=True)
    return merge([parts[k] for k in range(len(spans))])


Claims = Any  # multiprocessing's synchronized int: its type is private


def _taken(claims: Claims, count: int) -> Iterator[int]:
    """The spans this process takes, one at a time, until none is left."""
    while True:
        with claims.get_lock():
            k = claims.value
            claims.value = k + 1
        if k >= count:
            return
        yield k


def _take_all(claims: Claims, count: int) -> None:
    with claims.get_lock():
        claims.value = max(claims.value, count)


_CLAIMS: list[Claims] = []  # a worker's handle on the shared counter, set as it starts


def _share(claims: Claims) -> None:
    _CLAIMS[:] = [claims]


@dataclass(frozen=True, slots=True)
class _Shipped:
    """A worker's ``Part`` on its way back, its events (left out of ``part``) in an Arrow IPC
    file: pickled, the ~40 MB frame of half a 1 GB log took 0.2-0.8 s to reach this process;
    the file, ~0.05 s."""

    events_file: str
    part: Part

    def unpack(self) -> Part:
        # Through a file object: read whole, not memory-mapped (a mapped file could not be
        # deleted on every system), and ~3x faster than from the file's bytes (0.08 s a
        # 900,000-row part against 0.21 s).
        with open(self.events_file, "rb") as fh:
            return replace(self.part, events=pl.read_ipc(fh))


def _scratch_file() -> str:
    fd, name = tempfile.mkstemp(prefix="autogen-postmortem-", suffix=".arrow")
    os.close(fd)
    return name


def _parse_and_ship(
    parse_span: ParseSpan, path: Path, spans: Sequence[Span], files: Sequence[str]
) -> list[tuple[int, _Shipped]]:
    """In a worker: the spans it took, parsed, each one's events written to its file as soon
    as it is done (so only the last one's writing is not overlapped with other parsing)."""
    shipped = []
    for k in _taken(_CLAIMS[0], len(spans)):
        part = parse_span(path, spans[k])
        part.events.write_ipc(files[k], compression="uncompressed")
        shipped.append((k, _Shipped(files[k], replace(part, events=part.events.clear()))))
    return shipped


def merge(parts: Sequence[Part]) -> ParsedLog:
    """The parts' events as one sequential parse would have produced them."""
    seen: set[str] = set()
    frames, skipped = [], []
    coverage = Coverage(parts[0].coverage.unit, 0)
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
        coverage = coverage.plus(part.coverage, offset)
        offset += part.lines
        run = run if part.last_run == PENDING_RUN else part.last_run
    # One chunk per column: the detectors' queries over 23 chunks of a 1 GB log took 0.79 s
    # against 0.56 s over one (the copy, 0.01 s).
    events = pl.concat(frames, rechunk=True).with_columns(
        seq=pl.int_range(pl.len(), dtype=pl.UInt32).over("run_id")
    )
    return ParsedLog(events, tuple(skipped), None, coverage)


def _processes() -> int:
    """Processes a parse may use: none extra inside a daemon (a Dask worker may not have
    children) or when the environment says so."""
    if mp.current_process().daemon:
        return 1
    wanted = os.environ.get(ENV_PROCESSES, "")
    if wanted.isdigit() and int(wanted) > 0:
        return int(wanted)
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


@dataclass(frozen=True, slots=True)
class Spanned:
    """A format whose records are lines (or start at lines it can tell): how it parses a
    span, which lines start a record, what its records are called, and what it does to the
    merged events. ``parse`` is the format's whole parse; ``watch`` parses growth span by span
    with the same pieces (``io.incremental``)."""

    parse_span: ParseSpan
    starts_record: StartsRecord
    what: str
    finish: Callable[[ParsedLog], ParsedLog] | None = None
    hint: str = ""
    """What the no-events error suggests (the option that would read the file)."""

    def parse(self, path: Path) -> ParsedLog:
        parsed = parse_log_in_spans(path, self.parse_span, self.starts_record, self.what, self.hint)
        return self.finish(parsed) if self.finish else parsed
