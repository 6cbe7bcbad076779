"""AutoGen logging written as JSON lines must mean what the same records mean as text.

The recorded JSON samples (python-json-logger) are checked by their labels in test_samples;
here every text sample is rewritten record by record into the JSON shapes other formatters
use, and must give the events of the text parse.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from analyzer import analyze_file, fastpaths
from analyzer.errors import UnknownFormatError
from analyzer.formats import detect_format
from analyzer.formats.agentchat_logging import json_lines as json_layout
from analyzer.formats.agentchat_logging import text as text_layout
from analyzer.formats.agentchat_logging.json_lines import AgentchatJsonLogging
from analyzer.formats.agentchat_logging.text import AgentchatLogging
from analyzer.formats.base import parse_ts
from analyzer.formats.io import split_parse
from analyzer.formats.io.files import iter_lines
from analyzer.formats.io.line_batches import Span
from analyzer.formats.io.split_parse import cut, merge

from ..conftest import SAMPLES, team_logs

AC = SAMPLES / "agentchat"
Record = tuple[str, str, str | None, list[str]]


def text_records(path: Path) -> Iterator[Record]:
    """(logger, level, time, lines) of each AutoGen record of a text log, as the text parser
    groups them (continuation lines belong to the record before)."""
    record: Record | None = None
    for _, line in iter_lines(path):
        split = text_layout._split(line)
        if split is not None or text_layout.RECORD_START.match(line):
            if record:
                yield record
            record = None if split is None else (split[0], split[1], split[2], [split[3]])
        elif record is not None:
            record[3].append(line)
    if record:
        yield record


def _epoch(when: str | None) -> float | None:
    stamp = parse_ts(when)
    return stamp.timestamp() if stamp else None


Shape = Callable[[Record], dict[str, Any]]
SHAPES: dict[str, Shape] = {
    # python-json-logger, "%(asctime)s %(name)s %(levelname)s %(message)s"
    "python-json-logger": lambda r: {
        "asctime": r[2],
        "name": r[0],
        "levelname": r[1],
        "message": r[3][0],
        **({"exc_info": "\n".join(r[3][1:])} if r[3][1:] else {}),
    },
    # structlog's stdlib integration: event, lower-case level, ISO time
    "structlog": lambda r: {
        "event": r[3][0],
        "logger": r[0],
        "level": r[1].lower(),
        "timestamp": r[2] and r[2].replace(" ", "T").replace(",", "."),
        **({"exception": "\n".join(r[3][1:])} if r[3][1:] else {}),
    },
    # ECS: nested log object, @timestamp, error.stack_trace
    "ecs": lambda r: {
        "@timestamp": r[2],
        "log": {"logger": r[0], "level": r[1].lower()},
        "message": r[3][0],
        **({"error": {"stack_trace": "\n".join(r[3][1:])}} if r[3][1:] else {}),
        "ecs.version": "1.6.0",
    },
    # unknown key names: the logger found by its value; the time as an epoch number
    "epoch": lambda r: {
        "created": _epoch(r[2]),
        "source": r[0],
        "severity": r[1],
        "msg": r[3][0],
        **({"stack_info": "\n".join(r[3][1:])} if r[3][1:] else {}),
    },
}
SCENARIOS = [p.parent.name for p in team_logs("agentchat/*/events.log")]
# one team per scenario, unless its label says the log holds more (SocietyOfMind's inner team)
TEAM_RUNS = sum(
    json.loads((AC / s / "label.json").read_text())["expected"]["events.log"].get("runs", 1)
    for s in SCENARIOS
) + len(list(SAMPLES.glob("agentchat-json/*/events.jsonl")))


def as_json_lines(src: Path, dest: Path, shape: Shape) -> Path:
    noise = {"name": "urllib3.connectionpool", "levelname": "DEBUG", "message": "GET /v1 200"}
    lines = [json.dumps(noise)]
    lines += (
        json.dumps({k: v for k, v in shape(record).items() if v is not None})
        for record in text_records(src)
    )
    dest.write_text("\n".join(lines) + "\n")
    return dest


def _comparable(events: pl.DataFrame) -> pl.DataFrame:
    # The rewrite keeps AutoGen's records only: other libraries' (the model client's
    # retries) are compared by their own test below.
    kept = events.filter(pl.col("subkind").fill_null("") != "model_retry")
    return kept.drop("source_line", "source_format", "seq")


@pytest.mark.parametrize("scenario", SCENARIOS)
@pytest.mark.parametrize("shape", sorted(SHAPES))
def test_json_lines_give_the_events_of_the_text_layout(
    scenario: str, shape: str, tmp_path: Path
) -> None:
    src = AC / scenario / "events.log"
    path = as_json_lines(src, tmp_path / "app.jsonl", SHAPES[shape])
    assert detect_format(path) is AgentchatJsonLogging
    events = AgentchatJsonLogging.parse(path).events
    assert events.height > 0
    expected = AgentchatLogging.parse(src).events
    assert _comparable(events).equals(_comparable(expected))


def test_the_verdict_and_evidence_lines_follow_the_json_file(tmp_path: Path) -> None:
    src = AC / "blocking_tool_sync/events.log"
    path = as_json_lines(src, tmp_path / "app.jsonl", SHAPES["python-json-logger"])
    run = analyze_file(path).runs[0]
    assert run.diagnosis.label == analyze_file(src).runs[0].diagnosis.label == "blocking_tool"
    lines = path.read_text().splitlines()
    for finding in run.findings:
        for ev in finding.evidence:
            if ev.excerpt and ev.source_line:
                assert ev.excerpt.split("(")[0][:20] in lines[ev.source_line - 1].replace(
                    '\\"', '"'
                ), (finding.code, ev)


def test_json_logs_of_other_libraries_are_not_claimed(tmp_path: Path) -> None:
    path = tmp_path / "service.jsonl"
    path.write_text(
        "".join(
            json.dumps({"asctime": "2026-11-25 10:00:00,000", "name": name, "message": "ok"}) + "\n"
            for name in ("uvicorn.access", "asyncio", "sqlalchemy.engine") * 5
        )
    )
    with pytest.raises(UnknownFormatError):
        detect_format(path)


def test_a_garbled_line_is_skipped_visibly(tmp_path: Path) -> None:
    src = AC / "loop_swarm_pingpong/events.log"
    path = as_json_lines(src, tmp_path / "app.jsonl", SHAPES["python-json-logger"])
    lines = path.read_text().splitlines()
    at = next(i for i, line in enumerate(lines) if "autogen_core.events" in line)
    lines[at] = lines[at][: len(lines[at]) // 2]
    path.write_text("\n".join(lines) + "\n")
    parsed = AgentchatJsonLogging.parse(path)
    assert [s.line for s in parsed.skipped] == [at + 1]
    assert parsed.events.height > 0


@pytest.fixture(scope="module")
def json_runs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The recorded JSON samples and every text sample rewritten, in one file: one team run
    each (``TEAM_RUNS``), two field namings, tracebacks, a garbled line."""
    path = tmp_path_factory.mktemp("json") / "all.jsonl"
    parts = [p.read_bytes() for p in sorted(SAMPLES.glob("agentchat-json/*/events.jsonl"))]
    for k, scenario in enumerate(SCENARIOS):
        shape = SHAPES[sorted(SHAPES)[k % len(SHAPES)]]
        rewritten = as_json_lines(AC / scenario / "events.log", path.with_suffix(".tmp"), shape)
        parts.append(rewritten.read_bytes())
    parts.insert(3, b'{"asctime": "2026-11-25 10:00:00,000", "name": "autogen_core.events", "me\n')
    path.write_bytes(b"".join(parts))
    return path


def _sequential(path: Path) -> tuple[pl.DataFrame, tuple]:
    part = json_layout._parse_span(path, Span())
    return part.events, part.skipped


@pytest.mark.parametrize("parts", [2, 3, 7])
def test_spans_give_the_sequential_parse(json_runs: Path, parts: int) -> None:
    spans = cut(json_runs, parts, lambda line: True)
    assert len(spans) == parts
    merged = merge([json_layout._parse_span(json_runs, span) for span in spans])
    events, skipped = merged.events, merged.skipped
    want_events, want_skipped = _sequential(json_runs)
    assert want_events["run_id"].n_unique() == TEAM_RUNS and len(want_skipped) == 1
    assert_frame_equal(events, want_events)
    assert skipped == want_skipped


@pytest.mark.usefixtures("tiny_spans")
def test_a_large_file_is_parsed_by_worker_processes(json_runs: Path, merges: list[int]) -> None:
    parsed = AgentchatJsonLogging.parse(json_runs)
    assert merges == [len(split_parse.guided(json_runs.stat().st_size, 2))]
    assert merges[0] > 2
    want_events, want_skipped = _sequential(json_runs)
    assert_frame_equal(parsed.events, want_events)
    assert parsed.skipped == want_skipped


def test_a_rotated_file_opening_on_a_record_longer_than_the_head_is_recognised(
    tmp_path: Path,
) -> None:
    lines = (SAMPLES / "agentchat-json/context_explosion_tool/events.jsonl").read_text()
    rows = lines.splitlines(keepends=True)
    longest = max(range(len(rows)), key=lambda i: len(rows[i]))
    assert len(rows[longest]) > 64 * 1024
    rotated = tmp_path / "events.jsonl.1"
    rotated.write_text("".join(rows[longest:]))
    assert detect_format(rotated) is AgentchatJsonLogging
    assert analyze_file(rotated).runs[0].diagnosis.label == "context_explosion"


def test_times_as_written_or_as_epoch_numbers() -> None:
    assert json_layout._time({"asctime": "2026-11-25 10:00:00,123"}) == "2026-11-25 10:00:00,123"
    seconds = json_layout._time({"created": 1764064800.5})
    millis = json_layout._time({"ts": 1764064800500})
    assert seconds == millis == "2025-11-25T10:00:00.500000+00:00"
    for nonsense in (1e30, -1e20, float("nan"), True):
        assert json_layout._time({"created": nonsense}) is None


def test_hops_under_the_usual_keys_skip_the_field_search(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from analyzer.formats.agentchat_logging import json_lines as json_logging

    path = as_json_lines(
        AC / "loop_swarm_pingpong/events.log", tmp_path / "app.jsonl", SHAPES["python-json-logger"]
    )
    searched: list[int] = []
    real = json_logging._fields
    monkeypatch.setattr(json_logging, "_fields", lambda r: searched.append(1) or real(r))
    fast = AgentchatJsonLogging.parse(path).events
    records = len(path.read_text().splitlines())
    assert 0 < len(searched) < 0.6 * records  # most records are hops, read in place
    monkeypatch.setenv(fastpaths.ENV_MODE, "off")  # every record decoded and searched
    assert fast.equals(AgentchatJsonLogging.parse(path).events)


def test_a_hop_message_over_two_lines_is_read_as_a_record(tmp_path: Path) -> None:
    from analyzer.formats.agentchat_logging import json_lines as json_logging
    from analyzer.formats.agentchat_logging.records import RecordParser
    from analyzer.formats.base import EventSink

    hop = (
        '{"payload": "{}", "sender": null, "receiver": null, "kind": "MessageKind.PUBLISH", '
        '"delivery_stage": "DeliveryStage.SEND", "type": "Message"}'
    )
    parser = RecordParser(EventSink("test"))
    record = {"name": "autogen_core.events", "message": hop}
    assert json_logging._hop_read(parser, 1, record)
    assert not json_logging._hop_read(parser, 2, {**record, "message": hop + "\n  more"})
    assert not json_logging._hop_read(parser, 3, {**record, "name": "other"})
    assert not json_logging._hop_read(parser, 4, {"logger": "autogen_core.events", "event": hop})


def test_the_model_clients_retry_records_are_read_from_json_lines(tmp_path: Path) -> None:
    src = AC / "blocking_model_rate_limited/events.log"
    retries = [line for line in src.read_text().splitlines() if "Retrying request" in line]
    records = [json.dumps(SHAPES["python-json-logger"](r)) for r in text_records(src)]
    for line in retries:  # openai's own records, as the same formatter writes them
        when, message = line.split(" - ")[0], line.split(" - ", 3)[3]
        record = {"asctime": when, "name": "openai._base_client", "levelname": "INFO"}
        records.append(json.dumps({**record, "message": message}))
    path = tmp_path / "app.jsonl"
    path.write_text("\n".join(records) + "\n")
    events = AgentchatJsonLogging.parse(path).events
    read = events.filter(pl.col("subkind") == "model_retry")
    assert read["content"].to_list() == [line.split(" - ", 3)[3] for line in retries]
    assert read["ts"].null_count() == 0
