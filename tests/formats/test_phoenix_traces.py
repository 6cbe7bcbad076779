"""Phoenix trace exports: the same recorded trace as ``px traces`` files, as ``--format raw``
output, with nested attributes, must give the same events; ``rootSpan`` is not read twice."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from analyzer import analyze_file
from analyzer.formats import detect_format, parse_log

from ..conftest import SAMPLES

TRACES = sorted(SAMPLES.glob("agentchat-phoenix/*/phoenix-trace.json"))
_CONTAINER = ("source_line", "source_format", "seq")


def _events(path: Path) -> pl.DataFrame:
    return parse_log(path)[1].events.drop(_CONTAINER)


def _nested(flat: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in flat.items():
        *parents, leaf = key.split(".")
        node = out
        for part in parents:
            node = node.setdefault(part, {})
            if not isinstance(node, dict):
                return flat  # a key both a value and a prefix: keep it flat
        node[leaf] = value
    return out


@pytest.mark.parametrize("trace", TRACES, ids=lambda p: p.parent.name)
def test_a_trace_as_raw_output_or_with_nested_attributes_reads_the_same(
    trace: Path, tmp_path: Path
) -> None:
    assert detect_format(trace).name == "phoenix-traces"
    doc = json.loads(trace.read_text())
    raw = tmp_path / "raw.json"
    raw.write_text(json.dumps([doc]))  # px traces --format raw: an array, one line
    assert _events(raw).equals(_events(trace))
    for span in doc["spans"]:
        span["attributes"] = _nested(span["attributes"])
    nested = tmp_path / "nested.json"
    nested.write_text(json.dumps(doc, indent=2))
    assert _events(nested).equals(_events(trace))


def test_the_root_span_is_read_once() -> None:
    trace = SAMPLES / "agentchat-phoenix/healthy_roundrobin_tool/phoenix-trace.json"
    doc = json.loads(trace.read_text())
    assert doc["rootSpan"] in doc["spans"]
    coverage = parse_log(trace)[1].coverage
    assert (coverage.unit, coverage.total) == ("spans", len(doc["spans"]))


def test_each_span_is_cited_on_its_own_line() -> None:
    trace = SAMPLES / "agentchat-phoenix/loop_swarm_pingpong/phoenix-trace.json"
    lines = trace.read_text().splitlines()
    events = parse_log(trace)[1].events
    assert events["source_line"].n_unique() > 10
    for line in events["source_line"].unique().to_list():
        assert '"span_id"' in lines[line - 1]
    assert analyze_file(trace).runs[-1].diagnosis.label == "loop"
