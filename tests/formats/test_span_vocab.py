"""Span vocabularies other than autogen-core's: OpenInference (beside the framework's own
spans), AG2's tracing, Microsoft Agent Framework. Recorded runs; where a rule needs a case the
recordings lack, a small span list built here."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest

from analyzer import analyze_file
from analyzer.formats import parse_log
from analyzer.formats._span_vocab import _reply_messages, _tool_result, as_genai

from ..conftest import SAMPLES

OPENINFERENCE = [
    *sorted(SAMPLES.glob("agentchat-openinference/*/traces.jsonl")),
    *sorted(SAMPLES.glob("agentchat-phoenix/*/phoenix-trace.json")),
    *sorted(SAMPLES.glob("classic-releases/*/openinference.jsonl")),
]
AGENT_FRAMEWORK = SAMPLES / "agent-framework"


def _events(path: Path) -> pl.DataFrame:
    return parse_log(path)[1].events


@pytest.mark.parametrize("path", OPENINFERENCE, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_a_call_traced_twice_is_read_once(path: Path) -> None:
    # OpenInference's TOOL span wraps the framework's own execute_tool span of the same call.
    events = _events(path)
    ids = events.filter(pl.col("tool_call_id").is_not_null())
    for kind in ("tool_call", "tool_result"):
        counts = ids.filter(pl.col("kind") == kind)["tool_call_id"].value_counts()
        assert counts.is_empty() or counts["count"].max() == 1, kind


def test_parallel_calls_executing_together_are_not_nesting() -> None:
    path = SAMPLES / "agentchat-openinference/healthy_parallel_tools/traces.jsonl"
    events = _events(path)
    assert events.filter(pl.col("subkind") == "tool_exec_start").height == 2
    codes = {f.code for f in analyze_file(path).runs[-1].findings}
    assert "REENT01" not in codes


def test_an_agent_run_that_returned_is_its_end_and_one_paused_for_approval_is_not() -> None:
    done = _events(AGENT_FRAMEWORK / "healthy_agent_tool/traces.jsonl")
    assert done.filter(pl.col("kind") == "termination")["content"].to_list() == [
        'forecaster returned (["stop"])'
    ]
    paused = _events(AGENT_FRAMEWORK / "input_wait/traces.jsonl")
    assert paused.filter(pl.col("kind") == "termination").is_empty()
    # its model call ended with a finish reason: answered, not cut by the stop that followed
    assert "interrupt" not in paused["subkind"].drop_nulls().to_list()
    asked = paused.filter(pl.col("kind") == "input_request")["content"].to_list()
    assert asked == ['approval requested: refund({"order": "A-1042"})']


def test_a_workflow_that_completed_ended_and_its_plumbing_is_read_as_context() -> None:
    path = AGENT_FRAMEWORK / "healthy_group_chat/traces.jsonl"
    events = _events(path)
    assert "conversation GroupChat ended" in events["content"].to_list()
    coverage = parse_log(path)[1].coverage
    assert coverage.unread == ()


def test_a_span_that_failed_on_its_own_exception_is_not_cut_by_a_stop() -> None:
    # The 401 closes the chat span with ERROR and an AuthenticationError: a crash, not a stop.
    events = _events(AGENT_FRAMEWORK / "error_auth/traces.jsonl")
    assert "interrupt" not in events["subkind"].drop_nulls().to_list()
    ending = analyze_file(AGENT_FRAMEWORK / "error_auth/traces.jsonl").runs[-1].ending
    assert ending is not None and ending.kind == "crashed"


@pytest.mark.parametrize(
    ("path", "family", "words"),
    [
        (
            "agent-framework/loop_tool_repeat/traces.jsonl",
            "agent_framework",
            "function_invocation_configuration",
        ),
        ("agentchat-openinference/loop_swarm_pingpong/traces.jsonl", "agentchat", "Termination"),
        ("classic-releases/ag2-0.11.5__loop_tool_repeat/ag2-traces.jsonl", "classic", "reply"),
    ],
)
def test_the_fix_is_written_for_the_framework_that_wrote_the_trace(
    path: str, family: str, words: str
) -> None:
    assert parse_log(SAMPLES / path)[1].family == family
    assert words in analyze_file(SAMPLES / path).runs[-1].diagnosis.fix


def test_an_ag2_executor_reply_is_one_message_not_its_content_and_its_responses() -> None:
    reply = {
        "role": "tool",
        "content": "12C, light rain",
        "tool_responses": [
            {"tool_call_id": "call_1", "role": "tool", "content": "12C, light rain"}
        ],
    }
    (message,) = _reply_messages(json.dumps(reply)) or []
    assert message["parts"] == [{"type": "text", "content": "12C, light rain"}]
    assert _reply_messages("") is None
    plain = _reply_messages("Paris 12C. TERMINATE") or []
    assert plain[0]["parts"][0]["content"] == "Paris 12C. TERMINATE"


def test_an_ag2_tool_result_is_the_message_of_its_success_pair() -> None:
    ok = json.dumps([True, {"name": "get_weather", "role": "function", "content": "7C"}])
    assert _tool_result(ok) == "7C"
    assert _tool_result("plain text") == "plain text"


def test_an_agentchat_agent_span_marked_ok_at_its_start_says_nothing_of_its_end() -> None:
    span = {
        "name": "coder.on_messages_stream",
        "context": {"span_id": "a"},
        "parent_id": None,
        "status": {"status_code": "OK"},
        "attributes": {"openinference.span.kind": "AGENT", "graph.node.id": "coder"},
    }
    ((_, turn),) = as_genai([(1, span)])
    assert turn["name"] == "invoke_agent coder"
    assert turn["status"]["status_code"] == "UNSET"


def test_spans_cut_by_their_run_crashing_are_cancelled_not_interrupted(tmp_path: Path) -> None:
    # The group chat never converged: Agent Framework's runner raised after 100 supersteps,
    # just after the reviewer's last turn answered (its spans carry the finish reason). The
    # run crashed; nothing was cut and no signal came.
    path = AGENT_FRAMEWORK / "loop_group_chat/traces.jsonl"
    events = _events(path)
    assert not {"interrupt", "cancelled"} & set(events["subkind"].drop_nulls().to_list())
    run = analyze_file(path).runs[-1]
    assert run.ending is not None and run.ending.kind == "crashed"
    assert run.diagnosis.label == "loop"
    # The same run with that last turn still under way when the runner raised (its spans
    # without the answer a cut call never gets): the turn was cancelled by the crash.
    text = path.read_text()
    last = text.rsplit('"key":"gen_ai.response.finish_reasons"', 2)
    assert len(last) == 3  # the reviewer's chat span and its invoke_agent span
    cut = tmp_path / "traces.jsonl"
    cut.write_text(last[0] + '"key":"postmortem.x"' + last[1] + '"key":"postmortem.y"' + last[2])
    events = _events(cut)
    said = events.filter(pl.col("subkind") == "cancelled")["content"].to_list()
    assert said and all(c.startswith("cancelled inside ") for c in said)
    assert "interrupt" not in events["subkind"].drop_nulls().to_list()
    assert analyze_file(cut).runs[-1].ending.kind == "crashed"  # type: ignore[union-attr]


LANGFUSE = SAMPLES / "agentchat-langfuse"


def test_spans_langfuse_filtered_out_are_not_read_as_still_open() -> None:
    # Langfuse's export keeps GenAI and OpenInference spans only; it marks a span whose parent
    # it dropped (the runtime's messaging) as an app root. That parent is not "never ended".
    for path in sorted(LANGFUSE.glob("healthy_*/langfuse.jsonl")):
        events = _events(path)
        assert "span_open" not in events["subkind"].drop_nulls().to_list(), path
    # ...so a tool cut by Ctrl-C is still seen ending with every span around it.
    cut = _events(LANGFUSE / "blocking_tool_sync/langfuse.jsonl")
    assert any(
        c.startswith("interrupted inside execute_tool query_db")
        for c in cut.filter(pl.col("subkind") == "interrupt")["content"].to_list()
    )
