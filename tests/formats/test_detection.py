"""Format sniffing picks the parser from content, never from the file name."""

from __future__ import annotations

import gzip
import json
import shutil
from pathlib import Path

import pytest

from analyzer import analyze_file
from analyzer.errors import LogFormatError, UnknownFormatError
from analyzer.formats import ALL_FORMATS, detect_format, parse_log
from analyzer.schema import validate_events

from ..conftest import FIXTURES, ROOT, SAMPLES

BY_FILE = {
    "classic/loop_tool_repeat/console.txt": "classic-console",
    "classic/loop_tool_repeat/runtime.log": "classic-runtime-file",
    "classic/loop_tool_repeat/logs.db": "classic-runtime-sqlite",
    "classic/loop_tool_repeat/events.jsonl": "classic-events-json",
    "classic/loop_tool_repeat/chat_history.json": "chat-history-json",
    "agentchat/loop_swarm_pingpong/console.txt": "agentchat-console",
    "agentchat/loop_swarm_pingpong/events.log": "agentchat-logging",
    "agentchat/loop_swarm_pingpong/otel.json": "otel-spans",
    "agentchat-json/loop_swarm_pingpong/events.jsonl": "agentchat-json-logging",
    "agentchat-otlp/loop_swarm_pingpong/traces.jsonl": "otlp-json",
    "agentchat-openinference/loop_swarm_pingpong/traces.jsonl": "otlp-json",
    "agent-framework/loop_group_chat/traces.jsonl": "otlp-json",
    "classic-releases/ag2-0.11.5__loop_tool_repeat/ag2-traces.jsonl": "otlp-json",
    "agentchat-phoenix/loop_swarm_pingpong/phoenix-trace.json": "phoenix-traces",
}


@pytest.mark.parametrize(("name", "fmt"), BY_FILE.items())
def test_sniffs_each_form_even_when_renamed(name: str, fmt: str, tmp_path: Path) -> None:
    renamed = tmp_path / "whatever.dat"
    shutil.copy(SAMPLES / name, renamed)
    assert detect_format(renamed).name == fmt


@pytest.mark.parametrize("fmt", [f.name for f in ALL_FORMATS])
def test_every_format_emits_the_event_schema(fmt: str) -> None:
    claimed = json.loads((ROOT / "tests/golden/formats.json").read_text())
    paths = [ROOT / name for name, (claimant, _) in sorted(claimed.items()) if claimant == fmt]
    assert paths, f"{fmt}: no sample under sample_logs/ is claimed by it (see the README)"
    for path in paths:
        chosen, parsed = parse_log(path)
        assert chosen.name == fmt
        validate_events(parsed.events)


def test_gzip_input_is_read_transparently(tmp_path: Path) -> None:
    src = SAMPLES / "classic" / "blocking_tool_sigint" / "console.txt"
    packed = tmp_path / "console.txt.gz"
    packed.write_bytes(gzip.compress(src.read_bytes()))
    assert analyze_file(packed).runs[0].diagnosis.label == "blocking_tool"


@pytest.mark.parametrize(
    ("fixture", "error", "text"),
    [
        ("empty.txt", LogFormatError, "empty file"),
        ("binary-garbage.bin", UnknownFormatError, "not a recognised AutoGen log"),
        ("chat-history.invalid-json.json", LogFormatError, "invalid JSON"),
    ],
)
def test_bad_input_raises_one_clear_error_naming_the_file(
    fixture: str, error: type, text: str
) -> None:
    with pytest.raises(error) as info:
        analyze_file(FIXTURES / fixture)
    message = str(info.value)
    assert message.startswith(str(FIXTURES / fixture))
    assert text in message
    assert "\n" not in message


def test_invalid_json_error_names_the_line() -> None:
    with pytest.raises(LogFormatError) as info:
        analyze_file(FIXTURES / "chat-history.invalid-json.json")
    assert info.value.line == 3
