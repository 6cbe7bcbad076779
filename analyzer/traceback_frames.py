"""Python tracebacks as frames: where a stopped or crashed run was, read by several stages.

A logged traceback may chain several ("During handling of the above exception..."); each
chunk ends in the exception it raised. The interrupt that stopped a run is often not the last
chunk: shutdown raises more (``task_done() called too many times``) while handling it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

HEADER = "Traceback (most recent call last):"
# ``File "path", line N, in func`` at a line start (or after whitespace, for flattened text).
_FRAME = re.compile(
    r'(?:^|\s)File "([^"]+)", line (\d+), in (\S+)[^\n]*(?:\n(?![ \t]*File ")[ \t]+(\S.*))?', re.M
)
STOPPED = re.compile(r"\b(?:KeyboardInterrupt|CancelledError)\b")


# What a runtime raises while it is being torn down by a stop (SIGTERM, a cancelled task),
# after whatever it was doing: a sign of the stop, not a crash.
TEARDOWN = re.compile(
    r"task_done\(\) called too many times|CancelledError|Event loop is closed"
    r"|cannot schedule new futures after (interpreter )?shutdown|GeneratorExit|SystemExit"
)


@dataclass(frozen=True, slots=True)
class Frame:
    path: str
    line: int
    func: str
    code: str  # the source line printed under the frame ("" when absent)

    @property
    def file(self) -> str:
        return self.path.replace("\\", "/").rsplit("/", 1)[-1]

    def where(self) -> str:
        return f"{self.file}:{self.line} in {self.func}"


def chunks(text: str) -> list[str]:
    """The tracebacks chained in ``text``, outermost (first raised) first."""
    parts = text.split(HEADER)
    return [part for part in parts[1:] if part.strip()] or ([text] if text.strip() else [])


def frames(chunk: str) -> list[Frame]:
    out = []
    for path, line, func, code in _FRAME.findall(chunk):
        out.append(Frame(path, int(line), func, code.strip()))
    return out


_CHAINING = re.compile(
    r"\n\s*(?:During handling of the above exception|The above exception was the direct cause)[^\n]*\s*$"
)


def final(chunk: str) -> str:
    """The chunk's last line, less the chaining sentence: the exception it raised."""
    return (_CHAINING.sub("", chunk).strip().splitlines()[-1:] or [""])[0].strip()


def stopped_chunk(text: str) -> str:
    """The last chained traceback that ends in an interrupt (KeyboardInterrupt, CancelledError):
    where the run was when it was stopped; "" when none does."""
    hits = [chunk for chunk in chunks(text) if STOPPED.search(final(chunk))]
    return hits[-1] if hits else ""


def raised_at(text: str) -> str:
    """``file:line in func`` of the innermost frame of the last traceback ("" if none)."""
    found = frames((chunks(text) or [""])[-1])
    return found[-1].where() if found else ""
