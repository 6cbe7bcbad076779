"""Every recorded classic run in its structured forms (runtime_logging file and SQLite,
IOStream events, a saved chat history), with its agents renamed to names the 0.2 API allows
(spaces, dots, unicode), reads to the same events, renamed, and the same verdict."""

from __future__ import annotations

import re
import shutil
import sqlite3
from pathlib import Path

import polars as pl
import pytest

from analyzer.pipeline import AnalysisResult, analyze_file

SAMPLES = Path(__file__).parents[2] / "sample_logs"
FORMS = ("runtime.log", "logs.db", "events.jsonl", "chat_history.json")
RECORDS = sorted(p for form in FORMS for p in SAMPLES.glob(f"classic*/*/{form}"))
ids = [f"{p.parent.parent.name}/{p.parent.name}/{p.name}" for p in RECORDS]
NEW_NAMES = ("Data Analyst", "Überprüfer 2", "agent.v2", "日本語 エージェント", "QA lead")
# Words a name may share with the message format itself (roles), and the agents GroupChat
# makes itself for 'auto' speaker selection (their names are the framework's): never renamed.
ROLES = {"assistant", "user", "system", "tool", "function"}
FRAMEWORK_AGENTS = {"checking_agent", "speaker_selection_agent"}
TEXT_COLUMNS = ["agent", "recipient", "content", "tool_name", "tool_call_id", "tool_args"]
KEPT_COLUMNS = ["kind", "subkind", "source_line"]


def _renamer(result: AnalysisResult) -> tuple[re.Pattern[str], dict[str, str]]:
    names: set[str] = set()
    for run in result.runs:
        for column in ("agent", "recipient"):
            names.update(n for n in run.events[column].drop_nulls().unique().to_list() if n)
    kept = ROLES | FRAMEWORK_AGENTS
    chosen = sorted(n for n in names if n not in kept and re.fullmatch(r"[\w-]{3,}", n))
    mapping = {old: f"{NEW_NAMES[k % len(NEW_NAMES)]} {k}" for k, old in enumerate(chosen)}
    words = "|".join(re.escape(n) for n in sorted(mapping, key=len, reverse=True))
    return re.compile(rf"(?<![\w.-])(?:{words})(?![\w-])"), mapping


def _rename(text: str, pattern: re.Pattern[str], mapping: dict[str, str]) -> str:
    return pattern.sub(lambda m: mapping[m[0]], text)


def _rewrite(path: Path, dest: Path, pattern: re.Pattern[str], mapping: dict[str, str]) -> None:
    if path.suffix != ".db":
        dest.write_text(_rename(path.read_text(encoding="utf-8"), pattern, mapping), "utf-8")
        return
    shutil.copy(path, dest)
    with sqlite3.connect(dest) as db:
        tables = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        for table in tables:
            columns = [r[1] for r in db.execute(f"PRAGMA table_info({table})")]
            rows = db.execute(f"SELECT rowid, {', '.join(columns)} FROM {table}").fetchall()
            for rowid, *values in rows:
                renamed = [
                    _rename(v, pattern, mapping) if isinstance(v, str) else v for v in values
                ]
                if renamed != values:
                    sets = ", ".join(f"{c} = ?" for c in columns)
                    db.execute(f"UPDATE {table} SET {sets} WHERE rowid = ?", [*renamed, rowid])


def _events(result: AnalysisResult) -> pl.DataFrame:
    return pl.concat(r.events.select([*KEPT_COLUMNS, *TEXT_COLUMNS]) for r in result.runs)


@pytest.mark.parametrize("path", RECORDS, ids=ids)
def test_renamed_agents_read_the_same(path: Path, tmp_path: Path) -> None:
    original = analyze_file(path)
    pattern, mapping = _renamer(original)
    if not mapping:
        pytest.skip("no agent name to rename")
    dest = tmp_path / path.name
    _rewrite(path, dest, pattern, mapping)
    renamed = analyze_file(dest)
    want = _events(original).with_columns(
        pl.col(c).map_elements(lambda v: _rename(v, pattern, mapping), return_dtype=pl.String)
        for c in TEXT_COLUMNS
    )
    got = _events(renamed)
    assert got.equals(want), f"renamed {sorted(mapping)}"
    verdicts = [(r.diagnosis.label, r.diagnosis.phase) for r in renamed.runs]
    assert verdicts == [(r.diagnosis.label, r.diagnosis.phase) for r in original.runs]
