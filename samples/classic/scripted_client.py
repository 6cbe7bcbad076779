"""A scripted stand-in for the LLM: a real ag2 custom model client returning real openai objects.

Each agent's llm_config names a script (``scripted_agent``); the scenario module registers a
``respond(agent, messages, tools) -> Reply`` function for it. Usage is estimated as chars/4,
latency is a short sleep, and a context limit raises a genuine ``openai.BadRequestError``.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
import openai
from openai.types.chat import ChatCompletion, ChatCompletionMessageToolCall
from openai.types.chat.chat_completion import Choice
from openai.types.chat.chat_completion_message import ChatCompletionMessage
from openai.types.completion_usage import CompletionUsage


@dataclass
class Reply:
    content: str | None = None
    tool_calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)


SCRIPTS: dict[str, Callable[[list[dict[str, Any]], list[Any]], Reply]] = {}
CONTEXT_LIMIT = 8192
LATENCY_S = 0.05


def _context_error(tokens: int) -> openai.BadRequestError:
    body = {
        "message": f"This model's maximum context length is {CONTEXT_LIMIT} tokens. However, your "
        f"messages resulted in {tokens} tokens. Please reduce the length of the messages.",
        "type": "invalid_request_error",
        "param": "messages",
        "code": "context_length_exceeded",
    }
    request = httpx.Request("POST", "https://api.openai.com/v1/chat/completions")
    response = httpx.Response(400, request=request, json={"error": body})
    return openai.BadRequestError(
        f"Error code: 400 - {{'error': {body!r}}}", response=response, body=body
    )


class ScriptedClient:
    def __init__(self, config: dict[str, Any], **kwargs: Any) -> None:
        self.agent = config.get("scripted_agent", "assistant")
        self.model = config.get("model", "gpt-4o-mini")

    def create(self, params: dict[str, Any]) -> ChatCompletion:
        messages = params.get("messages", [])
        prompt_tokens = max(1, len(json.dumps(messages)) // 4)
        time.sleep(LATENCY_S + prompt_tokens / 200_000)
        if prompt_tokens > CONTEXT_LIMIT:
            raise _context_error(prompt_tokens)
        reply = SCRIPTS[self.agent](messages, params.get("tools") or [])
        tool_calls = [
            ChatCompletionMessageToolCall(
                id="call_" + uuid.uuid4().hex[:24],
                type="function",
                function={"name": name, "arguments": json.dumps(args)},
            )
            for name, args in reply.tool_calls
        ] or None
        message = ChatCompletionMessage(
            role="assistant", content=reply.content, tool_calls=tool_calls
        )
        completion_tokens = max(1, len(json.dumps(message.model_dump())) // 4)
        return ChatCompletion(
            id="chatcmpl-" + uuid.uuid4().hex[:24],
            object="chat.completion",
            created=int(time.time()),
            model="gpt-4o-mini-2024-07-18",
            choices=[
                Choice(
                    index=0,
                    finish_reason="tool_calls" if tool_calls else "stop",
                    message=message,
                )
            ],
            usage=CompletionUsage(
                prompt_tokens=prompt_tokens,
                completion_tokens=completion_tokens,
                total_tokens=prompt_tokens + completion_tokens,
            ),
        )

    def message_retrieval(self, response: ChatCompletion) -> list[Any]:
        return [choice.message for choice in response.choices]

    def cost(self, response: ChatCompletion) -> float:
        usage = response.usage
        assert usage is not None
        return usage.prompt_tokens * 0.15e-6 + usage.completion_tokens * 0.6e-6

    @staticmethod
    def get_usage(response: ChatCompletion) -> dict[str, Any]:
        usage = response.usage
        assert usage is not None
        return {
            "prompt_tokens": usage.prompt_tokens,
            "completion_tokens": usage.completion_tokens,
            "total_tokens": usage.total_tokens,
            "cost": usage.prompt_tokens * 0.15e-6 + usage.completion_tokens * 0.6e-6,
            "model": response.model,
        }


def llm_config(agent: str) -> dict[str, Any]:
    return {
        "config_list": [
            {"model": "gpt-4o-mini", "model_client_cls": "ScriptedClient", "scripted_agent": agent}
        ],
        "cache_seed": None,
    }


def last_text(messages: list[dict[str, Any]]) -> str:
    for message in reversed(messages):
        content = message.get("content")
        if isinstance(content, str) and content:
            return content
    return ""
