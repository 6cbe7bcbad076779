"""Library errors. Every message starts with the file (and line, where there is one)."""

from __future__ import annotations

from pathlib import Path


class AnalyzerError(Exception):
    """Base class: something about one input file stops its analysis."""

    def __init__(self, path: Path | str, reason: str, line: int | None = None) -> None:
        self.path = str(path)
        self.line = line
        self.reason = reason
        where = f"{self.path}:{line}" if line else self.path
        super().__init__(f"{where}: {reason}")


class LogFormatError(AnalyzerError):
    """The file claims a known format but its content is broken (truncated, garbled, empty)."""


class UnknownFormatError(AnalyzerError):
    """No parser recognises the file."""
