"""Arize Phoenix trace exports: ``px traces <dir>`` files (one trace per file, pretty JSON:
``{traceId, spans, rootSpan, startTime, endTime, duration, status}``), ``px trace <id>``
output, or ``px traces --format raw`` (a JSON array of such traces). The spans are Phoenix's
REST spans (``/v1/projects/<project>/spans``): ``context.{trace_id, span_id}``, ``parent_id``,
ISO ``start_time``/``end_time``, ``status_code``/``status_message``, ``span_kind``, flat
dotted ``attributes`` and ``events``. Converted to ConsoleSpanExporter's shape and read by
the one span reader (``otel_spans.read_spans``).

Phoenix gives every span an OpenInference ``span_kind``, the framework's own GenAI spans too
(``execute_tool X`` becomes a TOOL): only a span without ``gen_ai.operation.name`` is read as
OpenInference's, so the framework's twin of an OpenInference span is still told apart.
``rootSpan`` repeats a span of ``spans`` and is not read again.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

import orjson

from ._span_vocab import OI_KIND
from .base import EventSink, ParsedLog, Sniff, json_documents
from .io.files import open_text
from .otel_spans import Span, read_spans, span_lines


class PhoenixTraces:
    name: ClassVar[str] = "phoenix-traces"
    family: ClassVar[str] = "agentchat"
    description: ClassVar[str] = "Arize Phoenix trace exports (px traces files, --format raw)"

    @staticmethod
    def sniff(head: str) -> float:
        text = head.lstrip()[:4000]
        if (
            text[:1] in ("{", "[")
            and '"traceId"' in text
            and '"spans"' in text
            and ('"span_kind"' in text or '"status_code"' in text)
        ):
            return Sniff.OWN_SHAPE  # its spans have otel-spans' shape too
        return Sniff.NONE

    @staticmethod
    def parse(path: Path) -> ParsedLog:
        with open_text(path) as fh:
            raw = fh.read()
        sink = EventSink(PhoenixTraces.name)
        spans: list[tuple[int, Span]] = []
        for line, text, doc in _documents(raw):
            if text is None:
                sink.skip(line, "truncated or invalid trace JSON")
                continue
            line_of = span_lines(text, line)
            for trace in doc if isinstance(doc, list) else [doc]:
                if not isinstance(trace, dict) or not isinstance(trace.get("spans"), list):
                    sink.unread(line, "not a Phoenix trace")
                    continue
                spans.extend(
                    (line_of(_context(s).get("span_id")), _span(s))
                    for s in trace["spans"]
                    if isinstance(s, dict)
                )
        return read_spans(path, spans, sink)


def _documents(raw: str) -> Iterator[tuple[int, str | None, Any]]:
    """Top-level JSON values: a trace object, or an array of them (``--format raw``)."""
    stripped = raw.lstrip()
    if stripped.startswith("["):
        first = raw.count("\n", 0, len(raw) - len(stripped)) + 1
        try:
            yield first, stripped, orjson.loads(stripped)
        except orjson.JSONDecodeError:
            yield first, None, None
        return
    yield from json_documents(raw)


def _context(span: dict[str, Any]) -> dict[str, Any]:
    context = span.get("context")
    return context if isinstance(context, dict) else {}


def _span(raw: dict[str, Any]) -> Span:
    attributes = _flat(raw.get("attributes"))
    kind = raw.get("span_kind")
    if kind not in (None, "UNKNOWN") and "gen_ai.operation.name" not in attributes:
        attributes.setdefault(OI_KIND, kind)
    events = [
        {
            "name": e.get("name"),
            "timestamp": e.get("timestamp"),
            "attributes": _flat(e.get("attributes")),
        }
        for e in raw.get("events") or []
        if isinstance(e, dict)
    ]
    return {
        "name": raw.get("name"),
        "context": {
            "trace_id": _context(raw).get("trace_id"),
            "span_id": _context(raw).get("span_id"),
        },
        "parent_id": raw.get("parent_id"),
        "start_time": raw.get("start_time"),
        "end_time": raw.get("end_time"),
        "status": {
            "status_code": raw.get("status_code") or "UNSET",
            "description": raw.get("status_message") or None,
        },
        "attributes": attributes,
        "events": events,
    }


def _flat(value: Any, prefix: str = "") -> dict[str, Any]:
    """Attributes with dotted keys, however nested they came (Phoenix stores them nested
    and its API may return either)."""
    if not isinstance(value, dict):
        return {}
    out: dict[str, Any] = {}
    for key, inner in value.items():
        name = f"{prefix}{key}"
        if isinstance(inner, dict):
            out.update(_flat(inner, f"{name}."))
        else:
            out[name] = inner
    return out
