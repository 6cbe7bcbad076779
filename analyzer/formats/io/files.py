"""Opening a log: decompressed, transcoded, unwrapped, streamed as text."""

from __future__ import annotations

import gzip
import io
from collections.abc import Iterator
from pathlib import Path
from typing import IO, cast

from ...errors import LogFormatError
from .container_logs import ContainerLog, line_times, unwrapper
from .streams import DerivedStream
from .transcode import Utf16AsUtf8, is_utf16, skips_utf8_bom

SNIFF_BYTES = 64 * 1024
_PEEK_BYTES = 64  # enough to tell a container log's first record
_GZIP_MAGIC = b"\x1f\x8b"


def is_gzip(path: Path) -> bool:
    with path.open("rb") as fh:
        return fh.read(2) == _GZIP_MAGIC


def open_bytes(path: Path) -> IO[bytes]:
    """Open a log's bytes as UTF-8 text: .gz content decompressed, UTF-16 (with a BOM)
    transcoded, a UTF-8 BOM skipped, and a container runtime's log file (Docker json-file,
    Kubernetes CRI) unwrapped, all transparently."""
    fh = _open_utf8(path)
    unwrap = unwrapper(fh.peek(_PEEK_BYTES))  # type: ignore[attr-defined]
    if unwrap is None:
        return fh
    return cast(IO[bytes], io.BufferedReader(ContainerLog(fh, unwrap), buffer_size=1 << 20))


def _open_utf8(path: Path) -> IO[bytes]:
    """The file's bytes as UTF-8: decompressed, UTF-16 transcoded, a UTF-8 BOM skipped."""
    fh = _open_stored(path)
    head = fh.peek(_PEEK_BYTES)  # type: ignore[attr-defined]
    if skips_utf8_bom(head):
        fh.read(3)
    elif is_utf16(head):
        fh = cast(IO[bytes], io.BufferedReader(Utf16AsUtf8(fh), buffer_size=1 << 20))
    return fh


def _open_stored(path: Path) -> IO[bytes]:
    """The file's bytes, decompressed if it is gzip."""
    if is_gzip(path):
        limit = max(GZIP_MIN_LIMIT, GZIP_MAX_RATIO * path.stat().st_size)
        raw = cast(IO[bytes], gzip.open(path, "rb"))  # noqa: SIM115 (closed by the stream)
        bounded = BoundedGzip(raw, path, limit)
        return cast(IO[bytes], io.BufferedReader(bounded, buffer_size=1 << 20))
    return path.open("rb")


# A log compresses 5-150x (a looping agent's repeats are the most compressible text there
# is); a gzip bomb, 1000x and more. Past the limit the file is refused, not read into memory.
GZIP_MAX_RATIO = 1000
GZIP_MIN_LIMIT = 1 << 30


class BoundedGzip(DerivedStream):
    """A gzip file's content, refused with a one-line error past ``limit`` bytes."""

    def __init__(self, raw: IO[bytes], path: Path, limit: int) -> None:
        super().__init__(raw)
        self._path, self._limit, self._read = path, limit, 0

    def _next(self) -> bytes | None:
        piece = self._raw.read(1 << 20)
        if not piece:
            return None
        self._read += len(piece)
        if self._read > self._limit:
            raise LogFormatError(
                self._path,
                f"decompresses to more than {self._limit >> 20} MiB "
                f"({GZIP_MAX_RATIO}x its size): refused as a gzip bomb",
            )
        return piece


def runtime_times(path: Path) -> list[str] | None:
    """A container log's time of each output line (see ``io.container_logs``); None otherwise."""
    with _open_utf8(path) as fh:
        unwrap = unwrapper(fh.peek(_PEEK_BYTES))  # type: ignore[attr-defined]
        return None if unwrap is None else line_times(fh, unwrap)


def is_plain(path: Path) -> bool:
    """The file's bytes are the log's own text from its first byte (not compressed, transcoded,
    behind a BOM or wrapped), so byte offsets can cut it."""
    with path.open("rb") as fh:
        head = fh.read(_PEEK_BYTES)
    return not (
        head.startswith(_GZIP_MAGIC) or skips_utf8_bom(head) or is_utf16(head) or unwrapper(head)
    )


def open_text(path: Path) -> IO[str]:
    """Open a log as text, as ``open_bytes`` reads it; bad bytes are replaced."""
    return io.TextIOWrapper(open_bytes(path), encoding="utf-8", errors="replace", newline="")


def read_head(path: Path, size: int = SNIFF_BYTES) -> str:
    """The first ``size`` characters of the log, as ``open_text`` reads it."""
    with open_text(path) as fh:
        return fh.read(size)


def iter_lines(path: Path) -> Iterator[tuple[int, str]]:
    """(1-based line number, line without its newline), streamed."""
    with open_text(path) as fh:
        for number, line in enumerate(fh, 1):
            yield number, line.rstrip("\r\n")
