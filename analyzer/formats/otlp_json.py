"""OpenTelemetry spans in the OTLP JSON encoding: the official file exporter
(``opentelemetry-exporter-otlp-json-file``: one ``ExportTraceServiceRequest`` per line and
batch), the Collector's ``file`` exporter (the same encoding), or one such document
pretty-printed. Whatever instrumentation wrote the spans (autogen-core's own, AG2's tracing,
OpenInference, Microsoft Agent Framework), they are converted to ConsoleSpanExporter's shape
and read by the one span reader (``otel_spans.read_spans``).

The encoding, as ``opentelemetry.exporter.otlp.json.common`` writes it: lowerCamelCase keys,
ids in hex, times as nanosecond strings, attributes as ``{"key", "value": {"stringValue"...}}``
lists, the status code as a number. Protobuf's own JSON mapping, which other writers use, is
read too: snake_case keys, ids in base64, enum names (``STATUS_CODE_ERROR``).
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, ClassVar

import orjson

from .base import EventSink, ParsedLog, Sniff, json_documents
from .io.files import open_text
from .otel_spans import Span, read_spans, span_lines

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_HEX_ID = re.compile(r"[0-9a-fA-F]{16}(?:[0-9a-fA-F]{16})?")
_STATUS = {0: "UNSET", 1: "OK", 2: "ERROR"}
_KINDS = {1: "INTERNAL", 2: "SERVER", 3: "CLIENT", 4: "PRODUCER", 5: "CONSUMER"}
# what a document holds besides spans (exporters of logs and metrics may share the file)
_OTHER_SIGNALS = ("resourceLogs", "resource_logs", "resourceMetrics", "resource_metrics")


class OtlpJson:
    name: ClassVar[str] = "otlp-json"
    family: ClassVar[str] = "agentchat"
    description: ClassVar[str] = "OpenTelemetry spans in OTLP JSON (file exporter, Collector)"

    @staticmethod
    def sniff(head: str) -> float:
        text = head.lstrip()[:3000]
        if text.startswith("{") and ('"resourceSpans"' in text or '"resource_spans"' in text):
            return Sniff.OWN_SHAPE
        return Sniff.NONE

    @staticmethod
    def parse(path: Path) -> ParsedLog:
        sink = EventSink(OtlpJson.name)
        spans: list[tuple[int, Span]] = []
        for line, text, doc in _documents(path, sink):
            if not isinstance(doc, dict):
                sink.skip(line, "not an OTLP JSON document")
                continue
            batches = _field(doc, "resourceSpans")
            if batches is None:
                kind = "an OTLP logs or metrics document" if _other(doc) else "no resourceSpans"
                sink.unread(line, kind)
                continue
            spans.extend(_spans(batches, line, text))
        return read_spans(path, spans, sink)


def _other(doc: dict[str, Any]) -> bool:
    return any(key in doc for key in _OTHER_SIGNALS)


def _documents(path: Path, sink: EventSink) -> Iterator[tuple[int, str | None, Any]]:
    """(line, text, document): one per line as the exporters write them, streamed. A line
    that is not a whole document starts a pretty-printed one: from there the rest of the file
    is decoded as documents back to back (``text`` is then kept, to find each span's line)."""
    with open_text(path) as fh:
        for number, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                yield number, None, orjson.loads(line)
                continue
            except orjson.JSONDecodeError:
                pass
            yield from _pretty(number, line + fh.read(), sink)
            return


def _pretty(first: int, raw: str, sink: EventSink) -> Iterator[tuple[int, str | None, Any]]:
    for line, text, doc in json_documents(raw, first):
        if text is None:
            sink.skip(line, "truncated or invalid OTLP JSON")
        else:
            yield line, text, doc


def _spans(batches: Any, line: int, text: str | None) -> Iterator[tuple[int, Span]]:
    line_of = span_lines(text, line)
    for batch in batches if isinstance(batches, list) else []:
        if not isinstance(batch, dict):
            continue
        resource = _attributes(_field(_field(batch, "resource") or {}, "attributes"))
        scopes = _field(batch, "scopeSpans")
        if scopes is None:  # OTLP before 0.15 (2022)
            scopes = _field(batch, "instrumentationLibrarySpans")
        for scope in scopes if isinstance(scopes, list) else []:
            if not isinstance(scope, dict):
                continue
            library = _field(scope, "scope") or _field(scope, "instrumentationLibrary") or {}
            for raw in _field(scope, "spans") or []:
                if isinstance(raw, dict):
                    span = _span(raw, resource, str(library.get("name") or ""))
                    yield line_of(_field(raw, "spanId")), span


def _span(raw: dict[str, Any], resource: dict[str, Any], scope: str) -> Span:
    status = _field(raw, "status") or {}
    code = status.get("code", 0)
    if isinstance(code, str):  # protobuf's enum name, "STATUS_CODE_ERROR"
        code = {"STATUS_CODE_OK": 1, "STATUS_CODE_ERROR": 2}.get(code, 0)
    kind = raw.get("kind", 0)
    return {
        "name": raw.get("name"),
        "context": {"trace_id": _id(_field(raw, "traceId")), "span_id": _id(_field(raw, "spanId"))},
        "kind": _KINDS.get(kind, str(kind)) if isinstance(kind, int) else str(kind),
        "parent_id": _id(_field(raw, "parentSpanId")),
        "start_time": _time(_field(raw, "startTimeUnixNano")),
        "end_time": _time(_field(raw, "endTimeUnixNano")),
        "status": {"status_code": _STATUS.get(code, "UNSET"), "description": status.get("message")},
        "attributes": _attributes(raw.get("attributes")),
        "events": [
            {
                "name": event.get("name"),
                "timestamp": _time(_field(event, "timeUnixNano")),
                "attributes": _attributes(event.get("attributes")),
            }
            for event in raw.get("events") or []
            if isinstance(event, dict)
        ],
        "resource": {"attributes": resource, "scope": scope},
    }


def _field(obj: dict[str, Any], camel: str) -> Any:
    """``obj[camel]``, or its snake_case spelling (protobuf's JSON mapping accepts both)."""
    if camel in obj:
        return obj[camel]
    return obj.get("".join(f"_{c.lower()}" if c.isupper() else c for c in camel))


def _id(value: Any) -> str | None:
    """A span or trace id as lowercase hex: OTLP JSON writes hex, protobuf's mapping base64."""
    if not value or not isinstance(value, str):
        return None
    if _HEX_ID.fullmatch(value):
        return value.lower()
    try:
        return base64.b64decode(value, validate=True).hex() or None
    except (binascii.Error, ValueError):
        return value


def _time(value: Any) -> str | None:
    """Nanoseconds since the epoch (a string, as int64s are in JSON) as ISO text; 0 is unset."""
    try:
        nanos = int(value)
    except (TypeError, ValueError):
        return None
    if nanos <= 0:
        return None
    try:
        return (_EPOCH + timedelta(microseconds=nanos // 1000)).isoformat()
    except OverflowError:
        return None


def _attributes(pairs: Any) -> dict[str, Any]:
    if not isinstance(pairs, list):
        return {}
    return {
        str(pair["key"]): _value(pair.get("value"))
        for pair in pairs
        if isinstance(pair, dict) and "key" in pair
    }


def _value(value: Any) -> Any:
    """An ``AnyValue``: the one of its fields that is set."""
    if not isinstance(value, dict) or not value:
        return None
    (key, inner), *_ = value.items()
    if key in ("intValue", "int_value"):
        try:
            return int(inner)
        except (TypeError, ValueError):
            return inner
    if key in ("arrayValue", "array_value"):
        return [_value(v) for v in (inner or {}).get("values") or []]
    if key in ("kvlistValue", "kvlist_value"):
        return _attributes((inner or {}).get("values"))
    return inner  # string, bool, double, and bytes (base64 text)
