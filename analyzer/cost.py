"""What a run cost, per agent and inside its stall: from the cost the framework logged
(classic ``runtime_logging`` records one per call), otherwise tokens times a price table that
ships with the tool, dated and overridable (``[tool.autogen-postmortem.prices]``).

A dated model id takes the price of its family by longest prefix
(``gpt-4o-mini-2024-07-18`` -> ``gpt-4o-mini``); a provider prefix (``openai/``, ``azure/``)
is dropped. A call with neither a logged cost nor a known price is counted, not guessed.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import polars as pl

PRICES_AS_OF = "2025-06"
"""When the shipped list prices were read from the providers' pricing pages."""
Price = tuple[float, float]  # USD per million tokens: (input, output)
PRICES: Mapping[str, Price] = {
    "gpt-4o-mini": (0.15, 0.60),
    "gpt-4o": (2.50, 10.00),
    "gpt-4.1-nano": (0.10, 0.40),
    "gpt-4.1-mini": (0.40, 1.60),
    "gpt-4.1": (2.00, 8.00),
    "gpt-4-turbo": (10.00, 30.00),
    "gpt-4": (30.00, 60.00),
    "gpt-3.5-turbo": (0.50, 1.50),
    "o1-mini": (1.10, 4.40),
    "o1": (15.00, 60.00),
    "o3-mini": (1.10, 4.40),
    "o3": (2.00, 8.00),
    "o4-mini": (1.10, 4.40),
    "claude-3-5-haiku": (0.80, 4.00),
    "claude-3-5-sonnet": (3.00, 15.00),
    "claude-3-7-sonnet": (3.00, 15.00),
    "claude-sonnet-4": (3.00, 15.00),
    "claude-3-opus": (15.00, 75.00),
    "claude-opus-4": (15.00, 75.00),
    "gemini-1.5-flash": (0.075, 0.30),
    "gemini-1.5-pro": (1.25, 5.00),
    "gemini-2.0-flash": (0.10, 0.40),
    "gemini-2.5-flash": (0.30, 2.50),
    "gemini-2.5-pro": (1.25, 10.00),
}


def price_of(model: str | None, prices: Mapping[str, Price]) -> Price | None:
    if not model:
        return None
    name = model.lower().rsplit("/", 1)[-1]
    best = max((key for key in prices if name.startswith(key.lower())), key=len, default=None)
    return prices[best] if best is not None else None


def run_costs(
    events: pl.DataFrame,
    stall_from: Mapping[str, int | None],
    prices: Mapping[str, Price] = PRICES,
) -> dict[str, dict[str, Any]]:
    """Per run id: ``{"usd", "logged_calls", "priced_calls", "unpriced_calls", "models",
    "by_agent", "stall"}``; ``stall_from`` is the seq where each run's stall began (None: no
    stall). All runs at once: one filter and a few group-bys."""
    calls = events.filter(pl.col("kind") == "llm_call").select(
        "run_id", "seq", "agent", "model", "cost_usd", "prompt_tokens", "completion_tokens"
    )
    table = {m: price_of(m, prices) for m in calls["model"].drop_nulls().unique().to_list()}
    known = {m: p for m, p in table.items() if p is not None}
    p_in = pl.col("model").replace_strict(
        {m: p[0] for m, p in known.items()}, default=None, return_dtype=pl.Float64
    )
    p_out = pl.col("model").replace_strict(
        {m: p[1] for m, p in known.items()}, default=None, return_dtype=pl.Float64
    )
    tokens = (
        pl.col("prompt_tokens").fill_null(0) * p_in
        + pl.col("completion_tokens").fill_null(0) * p_out
    )
    logged = pl.col("cost_usd").is_not_null() & (pl.col("cost_usd") > 0)
    starts = pl.DataFrame(
        {"run_id": list(stall_from), "stall_from": list(stall_from.values())},
        schema={"run_id": pl.String, "stall_from": pl.Int64},
    )
    priced = calls.with_columns(
        usd=pl.when(logged).then(pl.col("cost_usd")).otherwise(tokens / 1e6),
        how=pl.when(logged).then(pl.lit("logged")).when(p_in.is_not_null()).then(pl.lit("priced")),
    ).join(starts, on="run_id", how="left")
    in_stall = pl.col("stall_from").is_not_null() & (pl.col("seq") >= pl.col("stall_from"))
    per_run = priced.group_by("run_id").agg(
        usd=pl.col("usd").sum(),
        calls=pl.len(),
        logged_calls=(pl.col("how") == "logged").sum(),
        priced_calls=(pl.col("how") == "priced").sum(),
        models=pl.col("model").drop_nulls().unique().sort(),
        stall_usd=pl.col("usd").filter(in_stall).sum(),
        stall_calls=in_stall.sum(),
        stall_prompt=pl.col("prompt_tokens").filter(in_stall).sum(),
        stall_completion=pl.col("completion_tokens").filter(in_stall).sum(),
        stall_from=pl.col("stall_from").first(),
    )
    by_agent = (
        priced.filter(pl.col("usd").is_not_null())
        .group_by("run_id", "agent")
        .agg(pl.col("usd").sum())
        .sort("usd", descending=True)
    )
    agents: dict[str, dict[str, float]] = {}
    for run_id, agent, usd in by_agent.iter_rows():
        agents.setdefault(run_id, {})[agent or "(unattributed)"] = round(usd, 6)
    out = {}
    for row in per_run.iter_rows(named=True):
        counted = row["logged_calls"] + row["priced_calls"]
        out[row["run_id"]] = {
            "usd": round(row["usd"], 6) if counted else None,
            "calls": row["calls"],
            "logged_calls": row["logged_calls"],
            "priced_calls": row["priced_calls"],
            "unpriced_calls": row["calls"] - counted,
            "models": row["models"],
            "by_agent": agents.get(row["run_id"], {}),
            "stall": None
            if row["stall_from"] is None
            else {
                "from_seq": row["stall_from"],
                "calls": row["stall_calls"],
                "usd": round(row["stall_usd"], 6) if counted else None,
                "prompt_tokens": row["stall_prompt"],
                "completion_tokens": row["stall_completion"],
            },
            "prices": f"logged by the framework, else the shipped table of {PRICES_AS_OF}",
        }
    return out


def describe(cost: Mapping[str, Any] | None) -> str:
    """One line for the terminal and reports: ``$0.0123 over 9 model calls (logged); in the
    stall: $0.0101 over 7 calls``."""
    if not cost or not cost.get("calls"):
        return "no model calls logged"
    how = (
        "logged by the framework"
        if cost["logged_calls"]
        else f"priced from the {PRICES_AS_OF} table"
    )
    if cost["usd"] is None:
        text = f"unknown: {cost['calls']} model call(s) with no logged cost or known price"
    else:
        text = f"${cost['usd']:.4f} over {cost['calls']} model call(s) ({how})"
        if cost["unpriced_calls"]:
            text += f"; {cost['unpriced_calls']} call(s) not priced"
    stall = cost.get("stall")
    if stall and stall["calls"] and stall["usd"] is not None:
        tokens = (stall["prompt_tokens"] or 0) + (stall["completion_tokens"] or 0)
        text += (
            f"; in the stall: ${stall['usd']:.4f} over {stall['calls']} call(s), {tokens:,} tokens"
        )
    return text
