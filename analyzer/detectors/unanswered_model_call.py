"""MODEL01: the run stopped inside a model call that never returned.

**Symptom**: an interrupt (or the ``CancelledError`` a stopped AgentChat handler logs) whose
innermost frames are the model client's HTTP read: ``openai/_base_client.py`` ->
``httpx``/``httpcore`` -> ``sock.recv`` (a request the endpoint never answered), or the client's
back-off sleep (``_sleep_for_retry`` -> ``time.sleep``: 429s retried until the run was
stopped). A crash on the client's own timeout (``APITimeoutError``, ``ReadTimeout``) is the same
call, ended by its timeout.

**Signal**: an error event after the run's last activity whose last traceback runs from a model
client frame (openai, anthropic, ``oai/client.py``, ``autogen_ext/models``...) down to nothing
but HTTP transport, asyncio and back-off frames. Where the log has a clock, the stop must come
at least ``slow_tool_factor`` times the run's median gap between activities (and 1 s) after
its last activity; without one the finding is less sure (0.7). Or, with no traceback (an async
client sleeps in the event loop), the app's INFO records of the client retrying (openai's
"Retrying request ... in 30 seconds", httpx's 429) after the run's last activity, with nothing
answered after them: 0.85 when a stop follows, 0.7 when the log just ends there.

**False positives**: a tool that calls an HTTP API has no model client frame above the read; a
model call that raised an API error (400, 401) is a crash (RUN01 argues ``error``), not this; a
loop stopped while one of its quick calls was in flight is caught by the clock rule.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any, ClassVar

import polars as pl

from ..config import Thresholds
from ..findings import Finding
from ..traceback_frames import STOPPED, chunks, final, frames
from .base import (
    CLOCKED,
    NO_CLOCK,
    PROGRESS,
    Detector,
    RunFinding,
    by_run,
    caught_in_flight,
    evidence,
    family_text,
    last_by_run,
    pace_by_run,
    seconds_between,
)

# Frames of a model client, by path (every release: 0.2's oai/client.py, ag2's oai/, the
# AgentChat model clients, the SDKs themselves).
MODEL_CLIENT = re.compile(
    r"/openai/|/anthropic/|/oai/client\.py|/oai/\w+\.py|/autogen_ext/models/|/litellm/"
    r"|/ollama/|/google/genai/|/mistralai/|/groq/"
)
# What may sit below the model client while a request waits: transport, the event loop, and
# the client's back-off.
WAITING = re.compile(
    r"/httpx\d?/|/httpcore\d?/|/h11/|/anyio/|/urllib3/|/requests/|/ssl\.py|/socket\.py"
    r"|/asyncio/|/selectors\.py|/threading\.py|/openai/_base_client\.py|/anthropic/_base_client\.py"
    r"|/openai/_utils/|/concurrent/futures/"
)
TRANSPORT = re.compile(r"/httpx\d?/|/httpcore\d?/|/h11/|/urllib3/|/ssl\.py|/socket\.py")
BACKOFF = re.compile(r"_sleep_for_retry|_retry_request")
RATE_LIMITED = re.compile(r"\b429\b|RateLimit|rate.limit", re.I)
_SLEEP = re.compile(r"in (\d+(?:\.\d+)?) seconds")
TIMED_OUT = re.compile(r"APITimeoutError|ReadTimeout|Request timed out|TimeoutException")
_SCORES = {"read": CLOCKED, "backoff": CLOCKED, "timeout": 0.8}


class UnansweredModelCall(Detector):
    code = "MODEL01"
    name = "unanswered-model-call"
    stall_class = "blocking_model"
    thresholds = ("slow_tool_factor",)
    fix: ClassVar[dict[str, str]] = {
        "classic": "A model call never returned: set a request timeout and a retry budget in "
        'each config_list entry ("timeout": 60, "max_retries": 2; ag2 0.8.x refuses '
        "max_retries there, so set only the timeout), check the endpoint's health, and for "
        "429s lower the request rate or raise the quota rather than the retry count.",
        "agentchat": "A model call never returned: give the model client a timeout and a retry "
        "budget (OpenAIChatCompletionClient(..., timeout=60, max_retries=2)), bound the run "
        "with TimeoutTermination or asyncio.wait_for, and for 429s lower the request rate or "
        "raise the quota rather than the retry count.",
        "agent_framework": (
            "A model call never returned: give the OpenAI client a timeout and a retry "
            "budget (OpenAIChatCompletionClient(async_client=AsyncOpenAI(timeout=60, "
            "max_retries=2))), bound the run with asyncio.wait_for, and for 429s lower "
            "the request rate or raise the quota rather than the retry count."
        ),
    }

    # What to change for this wait, before the client settings (``fix``) of the framework.
    cause: ClassVar[dict[str, str]] = {
        "read": "The endpoint accepted the request and never answered. ",
        "backoff": "The client was sleeping between retries of a refused call (429s) when the "
        "run was stopped: lower max_retries so the run fails fast instead of waiting. ",
        "timeout": "The call reached the client's timeout: if the model is merely slow, raise "
        "it; if the endpoint hangs, keep it and fix the endpoint. ",
    }

    def check(self, events: pl.DataFrame, cfg: Thresholds) -> Iterator[RunFinding]:
        moves = events.filter(PROGRESS)
        last_move = last_by_run(moves)
        pace = pace_by_run(moves)
        errors = by_run(events.filter(pl.col("kind") == "error"), "ts")
        found: set[str] = set()
        for run_id, errs in errors.items():
            row = last_move.get(run_id)  # the run's last activity: the call's request
            after = [e for e in errs if e["seq"] > (row["seq"] if row else -1)]
            for err in after:
                how = waiting_on_model(err["content"] or "")
                if not how:
                    continue
                wait = seconds_between(row["ts"] if row else None, err["ts"])
                # A stop as quick as the run's calls usually return caught a call in flight,
                # not one that never returned (a timeout is the call's own end).
                if how != "timeout" and caught_in_flight(wait, pace.get(run_id), cfg):
                    break
                yield run_id, self._finding(err, how, row, wait)
                found.add(run_id)
                break
        yield from self._retrying(events, errors, last_move, found)

    def _retrying(
        self,
        events: pl.DataFrame,
        errors: dict[str, list[dict[str, Any]]],
        last_move: dict[str, dict[str, Any]],
        found: set[str],
    ) -> Iterator[RunFinding]:
        """Runs whose log ends in the model client's own retries of a refused call (openai's
        "Retrying request", httpx's 429, logged at INFO) with nothing answered after: stopped,
        or killed, while the client backed off. No traceback needed: an async client sleeps
        in the event loop, where an interrupt shows nothing."""
        retries = by_run(events.filter(pl.col("subkind") == "model_retry"), "ts")
        for run_id, tries in retries.items():
            if run_id in found:
                continue  # its traceback already showed where the call waited
            row = last_move.get(run_id)
            after = [r for r in tries if r["seq"] > (row["seq"] if row else -1)]
            if not after:
                continue  # no retries, or the run went on after them: the call got through
            last = after[-1]
            stop = next((e for e in errors.get(run_id, []) if e["seq"] > last["seq"]), None)
            wait = seconds_between(last["ts"], stop["ts"] if stop else None)
            planned = _SLEEP.search(" ".join(r["content"] or "" for r in after))
            text = " | ".join(r["content"] or "" for r in after[-3:])
            summary = "the run ended while the model client retried a refused call"
            if any(RATE_LIMITED.search(r["content"] or "") for r in after):
                summary += " (429, rate limited)"
            if wait is not None:
                summary += f": stopped {wait:,.1f} s into its back-off"
                if planned:
                    summary += f" of {float(planned[1]):,.0f} s"
            items = [evidence(r, "the client retrying", text=r["content"]) for r in after[-2:]]
            if row is not None:
                items.insert(0, evidence(row, "the call's request"))
            if stop is not None:
                items.append(evidence(stop, "stopped during the back-off"))
            # A stop seen inside the announced sleep is the back-off; a log that just ends
            # there (SIGKILL, a cut) is less sure.
            score = CLOCKED if wait is not None else NO_CLOCK
            yield (
                run_id,
                self.finding(
                    phase="model_call",
                    score=score,
                    summary=summary,
                    evidence=items,
                    metrics={
                        "retries": float(len(after)),
                        "rate_limited": float(bool(RATE_LIMITED.search(text))),
                        **({"wait_s": wait} if wait is not None else {}),
                    },
                    fix=self.cause["backoff"] + family_text(self.fix, self.family),
                ),
            )

    def _finding(self, err: dict, how: str, row: dict | None, wait: float | None) -> Finding:
        text = err["content"] or ""
        if how == "timeout":
            summary = "the model call timed out and the run died on it"
        elif how == "backoff":
            why = " after rate limits (429)" if RATE_LIMITED.search(text) else ""
            summary = f"the run was stopped while the model client backed off and retried{why}"
        else:
            summary = "the run was stopped while waiting for the model's answer (HTTP read)"
        if wait is not None and how != "timeout":
            summary += f", {wait:,.1f} s after the run's last activity"
        items = [evidence(err, "stopped inside the model call", text=_last_frames(text))]
        if row is not None:
            items.insert(0, evidence(row, "the call's request"))
        # Without a clock the wait cannot be told from a call caught in flight: less sure.
        score = _SCORES[how] if how == "timeout" or wait is not None else NO_CLOCK
        fix = self.cause[how] + family_text(self.fix, self.family)
        return self.finding(
            phase="model_call",
            score=score,
            summary=summary,
            evidence=tuple(items),
            fix=fix,
            metrics={
                "rate_limited": float(bool(RATE_LIMITED.search(text))),
                **({"wait_s": wait} if wait is not None else {}),
            },
        )


def waiting_on_model(traceback: str) -> str:
    """``read``, ``backoff`` or ``timeout`` when ``traceback`` shows a model call stopped while
    waiting (or ended by its timeout); "" otherwise."""
    last = (chunks(traceback) or [""])[-1]
    stack = frames(last)
    calls = [i for i, frame in enumerate(stack) if MODEL_CLIENT.search(frame.path)]
    raised = final(last)
    if "APITimeoutError" in raised or (calls and TIMED_OUT.search(raised)):
        return "timeout"
    if not calls or not STOPPED.search(raised):
        return ""  # no model client in it, or an API error raised (a crash, not a wait)
    below = stack[calls[-1] + 1 :]
    if any(not WAITING.search(frame.path) for frame in below):
        return ""  # stopped in other code the model call was not waiting on
    if BACKOFF.search(" ".join(frame.func for frame in stack[calls[0] :])):
        return "backoff"
    return "read" if any(TRANSPORT.search(frame.path) for frame in below) else ""


def _last_frames(traceback: str) -> str:
    lines = [line.strip() for line in traceback.strip().splitlines() if line.strip()]
    return " | ".join(lines[-3:])
