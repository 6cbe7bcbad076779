"""Console transcripts: edge shapes of real output, by defect."""

from __future__ import annotations

from analyzer import analyze_file
from analyzer.formats.classic_console import ClassicConsole

from ..conftest import FIXTURES, SAMPLES


def kinds(name: str) -> list[tuple[str, str | None]]:
    df = ClassicConsole.parse(FIXTURES / name).events
    return list(zip(df["kind"].cast(str).to_list(), df["subkind"].to_list(), strict=True))


def test_cut_off_mid_message_keeps_the_partial_message_and_is_unknown() -> None:
    df = ClassicConsole.parse(FIXTURES / "console.cut-off-mid-message.txt").events
    assert df["content"].to_list()[-1] == "The report says that revenue gr"
    d = analyze_file(FIXTURES / "console.cut-off-mid-message.txt").runs[0].diagnosis
    assert d.label == "unknown"


def test_ansi_colours_are_stripped() -> None:
    df = ClassicConsole.parse(FIXTURES / "console.ansi-colours.txt").events
    assert df["agent"].to_list()[:2] == ["user", "assistant"]
    assert analyze_file(FIXTURES / "console.ansi-colours.txt").runs[0].diagnosis.label == "healthy"


def test_pyautogen_02_double_tool_result_header_is_one_result() -> None:
    df = ClassicConsole.parse(FIXTURES / "console.pyautogen-0.2-double-header.txt").events
    results = df.filter(df["kind"] == "tool_result")
    assert results.height == 1
    assert results["tool_name"][0] == "get_weather"
    assert results["content"][0] == "12 degrees, light rain"


def test_prompt_glued_to_traceback_yields_prompt_then_interrupt() -> None:
    assert kinds("console.prompt-glued-to-traceback.txt")[-2:] == [
        ("input_request", None),
        ("error", "interrupt"),
    ]
    d = analyze_file(FIXTURES / "console.prompt-glued-to-traceback.txt").runs[0].diagnosis
    assert (d.label, d.phase) == ("input_wait", "human_input")


def test_tool_call_block_parsed_with_canonical_args() -> None:
    df = ClassicConsole.parse(SAMPLES / "classic/healthy_tool_terminate/console.txt").events
    calls = df.filter(df["kind"] == "tool_call")
    assert calls["tool_args"].to_list() == ['{"city":"Paris"}', '{"city":"Berlin"}']
    assert calls["tool_call_id"][0].startswith("call_")


def test_group_chat_execution_is_attributed_to_the_selected_executor() -> None:
    df = ClassicConsole.parse(
        SAMPLES / "classic/blocking_tool_groupchat_sigkill/console.txt"
    ).events
    start = df.filter(df["subkind"] == "tool_exec_start")
    assert start["agent"].to_list() == ["executor"]
