"""OTLP JSON spans read as the same spans written by ConsoleSpanExporter: every recorded
``otel.json`` rewritten in the OTLP encoding (as the file exporter writes it, as protobuf's
JSON mapping writes it, batched, pretty-printed) must give the same events and verdict."""

from __future__ import annotations

import base64
import json
from datetime import datetime
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from analyzer import analyze_file
from analyzer.formats import detect_format, parse_log

from ..conftest import SAMPLES, console_spans

OTEL_SAMPLES = sorted(SAMPLES.glob("agentchat*/*/otel.json"))
# what the container decides; everything else must not change
_CONTAINER = ("source_line", "source_format", "seq")
_STATUS = {"UNSET": 0, "OK": 1, "ERROR": 2}


def _nanos(stamp: str | None) -> str:
    at = datetime.fromisoformat(str(stamp).replace("Z", "+00:00"))
    return str(int(at.timestamp()) * 10**9 + at.microsecond * 1000)


def _id(value: str | None, protobuf: bool) -> str:
    hexed = (value or "")[2:] if (value or "").startswith("0x") else value or ""
    return base64.b64encode(bytes.fromhex(hexed)).decode() if protobuf and hexed else hexed


def _value(value: Any, protobuf: bool) -> dict[str, Any]:
    key = "{}_value" if protobuf else "{}Value"
    if isinstance(value, bool):
        return {key.format("bool"): value}
    if isinstance(value, int):
        return {key.format("int"): str(value)}
    if isinstance(value, float):
        return {key.format("double"): value}
    if isinstance(value, list | tuple):
        return {key.format("array"): {"values": [_value(v, protobuf) for v in value]}}
    return {key.format("string"): str(value)}


def _attrs(attrs: dict[str, Any] | None, protobuf: bool) -> list[dict[str, Any]]:
    return [{"key": k, "value": _value(v, protobuf)} for k, v in (attrs or {}).items()]


def _otlp_span(span: dict[str, Any], protobuf: bool) -> dict[str, Any]:
    """``span`` as OTLP JSON encodes it (``protobuf``: protobuf's own JSON mapping)."""
    k = (lambda camel, snake: snake) if protobuf else (lambda camel, snake: camel)
    code = _STATUS[str((span.get("status") or {}).get("status_code", "UNSET"))]
    status: dict[str, Any] = {}
    if code:
        status["code"] = ["STATUS_CODE_UNSET", "STATUS_CODE_OK", "STATUS_CODE_ERROR"][code]
        if not protobuf:
            status["code"] = code
        if (span.get("status") or {}).get("description"):
            status["message"] = span["status"]["description"]
    out = {
        k("traceId", "trace_id"): _id(span["context"]["trace_id"], protobuf),
        k("spanId", "span_id"): _id(span["context"]["span_id"], protobuf),
        "name": span["name"],
        "kind": 1,
        k("startTimeUnixNano", "start_time_unix_nano"): _nanos(span["start_time"]),
        k("endTimeUnixNano", "end_time_unix_nano"): _nanos(span["end_time"]),
        "attributes": _attrs(span.get("attributes"), protobuf),
        "events": [
            {
                k("timeUnixNano", "time_unix_nano"): _nanos(e["timestamp"]),
                "name": e["name"],
                "attributes": _attrs(e.get("attributes"), protobuf),
            }
            for e in span.get("events") or []
        ],
        "status": status,
    }
    if span.get("parent_id"):
        out[k("parentSpanId", "parent_span_id")] = _id(span["parent_id"], protobuf)
    return out


def _document(spans: list[dict[str, Any]], protobuf: bool = False) -> dict[str, Any]:
    k = (lambda camel, snake: snake) if protobuf else (lambda camel, snake: camel)
    scope = {"scope": {"name": "autogen-core"}, "spans": [_otlp_span(s, protobuf) for s in spans]}
    resource = {"attributes": _attrs({"service.name": "unknown_service:python"}, protobuf)}
    return {
        k("resourceSpans", "resource_spans"): [
            {"resource": resource, k("scopeSpans", "scope_spans"): [scope]}
        ]
    }


def _write(path: Path, spans: list[dict[str, Any]], batch: int, **kw: Any) -> Path:
    with path.open("w") as fh:
        for i in range(0, len(spans), batch):
            fh.write(json.dumps(_document(spans[i : i + batch], **kw)) + "\n")
    return path


def _events(path: Path) -> pl.DataFrame:
    _, parsed = parse_log(path)
    return parsed.events.drop(_CONTAINER)


@pytest.mark.parametrize(
    "sample", OTEL_SAMPLES, ids=lambda p: f"{p.parent.parent.name}/{p.parent.name}"
)
@pytest.mark.parametrize("protobuf", [False, True], ids=["otlp-json", "protobuf-json"])
def test_the_same_spans_in_otlp_json_give_the_same_events_and_verdict(
    sample: Path, protobuf: bool, tmp_path: Path
) -> None:
    spans = console_spans(sample)
    otlp = _write(tmp_path / "traces.jsonl", spans, batch=7, protobuf=protobuf)
    assert detect_format(otlp).name == "otlp-json"
    assert _events(otlp).equals(_events(sample))
    want, got = analyze_file(sample).runs[-1].diagnosis, analyze_file(otlp).runs[-1].diagnosis
    assert (got.label, got.phase, got.confidence) == (want.label, want.phase, want.confidence)


def test_a_pretty_printed_document_gives_each_span_its_own_line(tmp_path: Path) -> None:
    sample = SAMPLES / "agentchat/healthy_roundrobin_tool/otel.json"
    spans = console_spans(sample)
    pretty = tmp_path / "export.json"
    pretty.write_text(json.dumps(_document(spans), indent=2) + "\n")
    assert _events(pretty).equals(_events(sample))
    _, parsed = parse_log(pretty)
    lines = pretty.read_text().splitlines()
    for row in parsed.events.iter_rows(named=True):
        assert '"spanId"' in lines[row["source_line"] - 1]


def test_a_batch_cut_mid_line_keeps_the_batches_before_it(tmp_path: Path) -> None:
    # SIGKILL while the exporter wrote a batch: the last line stops mid-document.
    spans = console_spans(SAMPLES / "agentchat/healthy_roundrobin_tool/otel.json")
    whole = _write(tmp_path / "whole.jsonl", spans, batch=10)
    text = whole.read_text().splitlines()
    cut = tmp_path / "cut.jsonl"
    cut.write_text("\n".join(text[:-1]) + "\n" + text[-1][: len(text[-1]) // 2])
    _, parsed = parse_log(cut)
    assert parsed.skipped and parsed.skipped[0].line == len(text)
    kept = parse_log(_write(tmp_path / "kept.jsonl", spans[: 10 * (len(text) - 1)], batch=10))[1]
    assert parsed.events.drop(_CONTAINER).equals(kept.events.drop(_CONTAINER))


def test_logs_and_metrics_sharing_the_file_are_counted_not_read(tmp_path: Path) -> None:
    spans = console_spans(SAMPLES / "agentchat/healthy_roundrobin_tool/otel.json")
    path = _write(tmp_path / "all.jsonl", spans, batch=50)
    with path.open("a") as fh:
        fh.write(json.dumps({"resourceLogs": [{"scopeLogs": []}]}) + "\n")
        fh.write(json.dumps({"resourceMetrics": [{"scopeMetrics": []}]}) + "\n")
    _, parsed = parse_log(path)
    unread = {u.kind: u.count for u in parsed.coverage.unread}
    assert unread == {"an OTLP logs or metrics document": 2}
    assert analyze_file(path).runs[-1].diagnosis.label == "healthy"
