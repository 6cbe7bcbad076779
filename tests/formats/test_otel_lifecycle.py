"""Spans read by their lifecycle: a span an interrupt closed is not a finished operation."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from analyzer.formats import parse_log

SAMPLES = Path(__file__).parents[2] / "sample_logs" / "agentchat"


def test_an_agent_turn_closed_by_the_interrupt_is_read_as_interrupted() -> None:
    # Ctrl-C while the coder's code block ran: its invoke_agent span and every span around it
    # ended in the same millisecond, status UNSET, with no output messages.
    _, parsed = parse_log(SAMPLES / "blocking_code_execution/otel.json")
    events = parsed.events
    cut = events.filter(events["subkind"] == "interrupt")
    assert cut.height == 1
    assert "interrupted inside invoke_agent coder after" in cut["content"][0]
    assert events["ts"].max() == cut["ts"][0]


@pytest.mark.parametrize(
    "run", ["healthy_roundrobin_tool", "healthy_selector_streaming", "healthy_code_execution"]
)
def test_spans_of_a_finished_run_are_never_read_as_interrupted(run: str) -> None:
    _, parsed = parse_log(SAMPLES / run / "otel.json")
    assert "interrupt" not in parsed.events["subkind"].drop_nulls().to_list()


def test_a_tool_span_ended_with_its_ancestors_at_the_last_instant_is_an_open_call(
    tmp_path: Path,
) -> None:
    # The healthy run, cut where its first tool ran: the tool span and its ancestors made to
    # end at that instant (what an interrupt leaves), everything after dropped.
    raw = (SAMPLES / "healthy_roundrobin_tool/otel.json").read_text()
    decoder, pos, spans = json.JSONDecoder(), 0, []
    while (start := raw.find("{", pos)) >= 0:
        span, pos = decoder.raw_decode(raw, start)
        spans.append(span)
    tool = next(s for s in spans if s["name"].startswith("execute_tool "))
    by_id = {s["context"]["span_id"]: s for s in spans}
    chain, parent = [tool], by_id.get(tool["parent_id"])
    while parent is not None:
        chain.append(parent)
        parent = by_id.get(parent.get("parent_id"))
    stop = tool["end_time"]
    kept = [s for s in spans if s["end_time"] <= stop and s not in chain]
    for span in chain:
        span["end_time"] = stop
    path = tmp_path / "otel.json"
    path.write_text("\n".join(json.dumps(s) for s in kept + chain) + "\n")
    _, parsed = parse_log(path)
    events = parsed.events
    name = tool["attributes"]["gen_ai.tool.name"]
    assert events.filter((events["kind"] == "tool_call") & (events["tool_name"] == name)).height
    assert not events.filter(events["kind"] == "tool_result").height
    assert "interrupt" in events["subkind"].drop_nulls().to_list()


@pytest.mark.parametrize("form", ["events.log", "otel.json"])
def test_direct_messages_are_events_in_logging_and_spans(form: str) -> None:
    # team.run() sends GroupChatStart to the manager as an RPC and awaits its response.
    _, parsed = parse_log(SAMPLES / "reentry_team_run" / form)
    events = parsed.events
    sends = events.filter(events["subkind"] == "rpc_send")
    answers = events.filter(events["subkind"] == "rpc_respond")
    assert sends.height >= 1 and answers.height >= 1
    assert sends["recipient"][0] == "RoundRobinGroupChatManager"
    assert answers["agent"][0] == "RoundRobinGroupChatManager"
    assert sends["seq"][0] < answers["seq"][0]


def test_publishes_are_not_direct_messages() -> None:
    _, parsed = parse_log(SAMPLES / "loop_swarm_pingpong" / "events.log")
    rpc = parsed.events.filter(parsed.events["subkind"].str.starts_with("rpc_"))
    assert rpc.height == 2  # one team run: one GroupChatStart sent, one response


def test_tool_spans_before_the_genai_conventions_are_tool_calls() -> None:
    # autogen-core 0.5.x names a tool's span after the tool (tool_name, tool_args attributes).
    _, parsed = parse_log(SAMPLES.parent / "agentchat-0.5/blocking_tool_sync/otel.json")
    calls = parsed.events.filter(parsed.events["kind"] == "tool_call")
    assert calls["tool_name"].to_list() == ["query_db"]
    assert "SELECT region" in calls["tool_args"][0]
    assert parsed.coverage is not None and parsed.coverage.fraction == 1.0
