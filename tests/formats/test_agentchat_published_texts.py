"""AgentChat 0.5.x-0.6.x log a chat message's Message payload without its text; the text is
read from the runtime's record of its publish, once, and only in such a log."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from analyzer.formats import parse_log

SAMPLES = Path(__file__).parents[2] / "sample_logs"
PAIRED = sorted(p.parent for p in SAMPLES.glob("agentchat*/*/events.log"))
# Runs whose console and logging file saw the same messages (the others were stopped while
# the console still buffered, or printed a warning into a message block).
SAME_MESSAGES = [
    d
    for d in PAIRED
    if (d / "console.txt").exists()
    and d.name
    not in {
        "blocking_code_execution",
        "context_explosion_tool",
        "loop_roundrobin_no_termination",
        "loop_graphflow_cycle",  # SIGTERM: the console still buffered its last message
    }
    and (d.parent.name, d.name) != ("agentchat-0.4", "loop_swarm_pingpong")
]


def _messages(path: Path) -> list[str]:
    """The messages' texts, without the whitespace at their ends (Console prints a message
    stripped: Magentic-One's task ledger starts with a newline only in the logging file)."""
    _, parsed = parse_log(path)
    return [
        text.strip()
        for text in parsed.events.filter(pl.col("kind") == "message")["content"].to_list()
    ]


@pytest.mark.parametrize(
    "run", SAME_MESSAGES, ids=[f"{d.parent.name}/{d.name}" for d in SAME_MESSAGES]
)
def test_logging_file_holds_the_consoles_messages_once(run: Path) -> None:
    assert _messages(run / "events.log") == _messages(run / "console.txt")


@pytest.mark.parametrize("release", ["agentchat-0.5", "agentchat-0.6"])
def test_contentless_payloads_give_the_published_texts(release: str) -> None:
    events = SAMPLES / release / "input_wait_userproxy" / "events.log"
    assert '\\"content\\"' not in events.read_text().split("Publishing message of type")[0]
    _, parsed = parse_log(events)
    messages = parsed.events.filter(pl.col("kind") == "message")
    assert messages["content"].to_list() == [
        "Outline a blog post on log analysis.",
        "Here is the outline. Shall I write section 2?",
    ]
    assert messages["agent"].to_list() == ["user", "assistant"]
