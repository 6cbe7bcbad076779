"""A Python ``logging`` format string, compiled into the regex that splits its records.

For the files sniffing cannot settle (``--log-format``): the user gives the format string
their handler used, in any of logging's three styles (``%(name)s``, ``{name}``, ``${name}``),
and each line either starts a record of that shape or continues the one before.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .layouts import LEVEL_NAMES

# What each LogRecord attribute looks like when written; anything else is lazy text. Widths
# and padding (``%(levelname)-8s``) add spaces around a field, which the pattern allows.
_FIELD_PATTERNS = {
    "levelname": rf"(?:{LEVEL_NAMES})",
    "levelno": r"\d+",
    "lineno": r"\d+",
    "process": r"\d+",
    "thread": r"\d+",
    "msecs": r"\d+(?:\.\d+)?",
    "relativeCreated": r"\d+(?:\.\d+)?",
    "created": r"\d+(?:\.\d+)?",
    "name": r"[^\s\[\](){}<>|,]+",
    "message": r".*",
}
_PERCENT = re.compile(r"%\((\w+)\)[#0+ -]*\d*(?:\.\d+)?[diouxXeEfFgGcrsa]|%%")
_BRACE = re.compile(r"\{(\w+)(?:![rsa])?(?::[^{}]*)?\}|\{\{|\}\}")
_DOLLAR = re.compile(r"\$\{(\w+)\}|\$(\w+)|\$\$")
_KEPT = {
    "name": "logger",
    "levelname": "level",
    "asctime": "when",
    "msecs": "msecs",
    "message": "message",
}


@dataclass(frozen=True, slots=True)
class RecordFormat:
    """A compiled format string: ``split`` reads the first line of a record."""

    text: str
    pattern: re.Pattern[str]
    has_time: bool

    def split(self, line: str) -> tuple[str, str, str | None, str] | None:
        """(logger, level, time as written, message) if ``line`` starts a record."""
        m = self.pattern.match(line)
        if m is None:
            return None
        found = m.groupdict()
        when = found.get("when")
        if when and found.get("msecs") and not re.search(r"[.,]\d+$", when):
            when = f"{when}.{found['msecs'].split('.')[0].zfill(3)}"  # a datefmt without them
        return found["logger"], found.get("level") or "INFO", when, found.get("message") or ""


def compile_format(text: str) -> RecordFormat:
    """The regex of a logging format string. Raises ``ValueError`` on one that
    names no logger or no message: records of AutoGen's loggers could not be told apart."""
    style, token = _style(text)
    parts, pos, seen = ["^"], 0, set[str]()
    for m in token.finditer(text):
        parts.append(_literal(text[pos : m.start()]))
        pos = m.end()
        field = next((g for g in m.groups() if g), None)
        if field is None:  # an escaped %, { or $
            parts.append(re.escape(m[0][0]))
            continue
        padded = bool(re.search(r"\d", m[0])) and style != "$"
        body = _FIELD_PATTERNS.get(field, r"\S.*?" if field == "asctime" else r".*?")
        if field in _KEPT and field not in seen:
            body = f"(?P<{_KEPT[field]}>{body})"
        seen.add(field)
        parts.append(rf"\s*{body}\s*" if padded else body)
    parts.append(_literal(text[pos:]) + "$")
    missing = {"name", "message"} - seen
    if missing:
        raise ValueError(
            f"--log-format {text!r} has no {' and no '.join(sorted(missing))} field: "
            "AutoGen's records are told by their logger name, and read from their message"
        )
    return RecordFormat(text, re.compile("".join(parts)), "asctime" in seen)


def _style(text: str) -> tuple[str, re.Pattern[str]]:
    if _PERCENT.search(text):
        return "%", _PERCENT
    if _DOLLAR.search(text) and not _BRACE.search(text):
        return "$", _DOLLAR
    return "{", _BRACE


def _literal(text: str) -> str:
    """Literal text of the format; a run of spaces matches any run (padding, tabs)."""
    return "".join(r"\s+" if t[0].isspace() else re.escape(t) for t in re.findall(r"\s+|\S", text))
