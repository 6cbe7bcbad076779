"""LOOP02: an agent keeps saying (nearly) the same thing.

**Symptom**: paraphrases that cycle: "Let's revisit the plan: step 3 needs the parser fixed"
and "Before moving on, the parser from step 2 must be fixed" alternating for dozens of turns.

**Signal**: ``message`` rows per agent, masked (ids, numbers, timestamps). A message repeats
if its masked text was seen before (hash, any distance) or if rapidfuzz ``ratio`` against one of
the agent's last ``dup_window`` messages reaches ``similarity``. Reported when there are
``dup_min_repeats`` repeats and they make up ``dup_min_share`` of the messages after the first.
Cost is O(n * dup_window); all pairs are never compared.

**False positives**: short acknowledgements ("OK", "Done") are ignored; a run that repeats one
sentence twice in a long, varied conversation stays below the share threshold.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import ClassVar

import polars as pl

from ..config import Thresholds
from ..findings import Finding
from ..repetition import Repeat, message_rows, scan
from .base import Detector, RunFinding, evidence, spread


class NearDuplicateMessages(Detector):
    code = "LOOP02"
    name = "near-duplicate-messages"
    stall_class = "loop"
    fix: ClassVar[dict[str, str]] = {
        "classic": "Agents are repeating themselves: add a termination condition "
        "(is_termination_msg on every agent and the GroupChatManager), cap max_round / "
        "max_consecutive_auto_reply, and give each agent a concrete exit criterion in its "
        "system message.",
        "agentchat": "Agents are repeating themselves: add a termination condition "
        "(TextMentionTermination | MaxMessageTermination | TimeoutTermination) and give each "
        "agent a concrete exit criterion in its system message.",
    }

    def check(self, events: pl.DataFrame, cfg: Thresholds) -> Iterator[RunFinding]:
        msgs = message_rows(events)
        big = msgs.group_by("run_id").len().filter(pl.col("len") > cfg.dup_min_repeats)
        msgs = msgs.filter(pl.col("run_id").is_in(big["run_id"].implode()))
        count: dict[str, int] = {}  # messages per run so far
        repeats_of: dict[str, list[tuple[int, int, Repeat]]] = {}  # (row, index in run, repeat)
        for row, (run_id, found) in enumerate(zip(msgs["run_id"], scan(msgs, cfg), strict=True)):
            index = count[run_id] = count.get(run_id, 0) + 1
            if found.earlier_seq is not None:
                repeats_of.setdefault(run_id, []).append((row, index - 1, found))
        for run_id, repeats in repeats_of.items():
            if len(repeats) < cfg.dup_min_repeats:
                continue
            share = len(repeats) / (count[run_id] - repeats[0][1])
            if share >= cfg.dup_min_share:
                yield run_id, self._finding(msgs, repeats, count[run_id], share)

    def _finding(
        self, msgs: pl.DataFrame, repeats: list[tuple[int, int, Repeat]], total: int, share: float
    ) -> Finding:
        agents = sorted({r.agent or "?" for _, _, r in repeats})
        score = min(0.9, 0.5 + 0.04 * len(repeats) * share)
        items = tuple(
            evidence(msgs.row(i, named=True), f"{r.similarity:.0f}% like seq {r.earlier_seq}")
            for i, _, r in spread(repeats)
        )
        sims = [r.similarity for _, _, r in repeats]
        return Finding(
            code=self.code,
            detector=self.name,
            stall_class=self.stall_class,
            phase="model_call",
            score=round(score, 3),
            summary=f"{len(repeats)} of {total} messages repeat an earlier one nearly "
            f"word for word ({', '.join(agents)})",
            evidence=items,
            metrics={
                "repeat_count": len(repeats),
                "repeat_share": round(share, 3),
                "max_similarity": max(sims),
                "min_similarity": min(sims),
            },
        )
