"""How much of a file was understood: counted by every parser, shown in every output, and a
verdict from a file mostly not understood is not confident."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest
from click.testing import CliRunner

from analyzer.cli import main
from analyzer.errors import AnalyzerError
from analyzer.formats import parse_log
from analyzer.pipeline import analyze_file
from analyzer.report.markdown import render_markdown
from tests.conftest import labelled_samples
from tests.metamorphic.rewrite import records

SAMPLES = Path(__file__).parent.parent / "sample_logs"
HEALTHY = SAMPLES / "classic/healthy_tool_terminate/console.txt"


@pytest.mark.parametrize("path", [p for p, _ in labelled_samples()], ids=str)
def test_every_recorded_sample_is_read_to_at_least_98_percent(path: Path) -> None:
    _, parsed = parse_log(path)
    coverage = parsed.coverage
    assert coverage is not None and coverage.total > 0
    assert coverage.fraction >= 0.98, coverage


def test_a_verdict_from_a_file_mostly_not_understood_says_so_and_is_not_confident(
    tmp_path: Path,
) -> None:
    # The same real run, buried in the application's own output (400 lines no pattern knows).
    whole = analyze_file(HEALTHY).runs[0].diagnosis
    noisy = tmp_path / "console.txt"
    noise = "".join(f"step {i}: loaded shard {i} of the corpus\n" for i in range(400))
    noisy.write_text(noise + HEALTHY.read_text())
    run = analyze_file(noisy).runs[0]
    cov = run.stats.coverage
    assert cov["unit"] == "lines" and cov["read"] < cov["total"] / 2
    assert cov["unread"][0]["count"] == 400 and cov["unread"][0]["lines"] == [1, 2, 3, 4, 5]
    assert run.diagnosis.label == whole.label
    assert run.diagnosis.confidence < whole.confidence / 2
    assert f"read {cov['read']} of {cov['total']} lines" in run.diagnosis.summary


def test_a_fully_read_file_keeps_its_confidence() -> None:
    run = analyze_file(HEALTHY).runs[0]
    assert run.stats.coverage["share"] == 1.0
    assert "understood" not in run.diagnosis.summary


def test_coverage_in_terminal_markdown_json_and_batch(tmp_path: Path) -> None:
    runner = CliRunner()
    out = runner.invoke(main, ["analyze", str(HEALTHY), "--no-report"])
    assert "  coverage: read " in out.output
    doc = json.loads(runner.invoke(main, ["analyze", str(HEALTHY), "--no-report", "--json"]).output)
    assert doc["runs"][0]["stats"]["coverage"]["unit"] == "lines"
    result = analyze_file(HEALTHY)
    assert "## How much was read" in render_markdown(result, result.runs[0])
    batch = runner.invoke(main, ["batch", str(HEALTHY.parent), "--out", str(tmp_path / "b")])
    assert batch.exit_code == 0, batch.output
    summary = pl.read_csv(tmp_path / "b" / "summary.csv")
    assert {"coverage", "read"} <= set(summary.columns)
    assert summary["coverage"].min() > 0.98


def test_records_not_recognised_are_named_in_the_error_not_called_empty(tmp_path: Path) -> None:
    # AutoGen logging whose layout puts the logger name at the end of a long message.
    run = SAMPLES / "agentchat/loop_swarm_pingpong"
    fmt = json.loads((run / "label.json").read_text())["logging_format"]
    lines = []
    for logger, level, _, message in records((run / "events.log").read_text(), fmt):
        lines.append(f"{message.split(chr(10))[0]} -- {logger} {level}")
    path = tmp_path / "tail.log"
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(AnalyzerError, match="--log-format") as caught:
        analyze_file(path)
    assert "empty or truncated" not in str(caught.value)


def test_unknown_event_types_are_counted_as_not_read(tmp_path: Path) -> None:
    src = SAMPLES / "agentchat/healthy_roundrobin_tool/events.log"
    extra = (
        '2026-11-24 21:08:34,141 - autogen_core.events - INFO - {"type": "FutureEvent", "x": 1}\n'
    )
    path = tmp_path / "events.log"
    path.write_text(extra * 3 + src.read_text())
    cov = analyze_file(path).runs[0].stats.coverage
    kinds = {u["kind"]: u for u in cov["unread"]}
    assert kinds["autogen_core.events record of unknown type FutureEvent"]["count"] == 3
