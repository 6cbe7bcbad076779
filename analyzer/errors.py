"""Library errors. Every message starts with the file (and line, where there is one)."""

from __future__ import annotations

import re
from pathlib import Path


class AnalyzerError(Exception):
    """Base class: something about one input file stops its analysis."""

    def __init__(self, path: Path | str, reason: str, line: int | None = None) -> None:
        self.path = display_path(path)
        self.line = line
        self.reason = one_line(reason)
        where = f"{self.path}:{line}" if line else self.path
        super().__init__(f"{where}: {self.reason}")


class LogFormatError(AnalyzerError):
    """The file claims a known format but its content is broken (truncated, garbled, empty)."""


class UnknownFormatError(AnalyzerError):
    """No parser recognises the file."""


REASON_LIMIT = 300


_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f]")


def one_line(reason: str) -> str:
    """A reason as one line of at most ``REASON_LIMIT`` characters, control characters
    replaced: a decoder's message can quote the log's bytes (a SQLite column's text, escape
    sequences and all)."""
    flat = _CONTROL.sub("\ufffd", " ".join(reason.split()))
    return flat if len(flat) <= REASON_LIMIT else flat[: REASON_LIMIT - 1] + "…"


def display_path(path: Path | str) -> str:
    """A path as text that any output can hold: bytes that are not UTF-8 (kept by Python as
    lone surrogates) become U+FFFD."""
    text = str(path)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return text.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    return text
