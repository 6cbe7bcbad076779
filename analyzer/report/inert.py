"""One policy for text that comes from a log, per output kind: redacted, then made inert.

Every renderer passes each log-derived text (messages, agent and tool names, run ids, file
names, exception texts) through exactly one of these, so a log can neither leak a secret nor
act in the output: no live Markdown or HTML, no terminal escape sequences, no mathtext, no
table row split by a ``\\r``. Texts the tool wrote itself (labels, codes) need none.
"""

from __future__ import annotations

import re
from typing import Any, TypeVar, cast

from ..redact import redact

# C0/C1 controls (ESC starts terminal sequences; CR splits table rows), lone surrogates (an
# undecodable file name) and bidirectional overrides (text that reads other than it is).
_UNSAFE = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]"
)
_SPACE = re.compile(r"\s+")
# What CommonMark/GFM give meaning to inline: escapes, code, emphasis, links and images, raw
# HTML and entities, table cells, strikethrough, headings/quotes, GitHub's $math$. An
# underscore inside a word (snake_case) means nothing in GFM and stays as it is.
_MD_ESCAPES = str.maketrans({c: "\\" + c for c in "\\`*[]<>&|#~!$"})
_MD_UNDERSCORE = re.compile(r"(?<![A-Za-z0-9])_|_(?![A-Za-z0-9])")
# A list marker at the start of a paragraph: "- x", "+ x", "1. x", "1) x".
_MD_LINE_START = re.compile(r"^(?:([-+])|(\d{1,9})([.)]))(?= |$)")
# GFM links bare URLs (on ':' of '://') and 'www.' without brackets: break both triggers.
_MD_AUTOLINK = re.compile(r"(?i)(?<=[a-z0-9])(:)(?=//)|(?<=www)(\.)")
LABEL_LIMIT = 40
T = TypeVar("T")


def line(text: object) -> str:
    """One line of plain text: redacted, controls replaced, whitespace runs (CR, LF, tabs)
    folded to one space."""
    flat = _SPACE.sub(" ", redact(str(text)))
    return _UNSAFE.sub("\ufffd", flat).strip()


def markdown(text: object) -> str:
    """Inert inline Markdown (a paragraph or a table cell) that renders as ``text`` reads."""
    out = line(text).translate(_MD_ESCAPES)  # in C: a regex callback a match took 1 us each
    out = _MD_UNDERSCORE.sub(r"\\_", out)
    out = _MD_AUTOLINK.sub(lambda m: "\\" + (m[1] or m[2]), out)
    return _MD_LINE_START.sub(lambda m: f"\\{m[1]}" if m[1] else f"{m[2]}\\{m[3]}", out)


def terminal(text: object) -> str:
    """A terminal line: no escape sequence or carriage return can reach the screen."""
    return line(text)


def chart_label(text: object, limit: int = LABEL_LIMIT) -> str:
    """A matplotlib label: capped (FreeType takes seconds on very long ones) and shown
    literally (two ``$`` would otherwise start mathtext)."""
    flat = line(text)
    if len(flat) > limit:
        flat = flat[: limit - 1] + "…"
    return flat.replace("$", r"\$")


def redact_tree(value: T) -> T:
    """A JSON-able value with every string in it (keys included) redacted."""
    return cast(T, _redacted(value))


def _redacted(value: Any) -> Any:
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {_redacted(k): _redacted(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_redacted(v) for v in value]
    return value
