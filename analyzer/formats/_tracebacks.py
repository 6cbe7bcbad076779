"""Collect multi-line Python tracebacks from console text (shared by both console parsers)."""

from __future__ import annotations

import re

from .base import EventSink

TRACEBACK_START = re.compile(r"Traceback \(most recent call last\):\s*$")
# A Python warning on stderr (``path.py:20: UserWarning: ...``): known, not AutoGen's; the
# source line ``warnings`` prints under it is indented.
PY_WARNING = re.compile(r"^\S.*?\.py:\d+: \w*Warning: ")


class PythonWarnings:
    """Python warnings on stderr among a console's lines: known, not AutoGen's output."""

    def __init__(self) -> None:
        self.last = -1  # the line of the last warning

    def claims(self, number: int, text: str) -> bool:
        """The line is a warning, or one of the indented lines right under it: the rest of a
        multi-line message (pydantic's serializer warnings) and the source line."""
        if "Warning: " in text and PY_WARNING.match(text):
            self.last = number
            return True
        if number == self.last + 1 and text[:1].isspace():
            self.last = number
            return True
        return False


# A frame line: a traceback pasted without its header (a fragment from an issue) starts here.
FRAME = re.compile(r'^\s+File "[^"]+", line \d+')
_CHAIN = re.compile(
    r"^(During handling of the above exception|The above exception was the direct cause)"
)
# The final line of a traceback: a dotted exception name at column 0, maybe a message.
EXCEPTION_LINE = re.compile(
    r"^([A-Za-z_][\w.]*(?:Error|Exception|Interrupt|Exit|Warning|Exceeded)|KeyboardInterrupt|StopIteration|CancelledError)\b(:.*)?$"
)


_HTTPX_MORE = "For more information check: https://developer.mozilla.org/"


class TracebackCollector:
    """Feed lines after a ``Traceback`` header; ``feed`` returns False once the block ended."""

    def __init__(self, first_line: int, frame: str | None = None) -> None:
        """``frame``: the traceback's first line when its header is missing (a fragment)."""
        self.first_line = first_line
        self.lines: list[str] = ["Traceback (most recent call last):"]
        self._after_exception = False
        if frame is not None:
            self.lines.append(frame)

    def feed(self, line: str) -> bool:
        if self._after_exception:
            if not line.strip():
                self.lines.append(line)
                return True
            if _CHAIN.match(line) or TRACEBACK_START.match(line):
                self._after_exception = False
                self.lines.append(line)
                return True
            # RuntimeError messages of agentchat embed an agent traceback after "Traceback:";
            # httpx's HTTPStatusError message has a second line (httpx/_models.py).
            if line.startswith(("Traceback:", "  File ", "    ", _HTTPX_MORE)):
                self.lines.append(line)
                return True
            return False
        self.lines.append(line)
        if EXCEPTION_LINE.match(line):
            self._after_exception = True
        return True

    @property
    def text(self) -> str:
        return "\n".join(self.lines).rstrip()

    @property
    def exception(self) -> str:
        """The last exception line (what finally stopped the process)."""
        for line in reversed(self.lines):
            if EXCEPTION_LINE.match(line):
                return line
        return ""

    @property
    def is_interrupt(self) -> bool:
        return self.exception.startswith("KeyboardInterrupt")

    def emit(self, sink: EventSink) -> None:
        """The finished traceback as one error event at its first line."""
        sink.add(
            "error",
            self.first_line,
            subkind="interrupt" if self.is_interrupt else "traceback",
            content=self.text,
            is_error=True,
        )
