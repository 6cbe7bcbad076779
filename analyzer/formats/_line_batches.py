"""A log's lines in bulk, for parsers of large line-oriented logs.

The file is read in blocks cut at line ends; polars splits each block into lines and runs the
parser's filters and column extraction in Rust (on every core), so only the lines a parser
needs ever become Python strings, and memory stays at a few blocks whatever the file size.
Frames arrive in file order with a 1-based ``line`` column and the line as ``text``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import polars as pl

from .base import open_bytes

Prepare = Callable[[pl.LazyFrame], pl.LazyFrame]
BLOCK_BYTES = 8 << 20  # larger blocks cost memory (polars keeps ~10x a block) for no speed


def line_batches(
    path: Path, prepare: Prepare, block_bytes: int = BLOCK_BYTES
) -> Iterator[pl.DataFrame]:
    """``prepare`` (filters, extra columns) applied to the file's lines, block by block.

    The next block is read and prepared on a helper thread (polars releases the GIL) while
    the caller works on the current one; two blocks in flight at most.
    """
    with ThreadPoolExecutor(max_workers=1) as helper:
        pending: Future[pl.DataFrame] | None = None
        for block, first in _blocks(path, block_bytes):
            ready, pending = pending, helper.submit(_frame, block, first, prepare)
            if ready is not None:
                yield ready.result()
        if pending is not None:
            yield pending.result()


def _blocks(path: Path, block_bytes: int) -> Iterator[tuple[bytes, int]]:
    """(whole lines, number of the first) in blocks of about ``block_bytes``."""
    first = 1
    with open_bytes(path) as fh:
        tail = b""
        while block := fh.read(block_bytes):
            block = tail + block
            cut = block.rfind(b"\n") + 1
            if not cut:  # one line longer than a block: keep reading
                tail = block
                continue
            block, tail = block[:cut], block[cut:]
            yield block, first
            first += block.count(b"\n")
        if tail:
            yield tail, first


def _frame(block: bytes, first: int, prepare: Prepare) -> pl.DataFrame:
    def lines(data: bytes) -> pl.LazyFrame:
        return pl.scan_lines(
            data, name="text", row_index_name="line", row_index_offset=first
        ).with_columns(pl.col("line").cast(pl.Int64))

    try:
        return prepare(lines(block)).collect()
    except pl.exceptions.ComputeError:  # invalid UTF-8: replace the bad bytes, as text files do
        fixed = block.decode("utf-8", errors="replace").encode()
        return prepare(lines(fixed)).collect()
