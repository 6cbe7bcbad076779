"""RUN01: how the run ended, as the ending stage (``analyzer.ending``) found it.

**Symptom**: ``>>>>>>>> TERMINATING RUN (...): <reason>`` / AgentChat's ``Summary`` block and
``GroupChatTermination`` (terminated); a traceback (crashed or interrupted); or the last event
with nothing after it, which is *cut off* where the log form records ends and *no end
recorded* where it does not (0.2-0.8.1 consoles, chat histories).

**Signal**: the run's ``RunEnding``. A termination argues ``healthy`` (0.9; a bare TERMINATE
keyword in a form without termination records 0.7). A crash argues ``error`` (0.85): the run
died on an exception that is not a stall. Exceptions a stall produces (the context limit,
recursion overflow) are left to the detectors that explain them. Anything else argues
``unknown`` and records the phase the run was in.

**False positives**: a nested chat's termination in the middle of a run does not count as the
end; a crash after a Ctrl-C (``task_done()``, ``CancelledError``) is the interrupt's.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import ClassVar

import polars as pl

from .. import ending as stage
from ..config import Thresholds
from ..findings import Finding, Verdict
from .base import Detector, RunFinding, family_text

# Crashes a stall detector explains (CTX02, REENT02, INPUT01's EOF, a two-agent loop's
# recursion): not `error`.
STALL_CRASHES = re.compile(
    r"RecursionError|recursion depth|context_length_exceeded|maximum context length"
    r"|prompt is too long|team is already running|EOFError",
    re.I,
)
_SCORES = {"terminated": 0.9, "crashed": 0.85}
KEYWORD_END = 0.7  # a TERMINATE keyword in a form without end records: a weaker end
# A crash's cause, from its exception text -> what to change (both frameworks use these SDKs).
CRASH_CAUSES: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern, re.I), fix)
    for pattern, fix in (
        (
            r"AuthenticationError|invalid_api_key|\b401\b",
            "The model API refused the key (401): check the api_key the client is given (the "
            "config_list entry or OPENAI_API_KEY), that it belongs to the endpoint in base_url, "
            "and that it has not been revoked.",
        ),
        (
            r"PermissionDenied|\b403\b",
            "The model API denied access (403): the key lacks access to this model or project.",
        ),
        (
            r"NotFoundError|model_not_found|\b404\b",
            "The model API has no such model or path (404): check the model name and base_url.",
        ),
        (
            r"content_filter|ResponsibleAIPolicyViolation|content management policy",
            "The provider's content filter rejected the prompt: find the message cited and "
            "change what the agents send (or the filter's configuration).",
        ),
        (
            r"RateLimitError|rate_limit_exceeded|insufficient_quota|\b429\b",
            "The model API kept answering 429 until the client gave up: lower the request rate "
            "(fewer parallel runs), raise the quota, or give the client more retries with back-off.",
        ),
        (
            r"APIConnectionError|ConnectError|Connection refused|Name or service not known",
            "The model endpoint could not be reached: check base_url, the network and the server.",
        ),
    )
)


class RunEnd(Detector):
    code = "RUN01"
    name = "run-end"
    stall_class = "unknown"
    fix: ClassVar[dict[str, str]] = {
        "classic": "The log ends without a stall signal. Turn on runtime_logging so the next "
        "occurrence has timestamps, model calls and tool executions: logger_type='file' "
        "(pyautogen 0.2.3x and later; ag2/autogen 0.9+ crash in the SQLite logger when "
        "llm_config has a base_url), else logger_type='sqlite' (pyautogen 0.2.14 and later; "
        "0.2.0-0.2.13 have no runtime_logging: keep the console transcript and save "
        "agent.chat_messages as JSON when the chat ends or fails); and record how the process "
        "was stopped.",
        "agentchat": "The log ends without a stall signal. Log the autogen_core.events and "
        "autogen_agentchat loggers at DEBUG to a file with timestamps, and record how the "
        "process was stopped.",
        "agent_framework": (
            "The trace ends without a stall signal: export spans with a "
            "BatchSpanProcessor flushed on exit (provider.shutdown()), keep "
            "enable_sensitive_data on while debugging, and record how the process was "
            "stopped."
        ),
    }
    crash_fix: ClassVar[dict[str, str]] = {
        "classic": "The run died on an exception, not a stall: fix its cause at the line "
        "cited (an API key or endpoint for authentication errors; the prompt for a content "
        "filter; the tool's own code for a bug in it). Catch tool errors inside the tool and "
        "return them as text so the agents can react.",
        "agentchat": "The run died on an exception, not a stall: fix its cause at the line "
        "cited (an API key or endpoint for authentication errors; the prompt for a content "
        "filter; the tool's own code for a bug in it). Wrap team.run()/run_stream() in "
        "try/except to save the messages so far.",
        "agent_framework": "The run died on an exception, not a stall: fix its cause at the "
        "line cited (an API key or endpoint for authentication errors; the prompt for a "
        "content filter; the tool's own code for a bug in it). Wrap agent.run()/workflow.run() "
        "in try/except, and let tools return their errors as text.",
    }

    def check(self, events: pl.DataFrame, cfg: Thresholds) -> Iterator[RunFinding]:
        endings = self.endings if self.endings is not None else stage.find_endings(events)
        for run_id in events["run_id"].unique(maintain_order=True).to_list():
            yield run_id, self.reading(endings[run_id])

    def reading(self, end: stage.RunEnding) -> Finding:
        cls: Verdict = "unknown"
        score, fix = 0.5, ""
        if end.kind == "terminated":
            cls, score = "healthy", KEYWORD_END if end.inferred else _SCORES["terminated"]
        elif end.kind == "crashed" and not STALL_CRASHES.search(end.error_text):
            cls, score = "error", _SCORES["crashed"]
            generic = family_text(self.crash_fix, self.family)
            fix = next((f for p, f in CRASH_CAUSES if p.search(end.error_text)), generic)
        summary = end.summary
        if end.kind == "cut_off" or (end.kind == "crashed" and cls != "error"):
            summary = f"no termination was logged; {summary}"
        return self.finding(
            stall_class=cls,  # this detector's class is the ending's: healthy, error or unknown
            phase=end.phase,
            score=score,
            summary=summary,
            evidence=end.evidence,
            metrics={
                "terminated": 1.0 if end.finished else 0.0,
                "crashed": float(end.kind == "crashed"),
            },
            fix=fix,
            subject=end.condition,
        )
