"""autogen-agentchat 0.4.x logs (real runs under 0.4.9): Console headers name only the source,
and chat messages carry neither an id nor a creation time."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest

from analyzer.formats import detect_format
from analyzer.formats._pyrepr import execution_results
from analyzer.formats.agentchat_console import AgentchatConsole
from analyzer.formats.agentchat_logging.text import AgentchatLogging

from ..conftest import SAMPLES

V04 = SAMPLES / "agentchat-0.4"
SCENARIOS = sorted(p.name for p in V04.iterdir() if p.is_dir())


def counts(events: pl.DataFrame) -> dict[str, int]:
    kinds = events.filter(pl.col("kind").is_in(["tool_call", "tool_result"]))
    return dict(kinds.group_by("kind").len().iter_rows()) | {
        "handoff": events.filter(pl.col("subkind") == "handoff").height
    }


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_the_console_and_the_logging_of_one_run_tell_the_same_story(scenario: str) -> None:
    """Every tool call, result and handoff once in each form: a message's many logged hops are
    not counted twice, nor are two messages with the same text taken for one."""
    console = V04 / scenario / "console.txt"
    logging = V04 / scenario / "events.log"
    assert detect_format(console) is AgentchatConsole
    from_console = counts(AgentchatConsole.parse(console).events)
    from_logging = counts(AgentchatLogging.parse(logging).events)
    label = json.loads((V04 / scenario / "label.json").read_text())
    if label["runs"]["run"]["stopped_by"] == "ran to completion":
        assert from_console == from_logging
    else:  # killed: the log file may hold the last step Console had not printed yet
        for kind, n in from_console.items():
            assert 0 <= from_logging[kind] - n <= 1, (kind, n, from_logging[kind])
    if scenario == "loop_swarm_pingpong":  # the same lookup, again and again: all of them
        assert from_logging["tool_call"] > 20 and from_logging["handoff"] > 10


def test_console_blocks_are_classified_from_their_text() -> None:
    events = AgentchatConsole.parse(V04 / "loop_swarm_pingpong" / "console.txt").events
    calls = events.filter(pl.col("kind") == "tool_call")
    assert set(calls["tool_name"].to_list()) >= {"lookup", "transfer_to_coder"}
    assert events.filter(pl.col("subkind") == "handoff")["recipient"].null_count() == 0


def test_every_shape_of_a_function_execution_result_repr() -> None:
    """Fields as autogen-core printed them: (content, call_id) in 0.4.0-0.4.4, then with
    is_error and name; a quoted ')' or ', ' inside the content."""
    text = (
        "[FunctionExecutionResult(content='a, b) c', call_id='c1'), "
        "FunctionExecutionResult(content='x', call_id='c2', is_error=True), "
        "FunctionExecutionResult(content=\"it's\", name='t', call_id='c3', is_error=False)]"
    )
    assert execution_results(text) == [
        ("a, b) c", None, "c1", False),
        ("x", None, "c2", True),
        ("it's", "t", "c3", False),
    ]


def test_a_text_only_header_is_not_taken_for_a_summary(tmp_path: Path) -> None:
    text = (V04 / "healthy_roundrobin_tool" / "console.txt").read_text()
    assert "---------- Summary ----------" in text
    events = AgentchatConsole.parse(V04 / "healthy_roundrobin_tool" / "console.txt").events
    assert events.filter(pl.col("kind") == "termination").height == 1
    assert "Summary" not in events["agent"].drop_nulls().to_list()
