"""INPUT01: the run is waiting for a human who is not there.

**Symptom**: the console ends on ``Replying as user_proxy. Provide feedback to ...`` /
``Please give feedback to ...`` / ``Enter your response:`` with no answer, or right after it
``EOFError: EOF when reading a line``; an interrupt traceback ending in ``input()``; in runtime
logs the last thing is a message delivered to an agent configured with
``human_input_mode="ALWAYS"`` (or ``"TERMINATE"`` on a termination message), then nothing;
agentchat logs a ``UserInputRequestedEvent`` and then silence.

**Signal**: the last ``input_request`` with no later ``input_reply`` or agent activity; or the
``agent_config`` rows' ``human_input_mode`` and the recipient of the last message; or an
``input()``/EOFError traceback.

**False positives**: prompts that were answered (conversation continues) are not flagged;
``human_input_mode="NEVER"`` agents never are.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import ClassVar

import polars as pl

from ..config import Thresholds
from ..findings import Evidence, Finding
from .base import (
    PROGRESS,
    Detector,
    RunFinding,
    agent_settings,
    by_run,
    evidence,
    max_seq_by_run,
)

# The input call itself (``input``, ``getpass``, an IO stream's ``input`` method, classic
# ``get_human_input``) or the EOFError it raises; not any frame of the console's output path
# (``IOConsole.print`` lives in the same io/console.py).
INPUT_FRAMES = re.compile(
    r"EOFError: EOF when reading a line|, in (?:input|getpass|get_human_input|a_get_human_input)\b"
    r"|\binput\(prompt\)|getpass\("
)


class PendingHumanInput(Detector):
    code = "INPUT01"
    name = "pending-human-input"
    stall_class = "input_wait"
    fix: ClassVar[dict[str, str]] = {
        "classic": "The run waited for a human who never answered: use human_input_mode='NEVER' "
        "for unattended runs (with is_termination_msg and max_consecutive_auto_reply), or give "
        "the proxy an input source with a timeout instead of the console.",
        "agentchat": "The run waited for a human who never answered: drop the UserProxyAgent for "
        "unattended runs, or give it an input_func that times out, and add HandoffTermination/"
        "ExternalTermination so a missing reply ends the run.",
        "agent_framework": (
            "The run waited for a person who never answered: a tool with "
            'approval_mode="always_require" returns user_input_requests that the '
            "program must answer (request.to_function_approval_response(...)); answer "
            'them with a timeout, or use approval_mode="never_require" for unattended '
            "runs."
        ),
    }

    def check(self, events: pl.DataFrame, cfg: Thresholds) -> Iterator[RunFinding]:
        moved = max_seq_by_run(events.filter(PROGRESS & (pl.col("kind") != "input_request")))
        requests = by_run(events.filter(pl.col("kind") == "input_request"))
        errors = by_run(events.filter(pl.col("kind") == "error"))
        waits = _configured_waits(events, moved)
        for run_id in requests.keys() | errors.keys() | waits.keys():
            last_move = moved.get(run_id, -1)
            asked = requests.get(run_id, [])
            items: list[Evidence] = []
            score = 0.0
            if asked and asked[-1]["seq"] > last_move:
                items.append(evidence(asked[-1], "prompt never answered"))
                score = 0.9
            for err in errors.get(run_id, []):
                text = err["content"] or ""
                if err["seq"] > last_move and INPUT_FRAMES.search(text[-4000:]):
                    eof = "EOFError" in text
                    items.append(
                        evidence(
                            err,
                            "stdin closed (EOF)" if eof else "stopped inside input()",
                            text=text.strip().splitlines()[-1],
                        )
                    )
                    score = max(score, 0.95 if eof else 0.9)
            if not items and run_id in waits:
                items, score = waits[run_id]
            if items:
                yield run_id, self._finding(items, score, len(asked))

    def _finding(self, items: list[Evidence], score: float, prompts: int) -> Finding:
        who = next((e.agent for e in items if e.agent), None)
        return self.finding(
            phase="human_input",
            score=score,
            summary="the run ended waiting for human input" + (f" (to {who})" if who else ""),
            evidence=tuple(items),
            metrics={"prompts": prompts},
        )


def _configured_waits(
    events: pl.DataFrame, moved: dict[str, int]
) -> dict[str, tuple[list[Evidence], float]]:
    """Runtime logs have no prompt: use each agent's human_input_mode instead. Per run that
    did not terminate: the first delivery (from the last move on) to an agent that would ask."""
    modes: dict[str, dict[str, str]] = {}
    for (run_id, agent), conf in agent_settings(events).items():
        if mode := conf.get("human_input_mode"):
            modes.setdefault(run_id, {})[agent] = str(mode).upper()
    ended = max_seq_by_run(events.filter(pl.col("kind") == "termination"))
    waiting = [run for run in modes if run not in ended]
    if not waiting:
        return {}
    deliveries = events.filter(
        pl.col("run_id").is_in(waiting)
        & (pl.col("kind").is_in(["message", "tool_result"]) | (pl.col("subkind") == "relay"))
    )
    found: dict[str, tuple[list[Evidence], float]] = {}
    for run_id, run_rows in by_run(deliveries).items():
        for row in run_rows:
            if row["seq"] < max(moved.get(run_id, -1), 0):
                continue
            mode = modes[run_id].get(row["recipient"] or "")
            said_end = "TERMINATE" in (row["content"] or "")
            if mode == "ALWAYS" or (mode == "TERMINATE" and said_end):
                note = (
                    f"delivered to {row['recipient']} (human_input_mode={mode}); no reply followed"
                )
                ev = evidence(row, note)
                found[run_id] = (
                    [
                        Evidence(
                            ev.seq, ev.source_line, row["recipient"], ev.excerpt, ev.note, ev.ref
                        )
                    ],
                    0.75 if mode == "ALWAYS" else 0.7,
                )
                break
    return found
