"""The detector interface and the helpers detectors share (evidence, event subsets, runs).

A detector sees every run of a file at once: its filters run once over the whole event table
(vectorised), and only the rows they keep reach Python, grouped by run. A file of a thousand
short runs then costs a few polars queries per detector, not a few per run.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

import orjson
import polars as pl

from ..config import Thresholds
from ..findings import Evidence, Finding, Phase, Verdict
from ..redact import excerpt

if TYPE_CHECKING:
    from ..ending import RunEnding

RunFinding = tuple[str, Finding]  # (run id, finding)
PROGRESS_KINDS = ("message", "tool_call", "tool_result", "llm_call", "input_request", "input_reply")
PROGRESS = pl.col("kind").is_in(PROGRESS_KINDS) | pl.col("subkind").is_in(
    ["tool_exec_start", "tool_exec_end", "code_exec_start"]
)  # events that show the conversation moving (not relays, configs or tracebacks)
# What detectors read off a row: identity, evidence fields and the matching keys.
ROW_COLUMNS = (
    *("run_id", "seq", "source_line", "source_ref", "kind", "subkind", "agent", "recipient"),
    *("content", "tool_name", "tool_call_id", "tool_args"),
)
MANAGER_HINTS = ("manager", "chat_manager")
T = TypeVar("T")


def family_text(texts: Mapping[str, str], family: str) -> str:
    """The text (a fix) written for ``family``, else the first one given."""
    return texts.get(family) or next(iter(texts.values()))


def evidence(row: Mapping[str, Any], note: str, text: str | None = None) -> Evidence:
    """An Evidence record for one event row (a dict from ``iter_rows(named=True)``)."""
    body = text if text is not None else row.get("content")
    if (text is None and row.get("kind") == "tool_call" and row.get("tool_name")) or (
        not body and row.get("tool_name")
    ):
        body = f"{row['tool_name']}({row.get('tool_args') or ''})"
    return Evidence(
        seq=int(row["seq"]),
        source_line=int(row["source_line"]),
        agent=row.get("agent") or row.get("recipient"),
        excerpt=excerpt(body),
        note=note,
        ref=row.get("source_ref"),
    )


def rows(df: pl.DataFrame) -> Iterator[dict[str, Any]]:
    return df.iter_rows(named=True)


def by_run(
    df: pl.DataFrame, *extra: str, columns: Sequence[str] = ROW_COLUMNS
) -> dict[str, list[dict[str, Any]]]:
    """The rows of ``df`` (which may hold many runs) per run id, each run's in order, with
    ``columns`` (by default what evidence reads) and ``extra`` ones: a row costs per column."""
    grouped: dict[str, list[dict[str, Any]]] = {}
    for row in rows(df.select(c for c in (*columns, *extra) if c in df.columns)):
        grouped.setdefault(row["run_id"], []).append(row)
    return grouped


def last_by_run(df: pl.DataFrame) -> dict[str, dict[str, Any]]:
    """The last row of each run in ``df``."""
    return {
        row["run_id"]: row for row in rows(df.unique("run_id", keep="last", maintain_order=True))
    }


def max_seq_by_run(df: pl.DataFrame) -> dict[str, int]:
    """The highest ``seq`` of each run in ``df`` (runs without rows are absent)."""
    top = df.group_by("run_id").agg(pl.col("seq").max())
    return dict(zip(top["run_id"].to_list(), top["seq"].to_list(), strict=True))


def progress(events: pl.DataFrame) -> pl.DataFrame:
    """Events that show the conversation moving (not relays, configs or tracebacks)."""
    return events.filter(PROGRESS)


def is_manager(name: str | None) -> bool:
    return bool(name) and any(h in name.lower() for h in MANAGER_HINTS)  # type: ignore[union-attr]


def spread(items: Sequence[T], keep: int = 5) -> tuple[T, ...]:
    """First, second and last few items: enough to see a pattern without flooding the report.

    Pick rows with it *before* building evidence: evidence is redacted text, not free.
    """
    if len(items) <= keep:
        return tuple(items)
    return (*items[:2], *items[-(keep - 2) :])


def rows_of(df: pl.DataFrame, picks: Sequence[Sequence[int]]) -> list[list[dict[str, Any]]]:
    """The rows of ``df`` at each finding's picked positions, fetched in one gather for all of
    them: a row lookup per evidence item cost ~5 us, on every run of a many-run log."""
    found = df[[i for picked in picks for i in picked]].to_dicts()
    out, at = [], 0
    for picked in picks:
        out.append(found[at : at + len(picked)])
        at += len(picked)
    return out


class Detector:
    """One check. ``check`` yields (run id, finding) pairs; class attributes identify and
    document it. ``endings`` (per run id, from the ending stage), ``repeats`` (the repetition
    scan of every run) and the log's ``family`` are there for detectors that read them."""

    code: ClassVar[str]
    """``^[A-Z]+\\d{2}$``, stable across versions."""
    name: ClassVar[str]
    """kebab-case, for --select/--ignore."""
    stall_class: ClassVar[Verdict]
    """The verdict class its findings argue for."""
    fix: ClassVar[dict[str, str]]
    """Framework family ("classic", "agentchat") -> the remedy for this cause."""
    thresholds: ClassVar[tuple[str, ...]] = ()
    """The fields of ``config.Thresholds`` it reads (a test holds this to its code); the
    values stay in that one documented object, which is what users set."""

    def __init__(
        self,
        endings: Mapping[str, RunEnding] | None = None,
        family: str = "classic",
        repeats: pl.DataFrame | None = None,
    ) -> None:
        self.endings = endings
        self.family = family
        self.repeats = repeats

    def check(self, events: pl.DataFrame, cfg: Thresholds) -> Iterable[RunFinding]:
        """Findings for every run in ``events`` (one run or many), each with its run id."""
        raise NotImplementedError

    def finding(
        self,
        *,
        phase: Phase,
        score: float,
        summary: str,
        evidence: Iterable[Evidence],
        metrics: Mapping[str, float] | None = None,
        fix: str = "",
        subject: str | None = None,
        stall_class: Verdict | None = None,
    ) -> Finding:
        """A finding of this detector, its code, name and class (unless given) filled in."""
        return Finding(
            code=self.code,
            detector=self.name,
            stall_class=stall_class or self.stall_class,
            phase=phase,
            score=score,
            summary=summary,
            evidence=tuple(evidence),
            metrics=dict(metrics or {}),
            fix=fix,
            subject=subject,
        )


TOOL_TRAFFIC = pl.col("kind").is_in(["tool_call", "tool_result"]) | pl.col("subkind").is_in(
    ["tool_exec_start", "tool_exec_end"]
)
TOOL_ANSWER = (pl.col("kind") == "tool_result") | (pl.col("subkind") == "tool_exec_end")


def open_tool_calls(traffic: Iterable[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """Tool calls (and execution starts) that no later result or execution end answers.

    ``traffic`` is one run's ``TOOL_TRAFFIC`` rows, in order. Results are matched by call id;
    runtime file logs give executions no id, so there a result with the same tool name and
    arguments closes the oldest open call.
    """
    pending: dict[str, Mapping[str, Any]] = {}
    for row in traffic:
        key = row["tool_call_id"]
        if row["kind"] == "tool_call" or row["subkind"] == "tool_exec_start":
            if key is None:
                key = f"{row['tool_name']}|{row['tool_args']}|{row['seq']}"
            pending[key] = row  # an exec start replaces its call: it is the later sign of life
        elif key is not None and key in pending:
            del pending[key]
        else:
            sig = f"{row['tool_name']}|{row['tool_args']}|"
            match = next(
                (
                    k
                    for k, r in pending.items()
                    if f"{r['tool_name']}|{r['tool_args']}|" == sig or k == key
                ),
                None,
            )
            if match is None and row["tool_name"] is None:
                match = next(iter(pending), None)
            if match is not None:
                del pending[match]
    return sorted(pending.values(), key=lambda r: r["seq"])


def pace_by_run(moves: pl.DataFrame) -> dict[str, float]:
    """Per run with a clock and at least two gaps: the median seconds between activities."""
    gaps = (
        moves.filter(pl.col("ts").is_not_null())
        .with_columns(gap=pl.col("ts").diff().over("run_id").dt.total_microseconds() / 1e6)
        .group_by("run_id")
        .agg(pace=pl.col("gap").drop_nulls().median(), gaps=pl.col("gap").drop_nulls().len())
        .filter(pl.col("gaps") >= 2)
    )
    return dict(zip(gaps["run_id"].to_list(), gaps["pace"].to_list(), strict=True))


def seconds_between(start: Any, end: Any) -> float | None:
    if start is None or end is None:
        return None
    return max(0.0, float((end - start).total_seconds()))


# How sure a stop read by its clock is: one that came well after the run's last step (past
# ``caught_in_flight``) 0.85; without a clock a quick step caught in flight looks the same: 0.7.
CLOCKED, NO_CLOCK = 0.85, 0.7


def caught_in_flight(wait: float | None, usual: float | None, cfg: Thresholds) -> bool:
    """A stop ``wait`` seconds after the run's last step, in a run whose steps usually take
    ``usual``: as quick as that (under ``slow_tool_factor`` times it, or 1 s) caught a step in
    flight rather than one that never finished. Without a clock it cannot tell: False."""
    return wait is not None and usual is not None and wait < max(1.0, cfg.slow_tool_factor * usual)


def agent_settings(events: pl.DataFrame) -> dict[tuple[str, str], dict[str, Any]]:
    """Each logged agent's settings (``agent_config`` rows: human_input_mode,
    max_consecutive_auto_reply...), keyed by (run id, agent)."""
    settings: dict[tuple[str, str], dict[str, Any]] = {}
    for run_id, agent, content in (
        events.filter(pl.col("subkind") == "agent_config")
        .select("run_id", "agent", "content")
        .iter_rows()
    ):
        try:
            found = orjson.loads(content or "{}")
        except orjson.JSONDecodeError:
            continue
        if agent and isinstance(found, dict):
            settings[(run_id, agent)] = found
    return settings
