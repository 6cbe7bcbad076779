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

import orjson
import polars as pl

from ..config import Thresholds
from ..findings import Evidence, Finding
from .base import Detector, evidence, progress, rows

INPUT_FRAMES = re.compile(
    r"EOFError: EOF when reading a line|in input\b|input\(prompt\)|io/console\.py|get_human_input"
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
    }

    def run(self, events: pl.DataFrame, turns: pl.DataFrame, cfg: Thresholds) -> Iterator[Finding]:
        items: list[Evidence] = []
        score = 0.0
        moving = progress(events).filter(pl.col("kind") != "input_request")
        last_move = int(moving["seq"].max()) if moving.height else -1  # type: ignore[arg-type]
        requests = events.filter(pl.col("kind") == "input_request")
        if requests.height:
            req = requests.row(-1, named=True)
            if req["seq"] > last_move:
                items.append(evidence(req, "prompt never answered"))
                score = 0.9
        errors = events.filter((pl.col("kind") == "error") & (pl.col("seq") > last_move))
        for err in rows(errors):
            text = err["content"] or ""
            if INPUT_FRAMES.search(text[-4000:]):
                eof = "EOFError" in text
                items.append(
                    evidence(
                        err,
                        "stdin closed (EOF)" if eof else "stopped inside input()",
                        text=text.strip().splitlines()[-1],
                    )
                )
                score = max(score, 0.95 if eof else 0.9)
        if not items:
            found = self._configured_wait(events, last_move)
            if found:
                items, score = found
        if not items:
            return
        who = next((e.agent for e in items if e.agent), None)
        yield Finding(
            code=self.code,
            detector=self.name,
            stall_class=self.stall_class,
            phase="human_input",
            score=score,
            summary="the run ended waiting for human input" + (f" (to {who})" if who else ""),
            evidence=tuple(items),
            metrics={"prompts": requests.height},
        )

    @staticmethod
    def _configured_wait(
        events: pl.DataFrame, last_move: int
    ) -> tuple[list[Evidence], float] | None:
        """Runtime logs have no prompt: use each agent's human_input_mode instead."""
        modes: dict[str, str] = {}
        for row in rows(events.filter(pl.col("subkind") == "agent_config")):
            try:
                mode = orjson.loads(row["content"] or "{}").get("human_input_mode")
            except orjson.JSONDecodeError:
                continue
            if row["agent"] and mode:
                modes[row["agent"]] = str(mode).upper()
        if not modes or events.filter(pl.col("kind") == "termination").height:
            return None
        deliveries = events.filter(
            pl.col("kind").is_in(["message", "tool_result"]) | (pl.col("subkind") == "relay")
        )
        if deliveries.is_empty():
            return None
        tail = deliveries.filter(pl.col("seq") >= max(last_move, 0))
        for row in rows(tail):
            mode = modes.get(row["recipient"] or "")
            said_end = "TERMINATE" in (row["content"] or "")
            if mode == "ALWAYS" or (mode == "TERMINATE" and said_end):
                note = (
                    f"delivered to {row['recipient']} (human_input_mode={mode}); no reply followed"
                )
                ev = evidence(row, note)
                return [
                    Evidence(ev.seq, ev.source_line, row["recipient"], ev.excerpt, ev.note, ev.ref)
                ], (0.75 if mode == "ALWAYS" else 0.7)
        return None
