"""RUN01: how the log ends: a termination, a crash, or nothing (cut off).

**Symptom**: ``>>>>>>>> TERMINATING RUN (...): <reason>`` / agentchat's ``Summary`` block and
``GroupChatTermination`` (ended); a traceback (crashed or interrupted); or simply the last
event with nothing after it (SIGTERM, SIGKILL, timeout).

**Signal**: the last ``termination`` row versus the last agent activity and errors. A run
that terminated after its last activity argues ``healthy``, and so, more weakly, does a log
form without termination records (chat history) whose last message says ``TERMINATE``; any other ending argues
``unknown`` and records the phase the run was in (after ``Next speaker``: model call; after a
tool call: tool execution; after a prompt: human input; after a group message: speaker
selection).

**False positives**: a nested chat's termination in the middle of a run does not count as
the end.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import ClassVar

import polars as pl

from ..config import Thresholds
from ..findings import Finding
from .base import Detector, evidence, is_manager, progress

TERMINATE_WORD = re.compile(r"\bTERMINATE\b")


class RunEnd(Detector):
    code = "RUN01"
    name = "run-end"
    stall_class = "unknown"
    fix: ClassVar[dict[str, str]] = {
        "classic": "The log ends without a stall signal. Turn on runtime_logging "
        "(logger_type='sqlite') so the next occurrence has timestamps, model calls and tool "
        "executions, and record how the process was stopped.",
        "agentchat": "The log ends without a stall signal. Log the autogen_core.events and "
        "autogen_agentchat loggers at DEBUG to a file with timestamps, and record how the "
        "process was stopped.",
    }

    def run(self, events: pl.DataFrame, turns: pl.DataFrame, cfg: Thresholds) -> Iterator[Finding]:
        moving = progress(events)
        last = moving.row(-1, named=True) if moving.height else None
        last_seq = last["seq"] if last else -1
        ends = events.filter((pl.col("kind") == "termination") & (pl.col("seq") > last_seq))
        errors = events.filter((pl.col("kind") == "error") & (pl.col("seq") > last_seq))
        if ends.height and not errors.filter(pl.col("seq") > ends["seq"].max()).height:
            end = ends.row(-1, named=True)
            yield Finding(
                code=self.code,
                detector=self.name,
                stall_class="healthy",
                phase="none",
                score=0.9,
                summary=f"the run terminated: {end['content']}",
                evidence=(evidence(end, "termination"),),
                metrics={"terminated": 1.0},
            )
            return
        if (
            last
            and not errors.height
            and last["kind"] == "message"
            and TERMINATE_WORD.search(last["content"] or "")
        ):
            yield Finding(
                code=self.code,
                detector=self.name,
                stall_class="healthy",
                phase="none",
                score=0.7,
                summary="the last message carries the TERMINATE keyword "
                "(this log form records no termination event)",
                evidence=(evidence(last, "termination keyword"),),
                metrics={"terminated": 0.5},
            )
            return
        items = [
            evidence(last, "last activity")
            if last
            else evidence(
                events.row(-1, named=True), "last logged event (no agent activity at all)"
            )
        ]
        how = "the log just stops (killed or timed out)"
        if errors.height:
            # After a Ctrl-C, shutdown often raises more (task_done(), CancelledError): the
            # interrupt, not the last traceback, is how the run ended.
            interrupts = errors.filter(pl.col("subkind") == "interrupt")
            err = (interrupts if interrupts.height else errors).row(-1, named=True)
            final = (err["content"] or "").strip().splitlines()[-1:] or [""]
            how = (
                "it was interrupted (KeyboardInterrupt)"
                if interrupts.height
                else f"it crashed: {final[0][:120]}"
            )
            items.append(evidence(err, "how it ended", text=final[0]))
        phase = _phase_after(last, events)
        where = f" after {_describe(last)}" if last else ""
        yield Finding(
            code=self.code,
            detector=self.name,
            stall_class="unknown",
            phase=phase,
            score=0.5,
            summary=f"no termination was logged; {how}{where}",
            evidence=tuple(items),
            metrics={"terminated": 0.0, "crashed": float(bool(errors.height))},
        )


def _describe(row: dict) -> str:
    kind = row["subkind"] or str(row["kind"])
    who = row["agent"] or row["recipient"]
    where = f"{who}, line {row['source_line']}" if who else f"line {row['source_line']}"
    return f"{kind.replace('_', ' ')} ({where})"


def _phase_after(last: dict | None, events: pl.DataFrame) -> str:
    if last is None:
        return "none"
    kind, sub = last["kind"], last["subkind"]
    if sub == "speaker_selected" or kind == "llm_call":
        return "model_call"
    if kind == "tool_call" or sub in ("tool_exec_start", "code_exec_start"):
        return "tool_execution"
    if kind == "input_request":
        return "human_input"
    if kind in ("message", "tool_result") and is_manager(last["recipient"]):
        return "speaker_selection"
    return "model_call"
