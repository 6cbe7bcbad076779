"""Saved chat histories, alone or nested in a larger document."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest

from analyzer import analyze_file
from analyzer.errors import LogFormatError
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


def _messages_and_ends(raw: str) -> tuple[list[dict], list[int]]:
    """The chat-history list and where each message ends, found with the stdlib decoder."""
    doc = json.loads(raw)
    if isinstance(doc, list):
        messages, at = doc, raw.index("[") + 1
    else:  # {"task": ..., "result": {"chat_history": [...]}}
        messages, at = (
            doc["result"]["chat_history"],
            raw.index("[", raw.index('"chat_history"')) + 1,
        )
    decoder, ends = json.JSONDecoder(), []
    while True:
        while raw[at] in " \n\r\t,":
            at += 1
        if raw[at] == "]":
            return messages, ends
        _, at = decoder.raw_decode(raw, at)
        ends.append(at)


def _content(events: pl.DataFrame) -> list[tuple]:
    return events.select("kind", "agent", "content", "tool_name", "tool_call_id").rows()


@pytest.mark.parametrize(
    "scenario", ["loop_tool_repeat", "reentry_sync", "healthy_groupchat_auto", "input_wait_eof"]
)
def test_a_cut_off_history_is_read_up_to_its_last_complete_message(
    scenario: str, tmp_path: Path
) -> None:
    path = SAMPLES / "classic" / scenario / "chat_history.json"
    raw = path.read_text()
    messages, ends = _messages_and_ends(raw)
    assert len(messages) == len(ends) > 1
    cut_file, whole_file = tmp_path / "cut.json", tmp_path / "whole.json"
    for cut in range(1, len(raw) - 1, max(1, len(raw) // 60)):
        cut_file.write_text(raw[:cut])
        complete = sum(1 for end in ends if end <= cut)
        if complete == 0:
            with pytest.raises(LogFormatError, match="invalid JSON"):
                ChatHistoryJson.parse(cut_file)
            continue
        parsed = ChatHistoryJson.parse(cut_file)
        whole_file.write_text(json.dumps(messages[:complete]))
        assert _content(parsed.events) == _content(ChatHistoryJson.parse(whole_file).events), cut
        assert [s.line for s in parsed.skipped] == [raw.count("\n", 0, cut) + 1]


def test_the_cut_off_fixture_reads_its_one_whole_message() -> None:
    parsed = ChatHistoryJson.parse(FIXTURES / "chat-history.cut-off-mid-message.json")
    assert parsed.events["content"].to_list() == ["hi"]
    assert "cut off" in parsed.skipped[0].reason
    finding = analyze_file(FIXTURES / "chat-history.cut-off-mid-message.json").runs[0].findings
    assert "AZ00" in {f.code for f in finding}


def test_an_error_inside_the_json_is_not_guessed_around(tmp_path: Path) -> None:
    raw = (SAMPLES / "classic/loop_tool_repeat/chat_history.json").read_text()
    broken = tmp_path / "broken.json"
    middle = raw.index("},", len(raw) // 2)
    broken.write_text(raw[: middle + 1] + raw[middle + 2 :])  # a comma lost mid-file
    with pytest.raises(LogFormatError, match="invalid JSON"):
        ChatHistoryJson.parse(broken)


def test_brackets_in_a_message_cut_off_mid_text_do_not_fake_its_end(tmp_path: Path) -> None:
    """In a string left open by the cut, "[[1, 2]" looks like the end of a list item."""
    messages = json.loads(
        (SAMPLES / "classic/healthy_tool_terminate/chat_history.json").read_text()
    )
    raw = json.dumps([*messages, {"role": "user", "content": "rows [[1, 2], [3, 4]] ok"}], indent=2)
    cut = tmp_path / "cut.json"
    cut.write_text(raw[: raw.index("[[1, 2]") + len("[[1, 2]")])
    whole = tmp_path / "whole.json"
    whole.write_text(json.dumps(messages))
    assert _content(ChatHistoryJson.parse(cut).events) == _content(
        ChatHistoryJson.parse(whole).events
    )
