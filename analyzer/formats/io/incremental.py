"""A growing log parsed by its growth: each update parses only the records appended since the
last one, and the parts merge into what one parse of the whole file gives (``io.split_parse``).

The records up to the last record start are committed: parsed once, kept. The last record may
still be growing (a partial line, a message whose other lines are coming), so it is parsed
again at each update until a later record starts. A file that shrank or was replaced (a new
inode) starts over. Only plain files of the line-record formats (``Spanned``) parse this way;
``watch`` re-reads the others whole.
"""

from __future__ import annotations

import os
from pathlib import Path

from ...errors import LogFormatError
from ..base import ParsedLog, require_events
from .line_batches import Span
from .split_parse import Part, Spanned, merge

_READ = 1 << 20


class IncrementalParse:
    def __init__(self, path: Path, spanned: Spanned) -> None:
        self.path, self.spanned = path, spanned
        self.parts: list[Part] = []
        self.done = 0  # bytes committed (a record start, or 0)
        self.inode = -1

    def update(self) -> ParsedLog:
        """The whole file's parse as of now (its events equal ``spanned.parse``'s of the
        file's complete lines). Raises ``LogFormatError`` while it holds no record."""
        info = os.stat(self.path)
        if info.st_ino != self.inode or info.st_size < self.done:
            self.parts, self.done, self.inode = [], 0, info.st_ino
        complete, last_start = self._scan(info.st_size)
        if last_start > self.done:  # what lies before the last record start is final
            self.parts.append(self._part(self.done, last_start))
            self.done = last_start
        tail = [self._part(self.done, complete)] if complete > self.done else []
        parts = self.parts + tail
        if not parts:
            raise LogFormatError(
                self.path, f"no {self.spanned.what} found (empty or truncated file?)"
            )
        parsed = merge(parts)
        require_events(
            self.path, parsed.events, self.spanned.what, parsed.coverage, self.spanned.hint
        )
        return self.spanned.finish(parsed) if self.spanned.finish else parsed

    def _part(self, start: int, end: int) -> Part:
        return self.spanned.parse_span(self.path, Span(start, end))

    def _scan(self, size: int) -> tuple[int, int]:
        """(end of the last complete line, start of the last record that begins after
        ``done``) over the bytes after ``done``."""
        complete, last_start = self.done, self.done
        with self.path.open("rb") as fh:
            fh.seek(self.done)
            at, carry = self.done, b""
            while at < size:
                block = carry + fh.read(min(_READ, size - at))
                at += len(block) - len(carry)
                if not block:
                    break
                lines = block.split(b"\n")
                carry = lines.pop()  # no newline yet: not a complete line
                offset = at - len(block)
                for line in lines:
                    if offset > self.done and self.spanned.starts_record(
                        line.decode("utf-8", "replace")
                    ):
                        last_start = offset
                    offset += len(line) + 1
                complete = offset
        return complete, last_start
