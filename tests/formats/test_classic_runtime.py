"""runtime_logging file and SQLite forms."""

from __future__ import annotations

import hashlib
import shutil
import sqlite3
from pathlib import Path

import pytest

from analyzer import analyze_file
from analyzer.errors import LogFormatError
from analyzer.formats.classic_runtime_file import ClassicRuntimeFile
from analyzer.formats.classic_runtime_sqlite import ClassicRuntimeSqlite

from ..conftest import FIXTURES, SAMPLES

DB = SAMPLES / "classic" / "healthy_tool_terminate" / "logs.db"


def test_garbled_line_is_skipped_visibly() -> None:
    parsed = ClassicRuntimeFile.parse(FIXTURES / "runtime.garbled-line.log")
    assert [(s.line, s.reason) for s in parsed.skipped] == [(3, "truncated or invalid JSON record")]
    result = analyze_file(FIXTURES / "runtime.garbled-line.log")
    az00 = [f for f in result.runs[0].findings if f.code == "AZ00"]
    assert az00 and az00[0].evidence[0].source_line == 3


def test_session_id_becomes_the_run_id() -> None:
    parsed = ClassicRuntimeFile.parse(FIXTURES / "runtime.garbled-line.log")
    assert parsed.events["run_id"].unique().to_list() == ["5aedde3d-4f5e-45a2-9308-dc1f74885325"]


def test_broadcast_copies_are_relays_not_messages() -> None:
    df = ClassicRuntimeFile.parse(SAMPLES / "classic/healthy_groupchat_maxround/runtime.log").events
    msgs = df.filter(df["kind"] == "message")
    relays = df.filter(df["subkind"] == "relay")
    assert msgs.height == 4  # task + three members, once each
    assert relays.height == 3 * msgs.height  # every other member logs its own copy


def test_sqlite_is_opened_read_only(tmp_path: Path) -> None:
    db = tmp_path / "logs.db"
    shutil.copy(DB, db)
    before = hashlib.sha256(db.read_bytes()).hexdigest(), db.stat().st_mtime_ns
    analyze_file(db)
    assert (hashlib.sha256(db.read_bytes()).hexdigest(), db.stat().st_mtime_ns) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["logs.db"]  # no journal, no wal


def test_sqlite_sessions_become_separate_runs(tmp_path: Path) -> None:
    db = tmp_path / "two.db"
    shutil.copy(DB, db)
    con = sqlite3.connect(db)
    con.execute(
        "INSERT INTO agents (agent_id, wrapper_id, session_id, name, class, init_args, timestamp) "
        "VALUES (1, '', 'second-session', 'night_bot', 'UserProxyAgent', "
        "'{\"human_input_mode\": \"NEVER\"}', '2030-01-01 00:00:00.000000')"
    )
    con.execute(
        "INSERT INTO events (event_name, source_id, source_name, json_state, timestamp) VALUES "
        "('received_message', 1, 'night_bot', "
        '\'{"message": "nightly check", "sender": "cron", "valid": true}\', '
        "'2030-01-01 00:00:01.000000')"
    )
    con.commit()
    con.close()
    result = analyze_file(db)
    assert [r.run_id for r in result.runs][-1] == "second-session"
    assert len(result.runs) == 2
    assert result.runs[0].diagnosis.label == "healthy"


def test_sqlite_without_autogen_tables_is_a_clear_error(tmp_path: Path) -> None:
    db = tmp_path / "other.db"
    con = sqlite3.connect(db)
    con.execute("CREATE TABLE t (x)")
    con.commit()
    con.close()
    with pytest.raises(LogFormatError, match="not an AutoGen runtime_logging database"):
        ClassicRuntimeSqlite.parse(db)


def test_evidence_cites_sqlite_table_and_row() -> None:
    run = analyze_file(SAMPLES / "classic/blocking_tool_sigint/logs.db").runs[0]
    refs = [e.ref for f in run.findings for e in f.evidence]
    assert any(r and r.startswith("events#") for r in refs)


def test_a_state_or_init_args_that_is_no_object_is_skipped_visibly(tmp_path: Path) -> None:
    """A damaged database page can leave a json_state that decodes to a string, or none."""
    import json

    lines = (SAMPLES / "classic/healthy_tool_terminate/runtime.log").read_text().splitlines()
    event = next(i for i, x in enumerate(lines) if '"received_message"' in x)
    agent = next(i for i, x in enumerate(lines) if '"agent_name"' in x)
    damaged = dict(json.loads(lines[event]), json_state='{"message": "Compare the')
    lines[event] = json.dumps(damaged)
    lines[agent] = json.dumps(dict(json.loads(lines[agent]), args='"just a string"'))
    path = tmp_path / "runtime.log"
    path.write_text("\n".join(lines) + "\n")
    parsed = ClassicRuntimeFile.parse(path)
    assert [(s.line, s.reason.split(" ")[0]) for s in parsed.skipped] == sorted(
        [(event + 1, "json_state"), (agent + 1, "agent")]
    )
    assert (
        parsed.events.height
        == ClassicRuntimeFile.parse(
            SAMPLES / "classic/healthy_tool_terminate/runtime.log"
        ).events.height
        - 2
    )


def chat_completions() -> list[str]:
    return [
        line
        for path in sorted(SAMPLES.glob("classic/*/runtime.log"))
        for line in path.read_text().splitlines()
        if line.startswith('{"invocation_id": ')
    ]


def test_a_chat_completion_without_its_request_is_the_full_record_less_the_request() -> None:
    import orjson

    from analyzer.formats.classic_runtime_file import _without_request

    lines = chat_completions()
    assert len(lines) > 100
    for line in lines:
        full = orjson.loads(line)
        del full["request"]
        assert _without_request(line, 0) == full


def test_the_request_is_never_decoded(tmp_path: Path) -> None:
    # The history a completion was asked with, cut short: only a reader that skips it still
    # sees the model call.
    src = SAMPLES / "classic/loop_twoagent_sigint/runtime.log"
    lines = src.read_text().splitlines()
    at = next(i for i, line in enumerate(lines) if line.startswith('{"invocation_id": '))
    head, rest = lines[at].split(', "request": ', 1)
    lines[at] = (
        head + ', "request": {"messages": [{"content": "cut' + rest[rest.index(', "response": ') :]
    )
    path = tmp_path / "runtime.log"
    path.write_text("\n".join(lines) + "\n")
    garbled, clean = (ClassicRuntimeFile.parse(p).events for p in (path, src))
    assert garbled.drop("source_format").equals(clean.drop("source_format"))


@pytest.mark.parametrize(
    "line",
    [
        '{"invocation_id": "x", "response": "{}", "request": {"messages": []}, "source_name": "a"}',
        '{"invocation_id": "x", "request": {}, "response": "{}", "extra": {"a": 0, "response": 1}}',
        '{"session_id": "x", "request": {}, "response": "{}"}',
        '{"invocation_id": "x", "response": "{}", "source_name": "a"}',
    ],
    ids=["request-last", "nested-response-key", "not-a-completion", "no-request"],
)
def test_other_shapes_are_left_to_the_full_decode(line: str) -> None:
    from analyzer.formats.classic_runtime_file import _without_request

    assert _without_request(line, 0) is None
