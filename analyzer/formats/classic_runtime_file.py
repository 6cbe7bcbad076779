"""``runtime_logging`` file logger of classic AutoGen: one JSON record per line, plus text lines.

Line 1 is ``Started new session with Session ID: <uuid>`` (a new such line starts a new run);
``[file_logger] Failed to log ...`` lines are the logger's own failures, kept when they matter
(recursion depth) and skipped otherwise.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, ClassVar

import orjson

from ._runtime_records import RuntimeRecords, resolved
from .base import ParsedLog, Sniff, loads
from .io.line_batches import Span, numbered_lines
from .io.split_parse import Part, Spanned, span_sink

SESSION = re.compile(r"Started new session with Session ID: (\S+)")
_KEYS = ('"event_name"', '"invocation_id"', '"source_name"', '"agent_name"', '"input_args"')
# Lines only file_logger writes: an event (source_id, source_name, event_name), a model call
# (invocation_id, client_id), a new agent (id, agent_name, wrapper_id).
RECORD_SHAPE = re.compile(
    r'(?m)^\{"(?:source_id": \d+, "source_name": .{1,200}?"event_name": '
    r'|invocation_id": "[^"]*", "client_id": |id": \d+, "agent_name": )'
)


class ClassicRuntimeFile:
    name: ClassVar[str] = "classic-runtime-file"
    family: ClassVar[str] = "classic"
    description: ClassVar[str] = 'runtime_logging.start(logger_type="file") output'

    @staticmethod
    def sniff(head: str) -> float:
        if SESSION.search(head[:2000]):
            return Sniff.SIGNATURE
        first = head.lstrip()[:4000]
        if first.startswith("{") and any(k in first for k in _KEYS) and '"json_state"' in head:
            return Sniff.KEYS
        # A fragment from the middle (no session line first): records of the logger's shapes.
        if RECORD_SHAPE.search(head):
            return Sniff.PIECE
        return Sniff.NONE

    @staticmethod
    def parse(path: Path) -> ParsedLog:
        # Every line is a whole record, so a large file can be cut at any line end.
        return SPANNED.parse(path)


def _parse_span(path: Path, span: Span) -> Part:
    """The events of the records in ``span`` (see ``io.split_parse``)."""
    sink = span_sink(ClassicRuntimeFile.name, span)
    records = RuntimeRecords(sink)
    seen = 0
    for number, line in numbered_lines(path, span):
        if not line.strip():
            continue
        seen += 1
        start = line.find("{")
        if start < 0 or (not line.rstrip().endswith("}") and not line.lstrip().startswith("{")):
            if m := SESSION.search(line):
                sink.run_id = m[1]
            elif "recursion depth" in line:
                sink.add("error", number, content=line.strip(), is_error=True)
            elif not line.startswith(("[file_logger]", "Object of type")):
                sink.skip(number, "not a runtime-log record")
            continue
        rec = _without_request(line, start)
        if rec is None:
            try:
                # A logging prefix ("... INFO autogen.logger.file_logger: {...}") is allowed.
                rec = loads(line[start:])
            except orjson.JSONDecodeError:
                sink.skip(number, "truncated or invalid JSON record")
                continue
        if isinstance(rec, dict):
            records.record(rec, number)
        else:
            sink.unread(number, "JSON line that is not a record object")
    sink.counted(seen, "records")
    return Part.of(sink, span, ())


# A chat_completion record carries the whole history on every call (``request``: most of a long
# run's log) between its ids and the keys read from it; file_logger writes them in this order.
_COMPLETION_START, _REQUEST_AT, _AFTER_REQUEST = (
    '{"invocation_id": ',
    ', "request": ',
    ', "response": ',
)


def _without_request(line: str, start: int) -> dict[str, Any] | None:
    """A chat_completion record decoded without its ``request``, which is never read; None if
    the record is not of that shape or what remains does not decode on its own (the caller then
    decodes it whole). The last ``response`` key is the record's: the request's own text cannot
    hold one after it, and the values after it are scalars."""
    if not line.startswith(_COMPLETION_START, start):
        return None
    at = line.find(_REQUEST_AT, start)
    if at < 0:
        return None
    tail = line.rfind(_AFTER_REQUEST)
    if tail < at:
        return None
    try:
        rec = loads(line[start:at] + line[tail:])
    except orjson.JSONDecodeError:
        return None
    return rec if isinstance(rec, dict) else None


SPANNED = Spanned(_parse_span, lambda line: True, "runtime-log records", resolved)
