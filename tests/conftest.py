"""Shared fixtures: sample discovery, an event-frame builder, and --update-golden."""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from analyzer import fastpaths
from analyzer.formats.base import EventSink, json_documents

# A fast path that gives up raises in the tests instead of quietly taking its reference path
# (set here, before any test, so worker processes inherit it); see ``fallbacks``.
os.environ[fastpaths.ENV_STRICT] = "1"

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "sample_logs"
# Bare autogen-core agents (no team): their ids carry no team uuid, so two such programs
# concatenated into one file are one run. Tests that concatenate team logs leave them out.
BARE_AGENTS = ("healthy_rpc_roundtrip", "reentry_rpc_deadlock")


def team_logs(pattern: str) -> list[Path]:
    """Sample files matching ``pattern`` (under sample_logs/) that record AgentChat teams."""
    return sorted(p for p in SAMPLES.glob(pattern) if p.parent.name not in BARE_AGENTS)


FIXTURES = Path(__file__).resolve().parent / "fixtures"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--update-golden", action="store_true", help="rewrite tests/golden/*")


@pytest.fixture
def update_golden(request: pytest.FixtureRequest) -> bool:
    return bool(request.config.getoption("--update-golden"))


@pytest.fixture(params=[fastpaths.Mode.OFF, fastpaths.Mode.ALWAYS])
def fast_paths(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> fastpaths.Mode:
    """The test runs twice: on the reference paths only, and on every fast path however small
    its input (an equivalence test compares what it gets in each with the other)."""
    monkeypatch.setenv(fastpaths.ENV_MODE, request.param.value)
    return fastpaths.Mode(request.param)


@pytest.fixture
def fallbacks(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> Callable[[], list[str]]:
    """For a test that makes a fast path give up: fallbacks are logged (not raised), and this
    returns the messages logged so far."""
    monkeypatch.setenv(fastpaths.ENV_STRICT, "0")
    caplog.set_level(logging.INFO, logger=fastpaths.log.name)
    return lambda: [r.getMessage() for r in caplog.records if r.name == fastpaths.log.name]


def labelled_samples() -> list[tuple[Path, dict[str, Any]]]:
    """Every sample log file with its expected outcome from the scenario's label.json."""
    out = []
    for label_file in sorted(SAMPLES.rglob("label.json")):
        label = json.loads(label_file.read_text())
        for name, expected in sorted(label["expected"].items()):
            out.append((label_file.parent / name, expected))
    return out


def console_spans(path: Path) -> list[dict[str, Any]]:
    """The spans of a ConsoleSpanExporter file (objects back to back, pretty or not)."""
    return [doc for _, text, doc in json_documents(path.read_text()) if text is not None]


def make_events(*rows: dict[str, Any], with_time: bool = False) -> pl.DataFrame:
    """A valid EVENT_SCHEMA frame from short dicts: ``{"kind": "message", "agent": "a", ...}``.

    ``source_line`` defaults to seq + 1; ``with_time`` stamps one second apart unless given.
    """
    sink = EventSink("test")
    start = datetime(2026, 1, 1, tzinfo=UTC)
    for i, row in enumerate(rows):
        row = dict(row)
        kind = row.pop("kind")
        line = row.pop("line", i + 1)
        if with_time and "ts" not in row:
            row["ts"] = start + timedelta(seconds=i)
        elif "at" in row:
            row["ts"] = start + timedelta(seconds=row.pop("at"))
        sink.add(kind, line, **row)
    return sink.frame()


def msg(agent: str, content: str, to: str | None = None, **kw: Any) -> dict[str, Any]:
    return {"kind": "message", "agent": agent, "recipient": to, "content": content, **kw}


def call(agent: str, tool: str, args: str, cid: str, to: str | None = None) -> dict[str, Any]:
    return {
        "kind": "tool_call",
        "agent": agent,
        "recipient": to,
        "tool_name": tool,
        "tool_args": args,
        "tool_call_id": cid,
        "content": args,
    }


def result(agent: str, cid: str, content: str, tool: str | None = None) -> dict[str, Any]:
    return {
        "kind": "tool_result",
        "agent": agent,
        "tool_call_id": cid,
        "content": content,
        "tool_name": tool,
    }
