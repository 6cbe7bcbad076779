"""A log's lines in bulk, for parsers of large line-oriented logs.

The file is read in blocks cut at line ends; polars splits each block into lines and runs the
parser's filters and column extraction in Rust (on every core), so only the lines a parser
needs ever become Python strings, and memory stays at a few blocks whatever the file size.
Frames arrive in file order with a 1-based ``line`` column and the line as ``text``.
"""

from __future__ import annotations

import io
import sys
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from itertools import chain, islice
from pathlib import Path

import polars as pl

from .files import open_bytes

Prepare = Callable[[pl.LazyFrame], pl.LazyFrame]
# Several tables of the same lines (collected together, sharing their common work).
PrepareMany = Callable[[pl.DataFrame], tuple[pl.LazyFrame, ...]]
BLOCK_BYTES = 8 << 20  # larger blocks cost memory (polars keeps ~10x a block) for no speed


@dataclass(slots=True)
class Span:
    """A byte range of a plain file that starts at a line start (``end`` None: to the end).
    ``lines`` counts the lines read so far; line numbers inside a span start at 1."""

    start: int = 0
    end: int | None = None
    lines: int = 0


def line_batches(
    path: Path,
    prepare: Prepare,
    block_bytes: int = BLOCK_BYTES,
    span: Span | None = None,
) -> Iterator[pl.DataFrame]:
    """``prepare`` (filters, extra columns) applied to the file's lines, block by block."""
    for (batch,) in line_tables(path, lambda lines: (prepare(lines.lazy()),), block_bytes, span):
        yield batch


def line_tables(
    path: Path,
    prepare: PrepareMany,
    block_bytes: int = BLOCK_BYTES,
    span: Span | None = None,
    universal_newlines: bool = False,
) -> Iterator[tuple[pl.DataFrame, ...]]:
    """The tables ``prepare`` makes of the file's lines, block by block. With
    ``universal_newlines`` a lone carriage return ends a line too, as in a text file read by
    Python (a progress bar's redraws); otherwise only a newline does.

    The next block is read and prepared on a helper thread (polars releases the GIL) while
    the caller works on the current one; two blocks in flight at most. Blocks are framed one at
    a time in file order (one helper), which is what numbers their lines on from the last.
    """
    span = span or Span()
    blocks = _blocks(path, block_bytes, span)
    head = list(islice(blocks, 2))
    if len(head) < 2:  # a small file: starting the helper would cost more than the file
        yield from (
            _frame(block, cut_off, span, prepare, universal_newlines) for block, cut_off in head
        )
        return
    with ThreadPoolExecutor(max_workers=1) as helper:
        pending: Future[tuple[pl.DataFrame, ...]] | None = None
        for block, cut_off in chain(head, blocks):
            ready, pending = (
                pending,
                helper.submit(_frame, block, cut_off, span, prepare, universal_newlines),
            )
            if ready is not None:
                yield ready.result()
        if pending is not None:
            yield pending.result()


def numbered_lines(
    path: Path, span: Span, prepare: Prepare = lambda lines: lines
) -> Iterator[tuple[int, str]]:
    """(line number, text) of the lines ``prepare`` keeps, for parsers that read line by line."""
    for batch in line_batches(path, prepare, span=span):
        yield from zip(batch["line"].to_list(), batch["text"].to_list(), strict=True)


def _blocks(path: Path, block_bytes: int, span: Span) -> Iterator[tuple[bytes, bool]]:
    """(whole lines, whether a cut-off line follows them in the same bytes) in blocks of about
    ``block_bytes``; a cut-off line is read again at the start of the next block."""
    with open_bytes(path) as fh:
        # A plain file is re-read from the last line end rather than carrying the partial
        # line over: gluing it to the next block would copy every block once more.
        plain = isinstance(fh, io.BufferedReader) and fh.seekable()
        if span.start:
            fh.seek(span.start)
        left = sys.maxsize if span.end is None else span.end - span.start
        tail = b""
        while left > 0 and (block := fh.read(min(left, block_bytes))):
            left -= len(block)
            cut = block.rfind(b"\n") + 1
            if not cut:  # one line longer than a block: keep reading
                tail += block
                continue
            rest = len(block) - cut
            if plain and rest:
                fh.seek(-rest, io.SEEK_CUR)
                left += rest
                if not tail and block[-1] < 0x80:
                    # Not cut inside a character: the block goes whole and its cut-off line
                    # is dropped once framed, which spares copying ~8 MB to cut it off here.
                    yield block, True
                    continue
                yield tail + block[:cut], False
                tail = b""
                continue
            whole, tail = tail + block[:cut], block[cut:]
            yield whole, False
        if tail:
            yield tail, False  # a last line without its newline


def _frame(
    block: bytes, cut_off: bool, span: Span, prepare: PrepareMany, universal_newlines: bool
) -> tuple[pl.DataFrame, ...]:
    """``prepare`` of the block's lines (less a cut-off last one), numbered on from
    ``span.lines``, which it moves on: polars counts the lines it splits anyway."""
    if universal_newlines and block.count(b"\r") != block.count(b"\r\n"):
        return _prepared(
            _split_universal(block[: block.rfind(b"\n") + 1] if cut_off else block, span),
            span,
            prepare,
        )

    def lines(data: bytes) -> pl.DataFrame:
        found = (
            pl.scan_lines(data, name="text", row_index_name="line", row_index_offset=span.lines + 1)
            .with_columns(pl.col("line").cast(pl.Int64))
            .collect()
        )
        return found.head(found.height - 1) if cut_off else found

    try:
        numbered = lines(block)
    except pl.exceptions.ComputeError:  # invalid UTF-8: replace the bad bytes, as text files do
        numbered = lines(block.decode("utf-8", errors="replace").encode())
    return _prepared(numbered, span, prepare)


def _prepared(numbered: pl.DataFrame, span: Span, prepare: PrepareMany) -> tuple[pl.DataFrame, ...]:
    """The tables ``prepare`` makes of a block's numbered lines; the span counts them."""
    span.lines += numbered.height
    return tuple(pl.collect_all(prepare(numbered)))


def _split_universal(block: bytes, span: Span) -> pl.DataFrame:
    """A block holding a lone carriage return, split as Python's text files split lines
    (polars ends lines at newlines only), numbered on from ``span.lines``."""
    text = block.decode("utf-8", errors="replace").replace("\r\n", "\n").replace("\r", "\n")
    lines = text.split("\n")
    if lines and not lines[-1]:
        lines.pop()  # the newline ending the last line
    first = span.lines + 1
    return pl.DataFrame(
        {
            "line": pl.int_range(first, first + len(lines), dtype=pl.Int64, eager=True),
            "text": lines,
        },
        schema={"line": pl.Int64, "text": pl.String},
    )
