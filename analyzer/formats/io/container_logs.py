"""The program output inside a container runtime's log file, read transparently (like gzip).

A run in a container leaves its console transcript or logging output wrapped line by line:
Docker's json-file driver writes ``{"log": "<text>\\n", "stream": "stdout", "time": "..."}``,
Kubernetes (CRI) ``<time> stdout F <text>``. Both split lines longer than 16 KiB into partial
records (no newline in the text; CRI tags them ``P``), so concatenating the texts gives the
output back exactly. Line numbers then count lines of that output: the wrapper's own lines
when no line was split. The runtime's time of each line is kept aside (``line_times``): a
console transcript has none of its own, and silences are evidence.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import IO

import orjson

from .streams import DerivedStream

_DOCKER = re.compile(rb'^\{\s*"log"\s*:\s*"')
_CRI = re.compile(rb"^(\d{4}-\d{2}-\d{2}T\S+) (?:stdout|stderr) ([FP]) ?")


Timed = tuple[bytes, str] | None  # (output text, the runtime's time) of one record
Unwrap = Callable[[bytes], Timed]


def unwrapper(first_line: bytes) -> Unwrap | None:
    """How to get the output (and its time) out of each line of a file that starts with
    ``first_line``: None if it is not a container log."""
    if _DOCKER.match(first_line):
        return _docker_record
    if _CRI.match(first_line):
        return _cri_record
    return None


def _docker_record(line: bytes) -> Timed:
    try:
        record = orjson.loads(line)
    except orjson.JSONDecodeError:
        return None  # a record cut short (the runtime was killed mid-write)
    if not isinstance(record, dict) or not isinstance(text := record.get("log"), str):
        return None
    return text.encode(), str(record.get("time") or "")


def _cri_record(line: bytes) -> Timed:
    match = _CRI.match(line)
    if match is None:
        return None
    text = line[match.end() :].rstrip(b"\r\n")
    return (text + b"\n" if match[2] == b"F" else text), match[1].decode()


def line_times(raw: IO[bytes], unwrap: Unwrap) -> list[str]:
    """The runtime's time of each output line (of its first record), in order."""
    times, start = [], ""
    for line in raw:
        if (record := unwrap(line)) is None:
            continue
        text, when = record
        start = start or when
        for _ in range(text.count(b"\n")):
            times.append(start)
            start = ""
    if start:  # a last line without its newline
        times.append(start)
    return times


class ContainerLog(DerivedStream):
    """A read-only stream of the output inside ``raw``, a container log."""

    def __init__(self, raw: IO[bytes], unwrap: Unwrap) -> None:
        super().__init__(raw)
        self._texts: Iterator[bytes] = (r[0] for line in raw if (r := unwrap(line)) is not None)

    def _next(self) -> bytes | None:
        return next(self._texts, None)
