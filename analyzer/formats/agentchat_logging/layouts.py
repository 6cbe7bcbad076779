"""Learn the record layout of a Python-logging file from one of its records, to split the
rest in bulk.

A logging format string is fixed per handler, so after the slow, format-agnostic splitter has
read one record, the file's other records have the same shape: literal text, a timestamp, the
logger name and the level in the same order. The learned layout is an anchored regex for polars
(Rust syntax, so no look-arounds). It is only an accelerator: it is checked against the slow
splitter on the file's first lines and dropped on any disagreement, and a line it does not
match still goes through the slow splitter.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import polars as pl

# The pieces of a record prefix, written once in the syntax Python's re and polars' Rust regex
# share (the slow splitter adds its look-arounds around them).
# Logger names are module paths (``__name__``): lower-case parts. A traceback's exception line
# (``asyncio.exceptions.CancelledError``) names a class, and starts no record.
_PART = r"\.[a-z_][a-z0-9_]*"
LOGGER_NAMES = "|".join(
    f"{root}(?:{_PART})*"
    for root in ("autogen_core", "autogen_agentchat", "autogen_ext", "asyncio")
)
LEVEL_NAMES = r"DEBUG|INFO|WARNING|WARN|ERROR|CRITICAL|FATAL"
TIME = r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(?:[.,]\d{1,6})?(?:Z|[+-]\d{2}:?\d{2})?"
SEPARATOR_RUN = r"[\s\-:|\]})>]*"
LOGGER_GROUP = rf"(?P<logger>{LOGGER_NAMES})(?::\d+)?"
TIME_GROUP = rf"(?P<when>{TIME})"
# ``_split(line) is not None`` in bulk: look-arounds become consumed characters, which is the
# same for a yes/no answer. Python's isspace() also counts \x1c-\x1f, Rust's \s does not.
_RECORD_START = rf"(?:^|[^\w./\\])(?:{LOGGER_NAMES})(?::\d+)?(?:[^\w./\\]|$)"
_LEVEL_WORD = rf"(?:^|\W)(?:{LEVEL_NAMES})(?:\W|$)"
_META = set(r"\.+*?()|[]{}^$#&-~")
_SPACE = {" ": " ", "\t": r"\t"}
HEAD_CHARS = 200  # a prefix longer than this is left to the slow splitter


@dataclass(frozen=True, slots=True)
class Prefix:
    """Where the slow splitter found a record's fields (character spans in the line)."""

    fields: tuple[tuple[int, int, str], ...]  # (start, end, "when" | "logger" | "level")
    message_at: int
    level_after_name: bool


@dataclass(frozen=True, slots=True)
class Layout:
    pattern: str
    has_level: bool
    has_time: bool  # without, the caller looks for a time at the end of the message
    level_after_name: bool
    name_limit: int  # the logger name must end within this many characters
    level_gap: int  # a level counts after the name only within this many characters

    def split(self, lines: pl.LazyFrame) -> pl.LazyFrame:
        """Adds ``logger``, ``level``, ``when``, ``message_at`` to a frame of ``text``: all null
        where the line does not fit the layout."""
        text = pl.col("text")
        parts = pl.col("_parts")
        head = parts.struct.field("head").str.len_chars()
        prefix = parts.struct.field("prefix").str.len_chars()
        fits = prefix.is_not_null() & (head <= self.name_limit) & (prefix < HEAD_CHARS)
        if not self.level_after_name:  # a level just after the name would win over ours
            fits = fits & ~text.str.slice(head, self.level_gap).str.contains(_LEVEL_WORD)
        level = parts.struct.field("level") if self.has_level else pl.lit("INFO")
        when = parts.struct.field("when") if self.has_time else pl.lit(None, pl.String)
        return (
            lines.with_columns(
                _parts=text.str.slice(0, HEAD_CHARS).str.extract_groups(self.pattern)
            )
            .with_columns(_fits=fits)
            .with_columns(
                pl.when("_fits").then(parts.struct.field("logger")).alias("logger"),
                pl.when("_fits").then(level).alias("level"),
                pl.when("_fits").then(when).alias("when"),
                pl.when("_fits").then(prefix).alias("message_at"),
            )
            .drop("_parts", "_fits")
        )


def is_record_start(text: pl.Expr, name_limit: int) -> pl.Expr:
    """Whether each line starts a record of an AutoGen logger (the slow splitter's answer)."""
    return text.str.contains(r"^[^\s\x1c-\x1f]") & text.str.slice(0, name_limit).str.contains(
        _RECORD_START
    )


def learn(line: str, prefix: Prefix, name_limit: int, level_gap: int) -> Layout:
    """The layout of ``line``'s record."""
    names = {name for _, _, name in prefix.fields}
    out, pos = ["^(?P<prefix>"], 0
    fields = sorted(prefix.fields)
    for start, end, name in fields:
        exact = name == "level" and prefix.level_after_name  # keep the name-to-level gap
        out.append(_literal(line[pos:start], exact_space=exact))
        if name == "logger":
            out.insert(1, "(?P<head>")
            out.append(LOGGER_GROUP + ")")
        elif name == "level":
            out.append(f"(?P<level>{LEVEL_NAMES})")
        else:
            out.append(TIME_GROUP)
        pos = end
    out.append(SEPARATOR_RUN + ")")
    return Layout(
        "".join(out),
        has_level="level" in names,
        has_time="when" in names,
        level_after_name=prefix.level_after_name,
        name_limit=name_limit,
        level_gap=level_gap,
    )


def _literal(text: str, exact_space: bool) -> str:
    """Literal text of the format; digit runs (pids, line numbers) and padding generalised."""
    out = []
    for token in re.findall(r"\d+|\s+|.", text):
        if token[0].isdigit():
            out.append(r"\d+")
        elif token[0].isspace():
            out.append("".join(_SPACE.get(c, r"\s") for c in token) if exact_space else r"\s+")
        else:
            out.append("\\" + token if token in _META else token)
    return "".join(out)


def agrees(
    layout: Layout, lines: Sequence[str], slow: Sequence[tuple[str, str, str | None, int] | None]
) -> bool:
    """True when the bulk split matches the slow one on every line the layout accepts."""
    frame = (
        layout.split(pl.LazyFrame({"text": list(lines)}, schema={"text": pl.String}))
        .drop("text")
        .collect()
    )
    for fast, want in zip(frame.iter_rows(), slow, strict=True):
        if fast[0] is None:
            continue  # not accepted: the slow splitter reads it anyway
        if want is None or fast != want:
            return False
    return True
