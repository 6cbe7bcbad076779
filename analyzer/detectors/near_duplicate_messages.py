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
from ..schema import frames_by_run
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
        for run_id, msgs in frames_by_run(message_rows(events)).items():
            if msgs.height < cfg.dup_min_repeats + 1:
                continue
            found = scan(msgs, cfg)
            repeats = [(i, r) for i, r in enumerate(found) if r.earlier_seq is not None]
            if len(repeats) < cfg.dup_min_repeats:
                continue
            share = len(repeats) / (msgs.height - repeats[0][0])
            if share >= cfg.dup_min_share:
                yield run_id, self._finding(msgs, repeats, share)

    def _finding(
        self, msgs: pl.DataFrame, repeats: list[tuple[int, Repeat]], share: float
    ) -> Finding:
        agents = sorted({r.agent or "?" for _, r in repeats})
        score = min(0.9, 0.5 + 0.04 * len(repeats) * share)
        items = tuple(
            evidence(msgs.row(i, named=True), f"{r.similarity:.0f}% like seq {r.earlier_seq}")
            for i, r in spread(repeats)
        )
        sims = [r.similarity for _, r in repeats]
        return Finding(
            code=self.code,
            detector=self.name,
            stall_class=self.stall_class,
            phase="model_call",
            score=round(score, 3),
            summary=f"{len(repeats)} of {msgs.height} messages repeat an earlier one nearly "
            f"word for word ({', '.join(agents)})",
            evidence=items,
            metrics={
                "repeat_count": len(repeats),
                "repeat_share": round(share, 3),
                "max_similarity": max(sims),
                "min_similarity": min(sims),
            },
        )
