"""AgentChat console, logging streams written with any format string, and OpenTelemetry spans."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from analyzer import analyze_file
from analyzer.formats import parse_log

from ..conftest import SAMPLES

AC = SAMPLES / "agentchat"
# FMT_A records: "2026-11-24 21:08:01,123 - autogen_core.events - INFO - {...}"
FMT_A = re.compile(r"^(\S+ \S+) - (\S+) - (\w+) - (.*)$")
REWRITES = {
    "pipes": "{ts} | {level:<8} | {name} | {msg}",
    "time-last": "{level} {name}: {msg} @ {ts}",
    "no-time": "{level}:{name}:{msg}",
    "iso-t": "{iso} [{name}] {level}: {msg}",
    "bracketed": "[{ts}] [{level}] [{name}] {msg}",
}


def rewrite(src: Path, dest: Path, template: str) -> Path:
    out = []
    for line in src.read_text().splitlines():
        m = FMT_A.match(line)
        if m:
            out.append(
                template.format(
                    ts=m[1],
                    iso=m[1].replace(" ", "T").replace(",", "."),
                    name=m[2],
                    level=m[3],
                    msg=m[4],
                )
            )
        else:
            out.append(line)  # traceback continuation lines stay as they are
    dest.write_text("\n".join(out) + "\n")
    return dest


@pytest.mark.parametrize(
    "scenario", ["loop_swarm_pingpong", "blocking_tool_sync", "healthy_roundrobin_tool"]
)
@pytest.mark.parametrize("style", sorted(REWRITES))
def test_logging_is_read_whatever_the_format_string(
    scenario: str, style: str, tmp_path: Path
) -> None:
    src = AC / scenario / "events.log"
    original = analyze_file(src).runs[0]
    moved = analyze_file(rewrite(src, tmp_path / "app.log", REWRITES[style]))
    assert moved.format == "agentchat-logging"
    run = moved.runs[0]
    assert run.diagnosis.label == original.diagnosis.label
    assert run.events.height == original.events.height
    if style == "no-time":
        assert run.events["ts"].null_count() == run.events.height
    else:
        assert run.events["ts"].to_list() == original.events["ts"].to_list()


def test_times_are_read_from_the_prefix() -> None:
    run = analyze_file(AC / "blocking_tool_sync/events.log").runs[0]
    assert run.events["ts"].null_count() == 0
    assert run.stats.duration_s > 3  # the SIGINTs came seconds after the tool call


def test_two_team_runs_in_one_logging_file_are_two_runs(tmp_path: Path) -> None:
    both = tmp_path / "both.log"
    both.write_text(
        (AC / "healthy_roundrobin_tool/events.log").read_text()
        + (AC / "loop_selector_same_agent/events.log").read_text()
    )
    runs = analyze_file(both).runs
    assert [r.diagnosis.label for r in runs] == ["healthy", "loop"]
    assert len({r.run_id for r in runs}) == 2


def test_two_team_runs_in_one_console_are_two_runs(tmp_path: Path) -> None:
    both = tmp_path / "both.txt"
    both.write_text(
        (AC / "healthy_roundrobin_tool/console.txt").read_text()
        + (AC / "blocking_tool_sync/console.txt").read_text()
    )
    runs = analyze_file(both).runs
    assert [r.diagnosis.label for r in runs] == ["healthy", "blocking_tool"]


def test_interleaved_prompt_is_placed_after_the_block_it_interrupted() -> None:
    events = parse_log(AC / "input_wait_userproxy/console.txt")[1].events
    kinds = events["kind"].cast(str).to_list()
    assert kinds[-1] == "input_request"
    last_text = events.filter(events["kind"] == "message")["content"][-1]
    assert last_text == "Here is the outline. Shall I write section 2?"


def test_tool_calls_are_read_from_reprs_and_json_alike() -> None:
    for name in ("console.txt", "events.log"):
        events = parse_log(AC / "loop_roundrobin_no_termination" / name)[1].events
        calls = events.filter(events["kind"] == "tool_call")
        assert set(calls["tool_args"].to_list()) == {'{"suite":"unit"}'}
        assert calls["tool_call_id"].n_unique() == calls.height  # fresh call ids, same arguments


def test_error_termination_is_an_error_not_a_clean_end() -> None:
    run = analyze_file(AC / "context_explosion_tool/events.log").runs[0]
    assert not run.stats.terminated
    assert run.diagnosis.label == "context_explosion"


def test_truncated_span_file_keeps_what_was_complete(tmp_path: Path) -> None:
    text = (AC / "loop_swarm_pingpong/otel.json").read_text()
    cut = tmp_path / "spans.json"
    cut.write_text(text[: len(text) // 2])
    result = analyze_file(cut)
    assert result.skipped and result.skipped[0].reason == "truncated or invalid span JSON"
    assert any(f.code == "AZ00" for f in result.runs[0].findings)


def test_spans_of_a_stuck_tool_show_it_cut_by_the_interrupt() -> None:
    # The sync tool's span ended 5.1 ms after its agent's, as the interrupt unwound them: a
    # 5 ms "together" window read it as finished, and the verdict as unknown.
    _, parsed = parse_log(AC / "blocking_tool_sync/otel.json")
    cut = parsed.events.filter(parsed.events["subkind"] == "interrupt")["content"].to_list()
    assert any(c.startswith("interrupted inside execute_tool query_db") for c in cut)
    d = analyze_file(AC / "blocking_tool_sync/otel.json").runs[0].diagnosis
    assert (d.label, d.phase) == ("blocking_tool", "tool_execution")


def test_agentchat_fixes_speak_agentchat() -> None:
    d = analyze_file(AC / "input_wait_userproxy/events.log").runs[0].diagnosis
    assert "input_func" in d.fix and "human_input_mode" not in d.fix


def test_a_console_without_output_stats_says_why_its_end_is_unknown(tmp_path: Path) -> None:
    """Console's default (output_stats=False) writes no Summary, so a finished run's stop
    reason is not in the transcript: unknown, and RUN01 names the option that records it."""
    src = AC / "healthy_roundrobin_tool" / "console.txt"
    assert analyze_file(src).runs[0].diagnosis.label == "healthy"
    stats = (
        "[Prompt tokens",
        "---------- Summary",
        "Number of messages",
        "Finish reason",
        "Total prompt tokens",
        "Total completion tokens",
        "Duration",
    )
    default = tmp_path / "console.txt"
    default.write_text(
        "".join(x for x in src.read_text().splitlines(keepends=True) if not x.startswith(stats))
    )
    run = analyze_file(default).runs[0]
    assert run.diagnosis.label == "unknown"
    assert "output_stats=True" in run.diagnosis.summary
    stopped = analyze_file(AC / "input_wait_custom_async" / "events.log").runs[0]
    assert not any("output_stats" in f.summary for f in stopped.findings)
