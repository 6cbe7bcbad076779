"""Spans read by their lifecycle: a span an interrupt closed is not a finished operation."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from analyzer.formats import parse_log

from ..conftest import console_spans

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
    spans = console_spans(SAMPLES / "healthy_roundrobin_tool/otel.json")
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


KILLED = ["healthy_roundrobin_tool", "healthy_selector_streaming", "healthy_code_execution"]


@pytest.mark.parametrize("run", KILLED)
def test_spans_of_a_run_killed_after_each_turn_prove_it_unfinished(
    run: str, tmp_path: Path
) -> None:
    # SIGKILL after an agent's turn: only spans that had ended were exported; the spans
    # around the turn (the team's, the runtime's) were still open and are missing.
    from analyzer.pipeline import analyze_file

    spans = console_spans(SAMPLES / run / "otel.json")
    turns = sorted(s["end_time"] for s in spans if s["name"].startswith("invoke_agent "))
    assert turns
    for stop in turns[:-1]:
        kept = [s for s in spans if s["end_time"] <= stop]
        ids = {s["context"]["span_id"] for s in kept}
        orphans = {s["parent_id"] for s in kept if s.get("parent_id") and s["parent_id"] not in ids}
        path = tmp_path / "otel.json"
        path.write_text("\n".join(json.dumps(s) for s in kept) + "\n")
        result = analyze_file(path)
        events = result.runs[0].events
        still_open = events.filter(events["subkind"] == "span_open")
        assert still_open.height == len(orphans)
        assert orphans, "a turn's spans sit inside the team's"
        assert result.runs[0].diagnosis.label != "healthy"
        run_end = next(f for f in result.runs[0].findings if f.code == "RUN01")
        assert "still running" in run_end.summary


@pytest.mark.parametrize("run", KILLED)
def test_a_finished_run_has_no_open_span(run: str) -> None:
    _, parsed = parse_log(SAMPLES / run / "otel.json")
    assert "span_open" not in parsed.events["subkind"].drop_nulls().to_list()


def test_tool_call_parts_of_an_agents_output_are_calls(tmp_path: Path) -> None:
    # GenAI output messages (AG2's tracing writes them): a tool_call part is the model's
    # request. Killed while the tool ran: its execute_tool span was never exported.
    fixture = Path(__file__).parents[1] / "fixtures" / "otel.tool-call-part-without-tool-span.json"
    _, parsed = parse_log(fixture)
    events = parsed.events
    calls = events.filter(events["kind"] == "tool_call")
    assert calls["tool_name"].to_list() == ["fetch_page"]
    assert calls["tool_call_id"].to_list() == ["call_7"]
    assert calls["tool_args"].to_list() == ['{"url":"https://example.com"}']
    assert not events.filter(events["kind"] == "tool_result").height
    # Its execution span, once exported, is that call running, not a second call.
    spans = console_spans(fixture)
    agent = spans[0]
    tool = {
        "name": "execute_tool fetch_page",
        "context": {"trace_id": agent["context"]["trace_id"], "span_id": "0x00000000000000t1"},
        "parent_id": None,
        "start_time": "2026-12-06T10:00:02.000000Z",
        "end_time": "2026-12-06T10:00:03.000000Z",
        "status": {"status_code": "OK"},
        "attributes": {
            "gen_ai.operation.name": "execute_tool",
            "gen_ai.tool.name": "fetch_page",
            "gen_ai.tool.call.id": "call_7",
            "gen_ai.tool.call.arguments": '{"url": "https://example.com"}',
            "gen_ai.tool.call.result": "<html>",
        },
    }
    path = tmp_path / "otel.json"
    path.write_text("\n".join(json.dumps(s) for s in [*spans, tool]) + "\n")
    _, parsed = parse_log(path)
    events = parsed.events
    assert events.filter(events["kind"] == "tool_call").height == 1
    assert events.filter(events["subkind"] == "tool_exec_start")["tool_call_id"].to_list() == [
        "call_7"
    ]
    assert events.filter(events["kind"] == "tool_result")["tool_call_id"].to_list() == ["call_7"]


@pytest.mark.parametrize("run", ["input_wait_userproxy", "input_wait_custom_async"])
def test_a_human_input_request_on_a_process_span_is_read_once(run: str) -> None:
    """autogen-core 0.7 writes each delivered message on its process span: the request is one
    input_request, however many subscribers processed it."""
    path = SAMPLES / run / "otel.json"
    _, parsed = parse_log(path)
    requests = parsed.events.filter(parsed.events["kind"] == "input_request")
    on_spans = path.read_text().count('\\"type\\":\\"UserInputRequestedEvent\\"')
    assert requests.height == 1 <= on_spans
    assert requests["agent"][0] in ("user_proxy", "approver")


def test_a_stack_on_an_exception_event_is_the_errors_text_once_per_exception() -> None:
    _, parsed = parse_log(SAMPLES / "blocking_tool_async/otel.json")
    raised = parsed.events.filter(parsed.events["kind"] == "error")
    errors = raised.filter(raised["subkind"].is_null())["content"].to_list()
    # Two spans recorded the same shutdown error, each with its own stack: read once, with
    # the stack (the interrupt inside the tool is in its first chunk). The spans it cut (the
    # tool's and its agent's) are interrupts of their own.
    assert len(errors) == 1
    cut = raised.filter(raised["subkind"] == "interrupt")["content"].to_list()
    assert [c.split(" after ")[0] for c in cut] == [
        "interrupted inside execute_tool fetch_report",
        "interrupted inside invoke_agent analyst",
    ]
    assert errors[0].startswith("Traceback") and "in fetch_report" in errors[0]
    assert errors[0].endswith("ValueError: task_done() called too many times")
