"""Every recorded AutoGen 0.4+ text log, re-rendered by ``logging.Formatter`` with other
format strings, reads to the same events and verdicts: sniffed, and with ``--log-format``."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest

from analyzer.formats.agentchat_logging.format_strings import compile_format
from analyzer.pipeline import AnalysisResult, analyze_file
from tests.metamorphic.rewrite import LOG_FORMATS, records, reformat

SAMPLES = Path(__file__).parents[2] / "sample_logs"
LOGS = sorted(p.parent for p in SAMPLES.glob("agentchat*/*/events.log"))
COLUMNS = ["kind", "subkind", "agent", "recipient", "content", "tool_name", "tool_call_id"]


def _source(run: Path) -> tuple[str, str]:
    fmt = json.loads((run / "label.json").read_text())["logging_format"]
    return (run / "events.log").read_text(), fmt


def _events(result: AnalysisResult, with_time: bool) -> pl.DataFrame:
    cols = [*COLUMNS, "tool_args", "source_line", *(["ts"] if with_time else [])]
    return pl.concat([r.events.select(cols) for r in result.runs])


def _verdicts(result: AnalysisResult) -> list[tuple[str, str]]:
    return [(r.diagnosis.label, r.diagnosis.phase) for r in result.runs]


@pytest.fixture(scope="module")
def originals() -> dict[Path, AnalysisResult]:
    return {run: analyze_file(run / "events.log") for run in LOGS}


def test_the_rewriter_reads_back_every_record_of_the_original() -> None:
    # The harness itself: splitting by the recorded format string loses no line.
    for run in LOGS:
        text, fmt = _source(run)
        lines = sum(1 + m.count("\n") for *_, m in records(text, fmt))
        assert lines == text.count("\n") + (not text.endswith("\n")), run


@pytest.mark.parametrize("key", sorted(LOG_FORMATS))
@pytest.mark.parametrize("run", LOGS, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_same_events_and_verdict_under_another_format_string(
    run: Path, key: str, tmp_path: Path, originals: dict[Path, AnalysisResult]
) -> None:
    text, fmt = _source(run)
    path = tmp_path / "events.log"
    path.write_text(reformat(text, fmt, key))
    original = originals[run]
    with_time = "asctime" in LOG_FORMATS[key] and original.runs[0].events["ts"].null_count() == 0
    for given in (None, LOG_FORMATS[key]):
        if given is not None and "{" in given:
            given = None  # brace style: compile_format reads it; logging's style is the test's
        result = analyze_file(path, log_format=given)
        assert result.format == "agentchat-logging"
        assert _events(result, with_time).equals(_events(original, with_time)), (key, given)
        assert _verdicts(result) == _verdicts(original), (key, given)


def test_log_format_reads_a_layout_sniffing_cannot(tmp_path: Path) -> None:
    # The logger name after a long message: no prefix to find it in.
    text, fmt = _source(SAMPLES / "agentchat/loop_swarm_pingpong")
    odd = "%(message)s -- %(name)s %(levelname)s"
    path = tmp_path / "tail-name.log"
    lines = []
    for logger, level, _, message in records(text, fmt):
        first, *rest = message.split("\n")
        lines += [f"{first} -- {logger} {level}", *rest]
    path.write_text("\n".join(lines) + "\n")
    original = analyze_file(SAMPLES / "agentchat/loop_swarm_pingpong/events.log")
    result = analyze_file(path, log_format=odd)
    assert _events(result, False).equals(_events(original, False))
    assert _verdicts(result) == _verdicts(original)


@pytest.mark.parametrize(
    ("text", "fields"),
    [
        ("%(asctime)s - %(name)s - %(levelname)s - %(message)s", {"when", "logger", "level"}),
        ("{asctime} {name:<20} {levelname} {message}", {"when", "logger", "level"}),
        ("${name}: ${message}", {"logger"}),
        ("%(name)s %(message)s %%", {"logger"}),
    ],
)
def test_compile_format_styles(text: str, fields: set[str]) -> None:
    compiled = compile_format(text)
    assert {"logger", "message"} <= set(compiled.pattern.groupindex)
    assert fields <= set(compiled.pattern.groupindex)


@pytest.mark.parametrize("text", ["%(asctime)s %(message)s", "%(name)s only", "plain text"])
def test_a_format_without_name_or_message_is_refused(text: str) -> None:
    with pytest.raises(ValueError, match="no "):
        compile_format(text)


def test_log_format_on_the_command_line(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from analyzer.cli import main

    text, fmt = _source(SAMPLES / "agentchat/loop_swarm_pingpong")
    path = tmp_path / "events.log"
    path.write_text(reformat(text, fmt, "time-after-name"))
    given = LOG_FORMATS["time-after-name"]
    runner = CliRunner()
    ok = runner.invoke(main, ["analyze", str(path), "--no-report", "--log-format", given])
    assert ok.exit_code == 0 and "verdict: Loop" in ok.output
    bad = runner.invoke(main, ["analyze", str(path), "--log-format", "%(asctime)s %(message)s"])
    assert bad.exit_code == 2 and "no name field" in bad.output
    other = runner.invoke(
        main, ["analyze", str(path), "--format", "classic-console", "--log-format", given]
    )
    assert other.exit_code == 2
