"""Saved chat histories, alone or nested in a larger document."""

from __future__ import annotations

import json

from analyzer import analyze_file
from analyzer.formats.chat_history_json import ChatHistoryJson

from ..conftest import FIXTURES, SAMPLES


def test_messages_nested_inside_a_document_are_found() -> None:
    df = ChatHistoryJson.parse(FIXTURES / "chat-history.nested-in-document.json").events
    assert df["agent"].to_list() == ["ops", "bot"]
    assert (
        analyze_file(FIXTURES / "chat-history.nested-in-document.json").runs[0].diagnosis.label
        == "healthy"
    )


def test_line_numbers_point_at_each_message() -> None:
    path = SAMPLES / "classic/healthy_tool_terminate/chat_history.json"
    lines = path.read_text().splitlines()
    df = ChatHistoryJson.parse(path).events
    for row in df.filter(df["kind"] == "message").iter_rows(named=True):
        assert json.dumps(row["content"])[1:20] in lines[row["source_line"] - 1]
