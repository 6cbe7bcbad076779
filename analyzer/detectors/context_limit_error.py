"""CTX02: the model API rejected the prompt as too long.

**Symptom**: ``openai.BadRequestError: Error code: 400 - {... 'code': 'context_length_exceeded'}``,
``error_code:context_length_exceeded, config 0 failed`` in a runtime log, "This model's maximum
context length is 8192 tokens" (newer SDKs print only the message), Anthropic's "prompt is too
long".

**Signal**: any event text matching the known context-limit phrasings.

**False positives**: a message that merely talks about context windows is not an error event;
only errors, failed model calls and tool results are searched.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import ClassVar

import polars as pl

from ..config import Thresholds
from ..findings import Finding
from .base import Detector, RunFinding, by_run, evidence

CONTEXT_LIMIT = re.compile(
    r"context_length_exceeded|maximum context length|context window (?:is )?exceeded"
    r"|prompt is too long|too many tokens|reduce the length of the messages|string_above_max_length",
    re.I,
)
_PATTERN = CONTEXT_LIMIT.pattern


class ContextLimitError(Detector):
    code = "CTX02"
    name = "context-limit-error"
    stall_class = "context_explosion"
    fix: ClassVar[dict[str, str]] = {
        "classic": "The prompt outgrew the model's context window: trim history with "
        "transform_messages (MessageHistoryLimiter, MessageTokenLimiter), truncate or summarise "
        "large tool outputs before returning them, and use summary_method='reflection_with_llm' "
        "for carry-over.",
        "agentchat": "The prompt outgrew the model's context window: give the agent a bounded "
        "model_context (BufferedChatCompletionContext / TokenLimitedChatCompletionContext), "
        "truncate large tool outputs, and summarise history between runs.",
        "agent_framework": (
            "The prompt outgrew the model's context window: give the chat client a "
            "compaction_strategy (SlidingWindowStrategy or "
            "TokenBudgetComposedStrategy), truncate large tool results "
            "(ToolResultCompactionStrategy), and start a new session for a new task."
        ),
    }

    def check(self, events: pl.DataFrame, cfg: Thresholds) -> Iterator[RunFinding]:
        hits = events.filter(
            (pl.col("is_error") | pl.col("kind").is_in(["error", "llm_call"]))
            & pl.col("content").str.contains(_PATTERN, literal=False)
        )
        for run_id, run_hits in by_run(hits).items():
            yield run_id, self._finding(run_hits)

    def _finding(self, hits: list[dict]) -> Finding:
        items = []
        for row in hits[:3]:
            text = row["content"] or ""
            m = CONTEXT_LIMIT.search(text)
            start = text.rfind("\n", 0, m.start()) + 1 if m else 0  # the line that says it
            items.append(evidence(row, "context limit exceeded", text=text[start:]))
        return self.finding(
            phase="model_call",
            score=0.95,
            summary="the model rejected the prompt: context length exceeded",
            evidence=tuple(items),
            metrics={"errors": len(hits)},
        )
