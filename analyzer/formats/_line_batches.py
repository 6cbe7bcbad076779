"""A log's lines in bulk, for parsers of large line-oriented logs.

polars scans the file (streaming, on every core) and runs the parser's filters and column
extraction in Rust, so only the lines a parser needs ever become Python strings. Frames
arrive in file order with a 1-based ``line`` column and the line as ``text``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from itertools import islice
from pathlib import Path

import polars as pl

from .base import is_gzip, iter_lines

Prepare = Callable[[pl.LazyFrame], pl.LazyFrame]
BATCH_ROWS = 50_000


def line_batches(path: Path, prepare: Prepare) -> Iterator[pl.DataFrame]:
    """``prepare`` (filters, extra columns) applied to the file's lines, batch by batch."""
    if is_gzip(path):  # polars would inflate the whole file in memory first
        yield from _python_batches(path, prepare, after=0)
        return
    scan = pl.scan_lines(
        path, name="text", row_index_name="line", row_index_offset=1, glob=False
    ).with_columns(pl.col("line").cast(pl.Int64))
    done = 0
    try:
        for batch in prepare(scan).collect_batches(chunk_size=BATCH_ROWS):
            if batch.height:
                yield batch
                done = batch["line"][-1]
    except pl.exceptions.ComputeError:
        # Invalid UTF-8 somewhere: read on from where we stopped, replacing bad bytes.
        # Lines past ``done`` that the scan had dropped are simply filtered again.
        yield from _python_batches(path, prepare, after=done)


def _python_batches(path: Path, prepare: Prepare, after: int) -> Iterator[pl.DataFrame]:
    lines = iter_lines(path)
    for _ in islice(lines, after):
        pass
    while chunk := list(islice(lines, BATCH_ROWS)):
        numbers, texts = zip(*chunk, strict=True)
        frame = pl.LazyFrame(
            {"line": numbers, "text": texts}, schema={"line": pl.Int64, "text": pl.String}
        )
        batch = prepare(frame).collect()
        if batch.height:
            yield batch
