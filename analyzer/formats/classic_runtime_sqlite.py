"""``runtime_logging`` SQLite database of classic AutoGen (``logs.db``), opened read-only.

Rows of all tables are merged in time order into one event stream. ``events`` and
``function_calls`` have no session column, so a database with several sessions is split at the
first timestamp each session wrote anywhere; every session becomes its own run.
"""

from __future__ import annotations

import bisect
import sqlite3
from pathlib import Path
from typing import Any, ClassVar

from ..errors import LogFormatError
from ._runtime_records import RuntimeRecords, resolved
from .base import EventSink, ParsedLog, Sniff, require_events

_QUERIES = {
    # table -> (query, columns mapped into the file-log record shape)
    "agents": "SELECT id, agent_id, name AS agent_name, class AS agent_type, init_args, "
    "timestamp AS current_time, timestamp, session_id FROM agents",
    "events": "SELECT id, event_name, source_id, source_name, json_state, timestamp FROM events",
    "chat_completions": "SELECT id, invocation_id, source_name, request, response, cost, "
    "start_time, end_time, end_time AS timestamp, session_id FROM chat_completions",
    "function_calls": "SELECT rowid AS id, source_name, function_name, args AS input_args, "
    "returns, timestamp FROM function_calls",
}


class ClassicRuntimeSqlite:
    name: ClassVar[str] = "classic-runtime-sqlite"
    family: ClassVar[str] = "classic"
    description: ClassVar[str] = 'runtime_logging.start(logger_type="sqlite") database'

    @staticmethod
    def sniff(head: str) -> float:
        return Sniff.SIGNATURE if head.startswith("SQLite format 3\x00") else Sniff.NONE

    @staticmethod
    def parse(path: Path) -> ParsedLog:
        rows = _read_rows(path)
        starts = _session_starts(rows)
        sink = EventSink(ClassicRuntimeSqlite.name)
        records = RuntimeRecords(sink, from_calls=not any(t == "events" for _, _, t, _ in rows))
        for _, _, table, rec in sorted(rows, key=lambda r: (r[0], r[1])):
            if starts:
                at = bisect.bisect_right([s for s, _ in starts], rec.get("timestamp") or "") - 1
                sink.run_id = starts[max(at, 0)][1]
            records.record(rec, int(rec["id"]), ref=f"{table}#{rec['id']}")
        sink.counted(len(rows), "rows")
        require_events(path, sink, "runtime-log rows")
        return resolved(sink.result())


def _read_rows(path: Path) -> list[tuple[str, int, str, dict[str, Any]]]:
    try:
        # mode=ro + immutable: never write, never create a journal next to the user's file.
        con = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro&immutable=1", uri=True)
    except sqlite3.Error as exc:
        raise LogFormatError(path, f"cannot open SQLite database: {exc}") from exc
    try:
        con.row_factory = sqlite3.Row
        tables = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        # 0.2.16-0.2.2x databases have no events table and no chat_completions.source_name:
        # the conversation is in the model calls, their agent found by its client wrapper.
        if "chat_completions" not in tables or not tables & {"events", "agents"}:
            raise LogFormatError(path, "SQLite file is not an AutoGen runtime_logging database")
        rows = []
        for order, (table, query) in enumerate(_QUERIES.items()):
            if table not in tables:
                continue
            if table == "chat_completions" and "source_name" not in _columns(con, table):
                query = (
                    _OLD_COMPLETIONS
                    if "agents" in tables
                    else query.replace("source_name,", "NULL AS source_name,")
                )
            for row in con.execute(query):
                rec = {k: row[k] for k in row.keys() if row[k] is not None}  # noqa: SIM118
                rows.append((rec.get("timestamp") or "", order, table, rec))
        return rows
    except sqlite3.DatabaseError as exc:
        raise LogFormatError(path, f"corrupt SQLite database: {exc}") from exc
    finally:
        con.close()


# A model call's agent in a database that does not name it: the agent owning its client.
_OLD_COMPLETIONS = (
    "SELECT c.id, c.invocation_id, (SELECT a.name FROM agents a WHERE a.wrapper_id = "
    "c.wrapper_id AND a.session_id = c.session_id ORDER BY a.id DESC LIMIT 1) AS source_name, "
    "c.request, c.response, c.cost, c.start_time, c.end_time, c.end_time AS timestamp, "
    "c.session_id FROM chat_completions c"
)


def _columns(con: sqlite3.Connection, table: str) -> set[str]:
    return {row[1] for row in con.execute(f"PRAGMA table_info({table})")}


def _session_starts(rows: list[tuple[str, int, str, dict[str, Any]]]) -> list[tuple[str, str]]:
    first: dict[str, str] = {}
    for ts, _, _, rec in rows:
        session = rec.get("session_id")
        if session and (session not in first or ts < first[session]):
            first[session] = ts
    return sorted((ts, session) for session, ts in first.items())
