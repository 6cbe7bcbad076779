"""Model-call events are read without decoding their prompt (most of a long run's log), and
give exactly what a full decode gives; any other shape is decoded whole."""

from __future__ import annotations

import orjson
import pytest

from analyzer.formats.agentchat_logging import json_lines as json_logging
from analyzer.formats.agentchat_logging import records
from analyzer.formats.agentchat_logging.records import RecordParser
from analyzer.formats.base import EventSink

from ..conftest import SAMPLES

UNREAD = ("messages", "tools")  # the keys no event is built from


def model_call_messages() -> list[str]:
    """The ``autogen_core.events`` message of every model-call record in the AgentChat samples
    (text logging of 0.4 and 0.7, and the JSON-lines form)."""
    found = []
    for path in sorted(SAMPLES.glob("agentchat*/*/events.*")):
        for line in path.read_text().splitlines():
            if path.suffix == ".jsonl":
                line = orjson.loads(line).get("message", "")
            at = line.find('{"')
            message = line[at:] if at >= 0 else ""
            if '"type": "LLMCall"' in message or '"type": "LLMStreamStart"' in message:
                found.append(message)
    return found


MESSAGES = model_call_messages()


def test_the_samples_have_model_calls_of_both_kinds() -> None:
    assert sum('"LLMCall"' in m for m in MESSAGES) > 50
    assert sum('"LLMStreamStart"' in m for m in MESSAGES) >= 3


@pytest.mark.parametrize("message", MESSAGES, ids=lambda m: f"{len(m)}-chars")
def test_a_model_call_without_its_prompt_is_the_full_decode_less_the_prompt(message: str) -> None:
    full = orjson.loads(message)
    assert records._without_prompt(message) == {k: v for k, v in full.items() if k not in UNREAD}


def events_of(message: str) -> list[dict[str, object]]:
    sink = EventSink("test")
    RecordParser(sink).record(
        7, "autogen_core.events", "INFO", "2026-11-24 21:08:16,948", [message]
    )
    return sink.frame().select("kind", "agent", "prompt_tokens", "content").to_dicts()


LLM_CALL = (
    '{"tools": [], "type": "LLMCall", "messages": [PROMPT], "response": {"choices": [{"message": '
    '{"content": "coder"}}]}, "prompt_tokens": 812, "completion_tokens": 3, '
    '"agent_id": "SelectorGroupChatManager_b3f18763-0971-4397-b4f0-b85d05c088cd/b3f18763-0971-4397-b4f0-b85d05c088cd"}'
)
EXPECTED = [
    {
        "kind": "llm_call",
        "agent": "SelectorGroupChatManager",
        "prompt_tokens": 812,
        "content": "coder",
    }
]


def test_the_prompt_is_never_decoded() -> None:
    # A prompt that is not JSON at all: only a reader that skips it still sees the model call.
    garbled = LLM_CALL.replace("PROMPT", '{"role": "user", "content": "cut here')
    assert events_of(garbled) == EXPECTED


@pytest.mark.parametrize(
    "message",
    [
        # keys in another order: the prompt last
        '{"type": "LLMCall", "response": {"choices": [{"message": {"content": "coder"}}]}, '
        '"prompt_tokens": 812, "completion_tokens": 3, "agent_id": "SelectorGroupChatManager_'
        'b3f18763-0971-4397-b4f0-b85d05c088cd/b3f18763-0971-4397-b4f0-b85d05c088cd", "messages": []}',
        # a "response" key inside a value after the prompt: its tail does not decode on its own
        LLM_CALL.replace("PROMPT", "").replace(
            '"completion_tokens": 3', '"completion_tokens": 3, "extra": {"a": 0, "response": 1}'
        ),
    ],
    ids=["prompt-last", "nested-response-key"],
)
def test_a_model_call_of_another_shape_is_decoded_whole(message: str) -> None:
    assert records._without_prompt(message) is None
    assert events_of(message) == EXPECTED


@pytest.mark.parametrize(
    "message",
    [
        '{"type": "ToolCall", "tool_name": "lookup", "arguments": {"messages": [1]}}',
        '{"type": "Unknown", "messages": [1], "response": {}}',
        '{"payload": "{}", "sender": null, "receiver": null, "kind": "MessageKind.PUBLISH", '
        '"delivery_stage": "DeliveryStage.SEND", "type": "Message"}',
    ],
)
def test_other_events_are_left_to_the_full_decode(message: str) -> None:
    assert records._without_prompt(message) is None


def test_a_json_record_without_nested_objects_is_not_copied() -> None:
    record = {"name": "autogen_core.events", "levelname": "INFO", "message": "{}"}
    assert json_logging._flat(record) is record
    nested = {"log": {"logger": "autogen_core.events"}, "message": "{}"}
    assert json_logging._flat(nested)["log.logger"] == "autogen_core.events"


def test_the_memory_of_logger_names_stays_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(json_logging, "_KNOWN_LOGGERS", {})
    monkeypatch.setattr(json_logging, "_KNOWN_LOGGERS_MAX", 8)
    for k in range(50):
        assert not json_logging._is_known_logger(f"value {k}")
        assert len(json_logging._KNOWN_LOGGERS) <= 8
    assert json_logging._is_known_logger("autogen_core.events")
    assert not json_logging._is_known_logger(3)
