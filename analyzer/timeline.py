"""Events -> turns: a turn is a maximal stretch of consecutive activity by one agent."""

from __future__ import annotations

import polars as pl

from .schema import TURN_SCHEMA

TURN_KINDS = ("message", "tool_call", "tool_result", "llm_call", "input_request")


def build_turns(events: pl.DataFrame) -> pl.DataFrame:
    """``TURN_SCHEMA`` rows for every run in ``events`` (relays, configs and noise are not
    turns); turns are numbered from 0 within each run, runs in order of first appearance."""
    acts = events.filter(pl.col("kind").is_in(TURN_KINDS) & pl.col("agent").is_not_null())
    if acts.is_empty():
        return pl.DataFrame(schema=TURN_SCHEMA)
    acts = acts.with_columns(
        turn=(
            (pl.col("agent") != pl.col("agent").shift(1)).fill_null(True).cum_sum().cast(pl.UInt32)
            - 1
        ).over("run_id"),
        chars=pl.when(pl.col("kind") != "llm_call")
        .then(pl.col("content").str.len_chars())
        .otherwise(0)
        .fill_null(0)
        .cast(pl.Int64),
    )
    turns = (
        acts.group_by("run_id", "turn", maintain_order=True)
        .agg(
            seq_start=pl.col("seq").min(),
            seq_end=pl.col("seq").max(),
            agent=pl.col("agent").first(),
            n_events=pl.len().cast(pl.UInt32),
            ts_start=pl.col("ts").min(),
            ts_end=pl.col("ts").max(),
            content_chars=pl.col("chars").sum(),
            prompt_tokens=pl.col("prompt_tokens").max(),
        )
        .with_columns(
            gap_before_s=(
                (pl.col("ts_start") - pl.col("ts_end").shift(1)).dt.total_microseconds() / 1e6
            ).over("run_id"),
            cum_content_chars=pl.col("content_chars").cum_sum().over("run_id"),
            cum_prompt_tokens=pl.col("prompt_tokens")
            .fill_null(0)
            .cum_sum()
            .cast(pl.Int64)
            .over("run_id"),
        )
    )
    return turns.select(TURN_SCHEMA.names()).cast(TURN_SCHEMA)
