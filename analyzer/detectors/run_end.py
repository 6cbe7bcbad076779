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
from ..redact import excerpt
from .base import Detector, RunFinding, by_run, evidence, is_manager, last_by_run, progress

TERMINATE_WORD = re.compile(r"\bTERMINATE\b")


class RunEnd(Detector):
    code = "RUN01"
    name = "run-end"
    stall_class = "unknown"
    fix: ClassVar[dict[str, str]] = {
        "classic": "The log ends without a stall signal. Turn on runtime_logging so the next "
        "occurrence has timestamps, model calls and tool executions: logger_type='file' "
        "(pyautogen 0.2.3x and later; ag2/autogen 0.9+ crash in the SQLite logger when "
        "llm_config has a base_url), else logger_type='sqlite'; and record how the process "
        "was stopped.",
        "agentchat": "The log ends without a stall signal. Log the autogen_core.events and "
        "autogen_agentchat loggers at DEBUG to a file with timestamps, and record how the "
        "process was stopped.",
    }

    def check(self, events: pl.DataFrame, cfg: Thresholds) -> Iterator[RunFinding]:
        last_moves = last_by_run(progress(events))
        ends = by_run(events.filter(pl.col("kind") == "termination"))
        errors = by_run(events.filter(pl.col("kind") == "error"))
        still_open = by_run(events.filter(pl.col("subkind") == "span_open"))
        for run_id, last_event in last_by_run(events).items():
            last = last_moves.get(run_id)
            after = -1 if last is None else last["seq"]
            yield (
                run_id,
                self._ending(
                    last,
                    last_event,
                    [r for r in ends.get(run_id, []) if r["seq"] > after],
                    [r for r in errors.get(run_id, []) if r["seq"] > after],
                    still_open.get(run_id, []),
                ),
            )

    def _ending(
        self,
        last: dict | None,
        last_event: dict,
        ends: list[dict],
        errors: list[dict],
        still_open: list[dict],
    ) -> Finding:
        """``ends`` and ``errors``: those after ``last``, the run's last activity;
        ``still_open``: spans that never ended (``span_open``)."""
        if ends and not any(e["seq"] > ends[-1]["seq"] for e in errors):
            end = ends[-1]
            return Finding(
                code=self.code,
                detector=self.name,
                stall_class="healthy",
                phase="none",
                score=0.9,
                summary=f"the run terminated: {excerpt(end['content'], 200)}",
                evidence=(evidence(end, "termination"),),
                metrics={"terminated": 1.0},
            )
        if (
            last
            and not errors
            and last["kind"] == "message"
            and TERMINATE_WORD.search(last["content"] or "")
        ):
            return Finding(
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
        items = [
            evidence(last, "last activity")
            if last
            else evidence(last_event, "last logged event (no agent activity at all)")
        ]
        how = "the log just stops (killed or timed out)"
        if still_open:
            how = f"the trace shows it still running: {still_open[-1]['content']}"
            items.append(evidence(still_open[-1], "never ended"))
        if errors:
            # After a Ctrl-C, shutdown often raises more (task_done(), CancelledError): the
            # interrupt, not the last traceback, is how the run ended.
            interrupts = [e for e in errors if e["subkind"] == "interrupt"]
            err = (interrupts or errors)[-1]
            final = (err["content"] or "").strip().splitlines()[-1:] or [""]
            how = (
                "it was interrupted (KeyboardInterrupt)"
                if interrupts
                else f"it crashed: {final[0][:120]}"
            )
            items.append(evidence(err, "how it ended", text=final[0]))
        phase = _phase_after(last)
        where = f" after {_describe(last)}" if last else ""
        # AgentChat's Console writes the stop reason (its Summary block) only when asked to.
        hint = (
            " (Console writes the stop reason only with output_stats=True)"
            if last_event.get("source_format") == "agentchat-console"
            else ""
        )
        return Finding(
            code=self.code,
            detector=self.name,
            stall_class="unknown",
            phase=phase,
            score=0.5,
            summary=f"no termination was logged{hint}; {how}{where}",
            evidence=tuple(items),
            metrics={"terminated": 0.0, "crashed": float(bool(errors))},
        )


def _describe(row: dict) -> str:
    kind = row["subkind"] or str(row["kind"])
    who = row["agent"] or row["recipient"]
    where = f"{who}, line {row['source_line']}" if who else f"line {row['source_line']}"
    return f"{kind.replace('_', ' ')} ({where})"


def _phase_after(last: dict | None) -> str:
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
