"""The program output inside a container runtime's log file, read transparently (like gzip).

A run in a container leaves its console transcript or logging output wrapped line by line:
Docker's json-file driver writes ``{"log": "<text>\\n", "stream": "stdout", "time": "..."}``,
Kubernetes (CRI) ``<time> stdout F <text>``. Both split lines longer than 16 KiB into partial
records (no newline in the text; CRI tags them ``P``), so concatenating the texts gives the
output back exactly. Line numbers then count lines of that output: the wrapper's own lines
when no line was split.
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable, Iterator
from typing import IO

import orjson

_DOCKER = re.compile(rb'^\{"log":"')
_CRI = re.compile(rb"^(\d{4}-\d{2}-\d{2}T\S+) (?:stdout|stderr) ([FP]) ?")


def unwrapper(first_line: bytes) -> Callable[[bytes], bytes | None] | None:
    """How to get the output out of each line of a file that starts with ``first_line``:
    None if it is not a container log."""
    if _DOCKER.match(first_line):
        return _docker_text
    if _CRI.match(first_line):
        return _cri_text
    return None


def _docker_text(line: bytes) -> bytes | None:
    try:
        record = orjson.loads(line)
    except orjson.JSONDecodeError:
        return None  # a record cut short (the runtime was killed mid-write)
    text = record.get("log") if isinstance(record, dict) else None
    return text.encode() if isinstance(text, str) else None


def _cri_text(line: bytes) -> bytes | None:
    match = _CRI.match(line)
    if match is None:
        return None
    text = line[match.end() :].rstrip(b"\r\n")
    return text + b"\n" if match[2] == b"F" else text


class ContainerLog(io.RawIOBase):
    """A read-only stream of the output inside ``raw``, a container log."""

    def __init__(self, raw: IO[bytes], unwrap: Callable[[bytes], bytes | None]) -> None:
        self._raw = raw
        self._texts: Iterator[bytes] = (t for line in raw if (t := unwrap(line)) is not None)
        self._pending = b""

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        parts, size = [self._pending], len(self._pending)
        while size < len(buffer) and (text := next(self._texts, None)) is not None:
            parts.append(text)
            size += len(text)
        data = b"".join(parts)
        n = min(len(buffer), len(data))
        buffer[:n] = data[:n]
        self._pending = data[n:]
        return n

    def close(self) -> None:
        self._raw.close()
        super().close()
