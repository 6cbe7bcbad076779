"""LOOP06: Magentic-One's orchestrator says, in its own ledger, that the team is stuck.

**Symptom**: each round the orchestrator writes a progress ledger (``is_request_satisfied``,
``is_in_loop``, ``is_progress_being_made``, ``next_speaker``); a round that is in a loop or
makes no progress raises its stall count, and at ``max_stalls`` it re-plans: ``Stall count
exceeded, re-planning with the outer loop...`` in its trace log, and its task ledger ("We are
working to address the following user request: ...") posted again in the chat. The run then
ends on ``max_turns`` ("Max rounds reached.") or a time limit, or never.

**Signal**: re-plans (the trace record; else every task ledger after the first; in spans,
the ``GroupChatReset`` each re-plan sends every member), with the ledgers that declared a loop
or no progress. Two or more re-plans make the finding; the score
grows with them.

**False positives**: a run whose last ledger declares the request satisfied is not stuck,
whatever it went through; a single re-plan that recovered is below the threshold (and so is
the one reset a user's ``team.reset()`` sends between runs).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from typing import ClassVar

import polars as pl

from ..config import Thresholds
from ..findings import Finding
from .base import Detector, RunFinding, by_run, evidence, spread

SIGNS = pl.col("subkind").is_in(["ledger", "replan", "task_ledger", "reset"])
_NEXT = "next="
MIN_REPLANS = 2


class OrchestratorStalls(Detector):
    code = "LOOP06"
    name = "orchestrator-stalls"
    stall_class = "loop"
    fix: ClassVar[dict[str, str]] = {
        "agentchat": "Magentic-One's own ledger says the team is looping. Give the agent it "
        "keeps asking what it lacks (a tool, access, the data), or lower max_turns and "
        "max_stalls so the orchestrator gives up sooner; a final_answer_prompt that reports "
        "what blocked it makes the give-up useful.",
        "classic": "The orchestrator's own ledger says the team is looping. Give the agent it "
        "keeps asking what it lacks, or lower its round and stall limits so it gives up sooner.",
        "agent_framework": (
            "The orchestrator's own ledger says the team is looping: give the agent it "
            "keeps asking what it lacks, or lower the Magentic manager's "
            "max_stall_count and max_round_count so it gives up sooner."
        ),
    }

    def check(self, events: pl.DataFrame, cfg: Thresholds) -> Iterator[RunFinding]:
        for run_id, rows in by_run(events.filter(SIGNS)).items():
            ledgers = [r for r in rows if r["subkind"] == "ledger"]
            if ledgers and "satisfied=True" in (ledgers[-1]["content"] or ""):
                continue  # the orchestrator itself declared the request done
            replans = [r for r in rows if r["subkind"] == "replan"]
            if not replans:  # no trace log: the chat's task ledgers after the first
                replans = [r for r in rows if r["subkind"] == "task_ledger"][1:]
            if not replans:  # spans: a re-plan resets every member once
                resets = [r for r in rows if r["subkind"] == "reset"]
                per_member = Counter(r["recipient"] for r in resets)
                most = per_member.most_common(1)[0][0] if per_member else None
                replans = [r for r in resets if r["recipient"] == most]
            if len(replans) < MIN_REPLANS:
                continue
            yield run_id, self._finding(replans, ledgers)

    def _finding(self, replans: list[dict], ledgers: list[dict]) -> Finding:
        stuck = [
            r
            for r in ledgers
            if "in_loop=True" in (r["content"] or "") or "progress=False" in (r["content"] or "")
        ]
        asked = Counter(
            (r["content"] or "").split(_NEXT, 1)[1].split()[0]
            for r in stuck
            if _NEXT in (r["content"] or "")
        )
        whom = f"; it kept asking {asked.most_common(1)[0][0]}" if asked else ""
        ledger_note = f" ({len(stuck)} of {len(ledgers)} ledgers said loop or no progress)"
        items = [evidence(r, "re-planned after max_stalls") for r in spread(replans)]
        if stuck:
            items.append(evidence(stuck[-1], "the last stuck ledger"))
        return self.finding(
            phase="model_call",
            score=round(min(0.9, 0.6 + 0.05 * len(replans)), 3),
            summary=f"the Magentic-One orchestrator re-planned {len(replans)} times after "
            f"stalling{ledger_note if ledgers else ''}{whom}",
            evidence=tuple(items),
            metrics={"replans": len(replans), "stuck_ledgers": len(stuck)},
            subject=asked.most_common(1)[0][0] if asked else None,
        )
