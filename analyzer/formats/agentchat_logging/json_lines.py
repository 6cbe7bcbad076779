"""Python logging of the AutoGen 0.4+ loggers written as JSON lines, one object per record.

What teams that ship logs to a log platform write: python-json-logger (``asctime``, ``name``,
``levelname``, ``message``, ``exc_info``, or renamed ``timestamp``/``logger``/``level``),
structlog (``event``, ``logger``, ``level``), ECS and cloud formatters (``@timestamp``,
``log.logger``, ``log.level``, ``severity``, ``error.stack_trace``). The fields are found by
their usual names, the logger name also by its value; each record then means what it means in
the text layout (``records``). Records of other loggers are passed over.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, ClassVar

import orjson
import polars as pl

from ..base import ParsedLog, Sniff, loads
from ..io.files import read_head
from ..io.line_batches import Span, numbered_lines
from ..io.split_parse import Part, Spanned, span_sink
from .layouts import LOGGER_NAMES
from .records import EVENTS_LOGGER, HEAD_BYTES, MODEL_RETRY, RecordParser, first_contentless, wanted

KNOWN_LOGGER = re.compile(rf"(?:{LOGGER_NAMES})")
AUTOGEN_VALUE = re.compile(r'"(?:autogen_core|autogen_agentchat|autogen_ext)(?:\.\w+)*"')
LOGGER_KEYS = ("name", "logger", "logger_name", "loggerName", "log.logger", "logger.name")
LEVEL_KEYS = ("levelname", "level", "severity", "log.level", "level_name", "lvl", "status")
TIME_KEYS = ("asctime", "timestamp", "@timestamp", "time", "ts", "datetime", "created")
MESSAGE_KEYS = ("message", "msg", "event", "@message", "log.message")
TRACE_KEYS = ("exc_info", "exc_text", "exception", "error.stack_trace", "stack_trace", "stack_info")
# A record with none of these can produce no event (see RecordParser.record); JSON formatters
# often write the level in lower case.
ERROR_LEVELS = "(?i:error|critical|fatal)"
_SNIFF_LINES = 50

Record = tuple[str, str, str | None, list[str]]  # logger, level, time as written, message lines


class AgentchatJsonLogging:
    name: ClassVar[str] = "agentchat-json-logging"
    family: ClassVar[str] = "agentchat"
    description: ClassVar[str] = "Python logging of autogen_core / autogen_agentchat as JSON lines"

    @staticmethod
    def sniff(head: str) -> float:
        lines = [line for line in head.splitlines()[:_SNIFF_LINES] if line.strip()]
        objects = hits = 0
        for line in lines[:-1] or lines:  # the head may cut its last line short
            try:
                record = loads(line)
            except orjson.JSONDecodeError:
                continue
            if isinstance(record, dict):
                objects += 1
                found = _fields(_flat(record))
                hits += found is not None and found[0].startswith("autogen")
        if not objects and lines and lines[0].startswith('{"') and AUTOGEN_VALUE.search(lines[0]):
            return Sniff.FRAGMENT  # one record longer than the head (a rotated file, an LLMCall)
        if not hits or objects < 0.8 * len(lines[:-1] or lines):
            return Sniff.NONE
        return Sniff.OWN_SHAPE  # JSON objects naming AutoGen loggers

    @staticmethod
    def parse(path: Path) -> ParsedLog:
        # Every line is a whole record, so a large file can be cut at any line end.
        return SPANNED.parse(path)


def _parse_span(path: Path, span: Span) -> Part:
    """The events of the records in ``span`` (see ``io.split_parse``)."""
    sink = span_sink(AgentchatJsonLogging.name, span)
    parser = RecordParser(sink)
    keep = wanted(pl.col("text"), ERROR_LEVELS)
    for number, line in numbered_lines(path, span, lambda lf: lf.filter(keep)):
        try:
            record = loads(line)
        except orjson.JSONDecodeError:
            if line.strip():
                sink.skip(number, "not a JSON log record (truncated or garbled)")
            continue
        if not isinstance(record, dict):
            sink.unread(number, "JSON line that is not a log record object")
            continue
        if _hop_read(parser, number, record):
            continue
        flat = _flat(record)
        found = _fields(flat)
        if found is None and MODEL_RETRY.search(line):  # the model client retrying a call
            found = _fields(flat, any_logger=True)
        if found is not None:
            parser.record(number, *found)
    sink.counted(span.lines, "records")  # one per line; other loggers' count as read
    parser.close(lambda: _head_contentless(path) if span.start else None)
    return Part.of(sink, span, parser.firsts)


def _head_contentless(path: Path) -> bool | None:
    """``first_contentless`` over the messages of the file's first records (a later span's
    parse that needs it)."""
    messages = []
    for line in read_head(path, HEAD_BYTES).splitlines():
        try:
            record = loads(line)
        except orjson.JSONDecodeError:
            continue
        found = _fields(_flat(record)) if isinstance(record, dict) else None
        if found is not None and found[0] == EVENTS_LOGGER:
            messages.append(found[3][0])
    return first_contentless(messages)


def _hop_read(parser: RecordParser, line: int, record: dict[str, Any]) -> bool:
    """A Message hop of ``autogen_core.events`` under the keys that head ``_fields``' lists
    (``name``, ``message``), read in place: most records of a long log. Such a record's fields
    are those ``_fields`` finds (the time keys have no dotted form) and a hop reads only its
    message; False for any other record."""
    message = record.get("message")
    return (
        record.get("name") == EVENTS_LOGGER
        and isinstance(message, str)
        and "\n" not in message  # one line: what ``record`` would read of it
        and parser.hop_at(line, _time(record), message, 0)
    )


def _flat(record: dict[str, Any]) -> dict[str, Any]:
    """Nested objects one level deep as dotted keys (``{"log": {"logger": x}}`` -> ``log.logger``);
    the record itself when nothing is nested (most formatters: no copy)."""
    nested = [(key, value) for key, value in record.items() if isinstance(value, dict)]
    if not nested:
        return record
    flat = dict(record)
    for key, value in nested:
        flat.update((f"{key}.{inner}", v) for inner, v in value.items())
    return flat


def _fields(record: Mapping[str, Any], any_logger: bool = False) -> Record | None:
    """(logger, level, time, message lines) of an AutoGen logger's record (of any logger's
    with ``any_logger``), else None."""
    logger = None
    for key in LOGGER_KEYS:
        if _is_known_logger(value := record.get(key)):
            logger = value
            break
    else:  # under a key of the formatter's own: found by its value
        for value in record.values():
            if _is_known_logger(value):
                logger = value
                break
    if logger is None and any_logger:
        logger = next((v for k in LOGGER_KEYS if isinstance(v := record.get(k), str)), "other")
    if logger is None:
        return None
    level = "INFO"
    for key in LEVEL_KEYS:
        if isinstance(value := record.get(key), str):
            level = value
            break
    message: Any = ""
    for key in MESSAGE_KEYS:
        if (value := record.get(key)) is not None:
            message = value
            break
    if not isinstance(message, str):  # a formatter that kept a structured message as JSON
        message = orjson.dumps(message).decode()
    lines = message.split("\n")
    for key in TRACE_KEYS:
        if isinstance(trace := record.get(key), str) and trace:
            lines += trace.split("\n")
    return logger, level.upper(), _time(record), lines


_KNOWN_LOGGERS: dict[str, bool] = {}  # a file's few logger names, and other values looked at
_KNOWN_LOGGERS_MAX = 4096


def _is_known_logger(value: Any) -> bool:
    """A logger the text layout reads too: AutoGen's, and asyncio's (its shutdown tracebacks)."""
    if not isinstance(value, str):
        return False
    known = _KNOWN_LOGGERS.get(value)
    if known is None:
        if len(_KNOWN_LOGGERS) >= _KNOWN_LOGGERS_MAX:
            _KNOWN_LOGGERS.clear()
        known = _KNOWN_LOGGERS[value] = KNOWN_LOGGER.fullmatch(value) is not None
    return known


def _time(record: Mapping[str, Any]) -> str | None:
    """The record's time as written (an epoch number becomes ISO, in UTC)."""
    for key in TIME_KEYS:
        value = record.get(key)
        if isinstance(value, str) and value:
            return value
        if isinstance(value, int | float) and not isinstance(value, bool):
            seconds = value / 1000 if value > 1e11 else value  # epoch milliseconds
            try:
                return datetime.fromtimestamp(seconds, UTC).isoformat()
            except (OverflowError, OSError, ValueError):
                return None  # not a time after all
    return None


SPANNED = Spanned(_parse_span, lambda line: True, "AutoGen logging records")
