"""Python logging of the AutoGen 0.4+ loggers, written with *any* format string.

Loggers: ``autogen_core`` (runtime text), ``autogen_core.events`` (one JSON event per record:
Message, LLMCall, LLMStreamStart/End, ToolCall, MessageHandlerException...), ``autogen_agentchat``
(``Selected speaker: X``), ``autogen_agentchat.events`` (pydantic reprs of tool-call events).
A record is recognised by the logger name and level wherever the format put them; the message
is what follows the later of the two; a timestamp anywhere before it is the record's time (as
written: local time, no zone). Lines that start no record (tracebacks) belong to the one before.
Each team run (its uuid in agent ids) becomes its own run.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import lru_cache, partial
from itertools import islice
from pathlib import Path
from typing import Any, ClassVar

import polars as pl

from ...fastpaths import Mode, declare, mode, take
from ..base import ParsedLog, Sniff
from ..io.files import iter_lines, read_head
from ..io.line_batches import Span, line_batches, numbered_lines
from ..io.split_parse import Part, Spanned, span_sink
from .format_strings import RecordFormat, compile_format
from .layouts import (
    LEVEL_NAMES,
    LOGGER_NAMES,
    SEPARATOR_RUN,
    TIME,
    Layout,
    Prefix,
    agrees,
    is_record_start,
    learn,
)
from .records import EVENTS_LOGGER, HEAD_BYTES, MODEL_RETRY, RecordParser, first_contentless, wanted

LOGGER = re.compile(rf"(?<![\w./\\])({LOGGER_NAMES})(?::\d+)?(?![\w./\\])")
LEVEL = re.compile(rf"(?<!\w)(?P<level>{LEVEL_NAMES})(?!\w)")
TIMESTAMP = re.compile(rf"(?P<when>{TIME})")
FIELD_AFTER_NAME = re.compile(
    rf"[\s\-:|\]}})>\[({{<,]*(?:(?P<when>{TIME})|(?P<level>{LEVEL_NAMES})(?!\w)"
    r"|(?<=\[)[\w .-]{1,40}(?=\])|(?<=\()[\w .-]{1,40}(?=\))|[\w.]+:\d+(?!\w))"
)
TRAILING_TIMESTAMP = re.compile(rf"\s+(?:@|at|-|\|)?\s*({TIME})\s*$")
RECORD_START = re.compile(
    r"^\[?(\d{4}-\d{2}-\d{2}|\d{2}:\d{2}:\d{2}|DEBUG|INFO|WARNING|ERROR|CRITICAL)"
)
SEPARATORS = re.compile(SEPARATOR_RUN)
_PREFIX_LIMIT = 160  # the logger name must sit in the prefix, not deep inside a message
_LEVEL_GAP = 12  # a level after the name counts only if it follows within this many characters
LEARN_LINES = 2000  # lines a learned layout must split exactly as the slow splitter does
FEW_LINES = 20  # learned from with every fast path taken: the layout then splits the rest alone
# A file the sample covers gets the slow splitter's answer on every line either way (the
# layout must agree with it on all of them); checking a layout would cost more than that.
LEARNED_LAYOUT = declare(
    "learned-layout", LEARN_LINES, "lines", "a layout learned, split in polars"
)
# A record with none of these can produce no event (see RecordParser.record): bulk-dropped.
ERROR_LEVELS = "ERROR|CRITICAL|FATAL"


class AgentchatLogging:
    name: ClassVar[str] = "agentchat-logging"
    family: ClassVar[str] = "agentchat"
    description: ClassVar[str] = "Python logging of autogen_core / autogen_agentchat (any format)"

    @staticmethod
    def sniff(head: str) -> float:
        # A line that is a JSON object is a JSON formatter's record (json_lines).
        hits = sum(
            1
            for line in head.splitlines()[:200]
            if not line.startswith('{"') and _split(line) is not None
        )
        # Another library's records can name autogen too: sure only as they add up.
        return Sniff.graded(hits, Sniff.LINE, 0.05) if hits else Sniff.NONE

    @staticmethod
    def parse(path: Path) -> ParsedLog:
        return SPANNED.parse(path)


def given_format(log_format: str | None) -> Spanned:
    """The parse of files written with ``log_format`` (a logging format string), or of any
    format, sniffed record by record, when None."""
    if log_format is None:
        return SPANNED
    _format(log_format)  # a bad one is the caller's error, before any parse
    return Spanned(
        partial(_parse_span, log_format=log_format),
        partial(_starts_given_record, log_format=log_format),
        SPANNED.what,
        hint="check that --log-format is the handler's format string",
    )


def _parse_span(path: Path, span: Span, log_format: str | None = None) -> Part:
    """The events of the records that start in ``span`` (see ``io.split_parse``)."""
    sink = span_sink(AgentchatLogging.name, span)
    parser = RecordParser(sink)
    record: list[Any] | None = None  # [line, logger, level, time, message lines]
    foreign = False  # the lines since the last record start belong to another library's
    expected = 1
    rows = _records(path, span) if log_format is None else _given(path, span, log_format)
    for number, text, split, at in rows:
        if number != expected and record:  # dropped lines in between started records
            parser.record(*record)
            record = None
        expected = number + 1
        if split is not None:
            foreign = False
            if record:
                parser.record(*record)
            logger, level, when, message = split
            # A Message hop is read where it stands (its other lines, if any, mean nothing).
            if message is None and parser.hop_at(number, when, text, at):
                record = None
                continue
            record = [number, logger, level, when, [text[at:] if message is None else message]]
        elif at == FOREIGN or RECORD_START.match(text) or MODEL_RETRY.search(text):
            # another library's record (a layout without a time starts no line the same way:
            # the client's retry records are known by their words): it ends ours
            if record:
                parser.record(*record)
            record, foreign = None, True
            parser.foreign(number, text)
        elif record is not None:
            record[4].append(text)
        elif not foreign and text.strip():
            sink.unread(number, "line outside any logging record")
    sink.counted(span.lines, "lines")
    if record:
        parser.record(*record)
    parser.close(lambda: _head_contentless(path) if span.start else None)
    return Part.of(sink, span, parser.firsts)


def _head_contentless(path: Path) -> bool | None:
    """``first_contentless`` over the file's first lines (a later span's parse that needs it)."""
    head = read_head(path, HEAD_BYTES)
    return first_contentless(line for line in head.splitlines() if EVENTS_LOGGER in line)


def _starts_record(line: str) -> bool:
    """The parse ends any record in progress at this line: a safe place to split the file."""
    return bool(RECORD_START.match(line)) or _split(line) is not None


def _starts_given_record(line: str, log_format: str) -> bool:
    return _format(log_format).split(line) is not None


@lru_cache(maxsize=8)
def _format(log_format: str) -> RecordFormat:
    return compile_format(log_format)


def _given(path: Path, span: Span, log_format: str) -> Iterator[Row]:
    """Every line, split by the user's format string: a record of another logger ends ours
    (as ``RECORD_START`` does for sniffed ones)."""
    split = _format(log_format).split
    for number, line in numbered_lines(path, span, lambda lf: lf):
        found = split(line)
        if found is None:
            yield number, line, None, 0
        elif LOGGER.fullmatch(found[0]):
            yield number, line, found, 0
        else:
            yield number, line, None, FOREIGN


FOREIGN = -1  # a row's message start when the line starts a record of another logger
Split = tuple[str, str, str | None, str]  # logger, level, time as written, message
# As read in bulk: the message None when it is ``text[at:]`` of an ``autogen_core.events``
# record, left for the caller to slice (most are hops, which it reads in place).
Row = tuple[int, str, tuple[str, str, str | None, str | None] | None, int]


def _records(path: Path, span: Span) -> Iterator[Row]:
    """(line, text, split, message start) for every line that can matter, in order.

    Lines are scanned in bulk: polars drops the records that cannot produce an event (a
    record of an AutoGen logger with none of the words the parser acts on; such a line only
    ends the record before it, which the caller sees as a gap in the line numbers). With a
    layout learned (and checked) from the file's first lines, polars also splits the rest.
    """
    stat = path.stat()
    version = (stat.st_ino, stat.st_size, stat.st_mtime_ns)
    layout = _layout_of(path, version, mode())
    text = pl.col("text")
    keep = wanted(text, ERROR_LEVELS) | ~is_record_start(text, _PREFIX_LIMIT)
    if layout is None:
        for number, line in numbered_lines(path, span, lambda lf: lf.filter(keep)):
            yield number, line, _split(line), 0
        return
    columns = ("line", "text", "logger", "level", "when", "message_at")
    for batch in line_batches(path, lambda lf: layout.split(lf.filter(keep)), span=span):
        for number, line, logger, level, when, at in zip(
            *(batch[c].to_list() for c in columns), strict=True
        ):
            if logger is None:
                yield number, line, _split(line), 0
            elif not layout.has_time:  # the time, if any, ends the message
                yield number, line, (logger, level, *_trailing_time(line[at:])), at
            elif logger == EVENTS_LOGGER:
                yield number, line, (logger, level, when, None), at
            else:
                yield number, line, (logger, level, when, line[at:]), at


@lru_cache(maxsize=4)
def _layout_of(path: Path, version: tuple[int, int, int], current: Mode) -> Layout | None:
    """The layout learned from the file's first lines, once per ``version`` of the file
    (inode, size, mtime) and fast-path mode, not once per span: ~24 ms each, and a large file
    has ~30 spans."""
    few = current is Mode.ALWAYS
    sample = [text for _, text in islice(iter_lines(path), FEW_LINES if few else LEARN_LINES)]
    return _learn(sample) if few or take(LEARNED_LAYOUT, len(sample)) else None


def _learn(lines: list[str]) -> Layout | None:
    """The layout of the first record, if it splits every sampled line as ``_split`` does."""
    slow = [_prefix(line) for line in lines]
    first = next((p for p in slow if p is not None), None)
    if first is None:
        return None
    layout = learn(lines[slow.index(first)], first[1], _PREFIX_LIMIT, _LEVEL_GAP)
    expected = [
        None if p is None else _bulk_view(line, *p) for line, p in zip(lines, slow, strict=True)
    ]
    return layout if agrees(layout, lines, expected) else None


def _bulk_view(line: str, split: Split, prefix: Prefix) -> tuple[str, str, str | None, int]:
    """What a layout yields for a line: the time in the prefix only (a trailing one is the
    caller's, as in ``_records``)."""
    when = next((line[s:e] for s, e, name in prefix.fields if name == "when"), None)
    return split[0], split[1], when, prefix.message_at


def _split(line: str) -> Split | None:
    """(logger, level, time, message) if the line starts a record of an AutoGen logger."""
    found = _prefix(line)
    return None if found is None else found[0]


def _trailing_time(message: str) -> tuple[str | None, str]:
    """A format with the time last: (time, message before it), else (None, message)."""
    last = message[-1:]
    maybe = last.isdigit() or last == "Z" or last.isspace()  # cheap: JSON records end in "}"
    if maybe and (tail := TRAILING_TIMESTAMP.search(message)):
        return tail[1], message[: tail.start()]
    return None, message


def _prefix(line: str) -> tuple[Split, Prefix] | None:
    if not line or line[0].isspace():
        return None
    name = LOGGER.search(line, 0, _PREFIX_LIMIT)
    if name is None:
        return None
    level = LEVEL.search(line, 0, name.start())
    stamp = TIMESTAMP.search(line, 0, name.start())
    # Fields the format put after the name, each at most once and only separators between:
    # the time, the level, a thread or pid in brackets, a module:lineno.
    after: dict[str, re.Match[str]] = {}
    pos = name.end()
    while (field := FIELD_AFTER_NAME.match(line, pos)) and field.end() < _PREFIX_LIMIT:
        kind = field.lastgroup or "other"
        if kind != "other" and (kind in after or (level if kind == "level" else stamp)):
            break
        after[kind] = field
        pos = field.end()
    found = after.get("level") or level
    level_name = found["level"] if found else "INFO"
    stamp = stamp or after.get("when")
    when = stamp["when"] if stamp else None
    at = SEPARATORS.match(line, pos).end()  # type: ignore[union-attr]
    rest = line[at:]
    if when is None:
        when, rest = _trailing_time(rest)
    fields = [(name.start(), name.end(), "logger")]
    fields += [(found.start("level"), found.end("level"), "level")] if found else []
    fields += [(stamp.start("when"), stamp.end("when"), "when")] if stamp else []
    return (name[1], level_name, when, rest), Prefix(tuple(fields), at, "level" in after)


_HINT = "if its records are AutoGen's, give the handler's format string with --log-format"
SPANNED = Spanned(_parse_span, _starts_record, "AutoGen logging records", hint=_HINT)
