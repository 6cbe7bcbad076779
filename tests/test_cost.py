"""Cost: the framework's logged cost where there is one, else tokens times the dated price
table; per run, per agent and inside the stall; in every output."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import polars as pl
import pytest
from click.testing import CliRunner

from analyzer import analyze_file
from analyzer.cli import main
from analyzer.cost import PRICES, price_of

from .conftest import SAMPLES

RUNTIME = SAMPLES / "classic" / "loop_tool_repeat" / "runtime.log"
AGENTCHAT = SAMPLES / "agentchat" / "loop_swarm_pingpong" / "events.log"
CONSOLE = SAMPLES / "classic" / "loop_tool_repeat" / "console.txt"


@pytest.mark.parametrize(
    ("model", "family"),
    [
        ("gpt-4o-mini-2024-07-18", "gpt-4o-mini"),
        ("gpt-4o-2024-08-06", "gpt-4o"),
        ("openai/gpt-4.1-mini", "gpt-4.1-mini"),
        ("GPT-4O", "gpt-4o"),
        ("claude-3-5-sonnet-20241022", "claude-3-5-sonnet"),
    ],
)
def test_a_dated_model_takes_its_familys_price(model: str, family: str) -> None:
    assert price_of(model, PRICES) == PRICES[family]


def test_an_unknown_model_has_no_price() -> None:
    assert price_of("my-local-llama", PRICES) is None and price_of(None, PRICES) is None


def test_a_logged_cost_is_the_cost() -> None:
    logged = [
        json.loads(line)["cost"]
        for line in RUNTIME.read_text().splitlines()
        if line.startswith("{") and '"cost"' in line
    ]
    cost = analyze_file(RUNTIME).runs[0].stats.cost
    assert cost["logged_calls"] == len(logged) == cost["calls"]
    assert cost["usd"] == pytest.approx(sum(logged), abs=1e-6)
    assert "gpt-4o-mini-2024-07-18" in cost["models"]


def test_tokens_times_the_table_where_nothing_was_logged() -> None:
    run = analyze_file(AGENTCHAT).runs[0]
    calls = run.events.filter(pl.col("kind") == "llm_call")
    p_in, p_out = PRICES["gpt-4o-mini"]
    expected = (
        calls["prompt_tokens"].sum() * p_in + calls["completion_tokens"].sum() * p_out
    ) / 1e6
    cost = run.stats.cost
    assert cost["priced_calls"] == calls.height and cost["logged_calls"] == 0
    assert cost["usd"] == pytest.approx(expected, abs=1e-6)
    assert sum(cost["by_agent"].values()) == pytest.approx(cost["usd"], abs=1e-5)


def test_the_stall_window_starts_at_the_verdicts_first_evidence() -> None:
    run = analyze_file(AGENTCHAT).runs[0]
    stall = run.stats.cost["stall"]
    first = min(e.seq for f in run.findings if f.code in run.diagnosis.because for e in f.evidence)
    calls = run.events.filter((pl.col("kind") == "llm_call") & (pl.col("seq") >= first))
    assert stall["from_seq"] == first and stall["calls"] == calls.height
    assert stall["prompt_tokens"] == calls["prompt_tokens"].sum()
    assert 0 < stall["usd"] <= run.stats.cost["usd"]


def test_a_healthy_run_has_no_stall_window() -> None:
    run = analyze_file(SAMPLES / "classic" / "healthy_tool_terminate" / "runtime.log").runs[0]
    assert run.diagnosis.label == "healthy" and run.stats.cost["stall"] is None


def test_prices_from_settings_override_the_table(tmp_path: Path) -> None:
    config = tmp_path / "p.toml"
    config.write_text('[prices]\n"gpt-4o-mini" = [1000.0, 1000.0]\n')
    result = CliRunner().invoke(
        main, ["analyze", str(AGENTCHAT), "--no-report", "--json", "--config", str(config)]
    )
    cost = json.loads(result.stdout)["runs"][0]["stats"]["cost"]
    run = analyze_file(AGENTCHAT).runs[0]
    tokens = run.events["prompt_tokens"].sum() + run.events["completion_tokens"].sum()
    assert cost["usd"] == pytest.approx(tokens * 1000 / 1e6, rel=1e-6)


def test_cost_shows_in_every_output(tmp_path: Path) -> None:
    out = tmp_path / "out"
    text = (
        CliRunner()
        .invoke(main, ["analyze", str(AGENTCHAT), "--out", str(out), "--charts", "none", "--html"])
        .stdout
    )
    assert (
        "  cost: $0.0116 over 47 model call(s) (priced from the 2025-06 table); in the stall:"
        in text
    )
    (md,) = out.glob("*.md")
    assert "| cost | \\$0.0116 over 47 model call(s)" in md.read_text()
    (page,) = out.glob("*.html")
    assert "$0.0116 over 47 model call(s)" in page.read_text()
    logs = tmp_path / "logs"
    for name, src in (("a", AGENTCHAT), ("b", RUNTIME), ("c", CONSOLE)):
        (logs / name).mkdir(parents=True)
        shutil.copy(src, logs / name / src.name)
    CliRunner().invoke(main, ["batch", str(logs), "--out", str(tmp_path / "b")])
    rows = pl.read_csv(tmp_path / "b" / "summary.csv").sort("source")
    assert rows["cost_usd"].to_list()[:2] == pytest.approx([0.011645, 0.000942], abs=1e-6)
    assert rows["cost_usd"][2] is None
    assert (
        "Cost: $0.0126 over 2 run(s) with priced model calls"
        in (tmp_path / "b" / "index.md").read_text()
    )
