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

from collections import deque
from collections.abc import Iterator

import polars as pl
from rapidfuzz import fuzz, process, utils

from ..config import Thresholds
from ..findings import Finding
from .base import evidence, mask_volatile, rows, spread

_MIN_CHARS = 12  # shorter messages carry no content worth comparing


class NearDuplicateMessages:
    code = "LOOP02"
    name = "near-duplicate-messages"
    stall_class = "loop"
    fix = {
        "classic": "Agents are repeating themselves: add a termination condition "
        "(is_termination_msg on every agent and the GroupChatManager), cap max_round / "
        "max_consecutive_auto_reply, and give each agent a concrete exit criterion in its "
        "system message.",
        "agentchat": "Agents are repeating themselves: add a termination condition "
        "(TextMentionTermination | MaxMessageTermination | TimeoutTermination) and give each "
        "agent a concrete exit criterion in its system message.",
    }

    def run(self, events: pl.DataFrame, turns: pl.DataFrame, cfg: Thresholds) -> Iterator[Finding]:
        msgs = events.filter(
            (pl.col("kind") == "message") & (pl.col("content").str.len_chars() >= _MIN_CHARS)
        )
        if msgs.height < cfg.dup_min_repeats + 1:
            return
        seen: dict[tuple[str, str], int] = {}  # (agent, masked) -> seq of first occurrence
        recent: dict[str, deque[tuple[str, int]]] = {}
        repeats: list[tuple[dict, int, float]] = []  # (row, seq of earlier match, similarity)
        first_repeat_index = None
        for index, row in enumerate(rows(msgs)):
            agent = row["agent"] or ""
            key = utils.default_process(mask_volatile(row["content"]))
            window = recent.setdefault(agent, deque(maxlen=cfg.dup_window))
            match: tuple[int, float] | None = None
            if (agent, key) in seen:
                match = (seen[(agent, key)], 100.0)
            elif window:
                hit = process.extractOne(
                    key, [k for k, _ in window], scorer=fuzz.ratio, score_cutoff=cfg.similarity
                )
                if hit:
                    match = (window[hit[2]][1], float(hit[1]))
            if match:
                repeats.append((row, *match))
                if first_repeat_index is None:
                    first_repeat_index = index
            seen.setdefault((agent, key), row["seq"])
            window.append((key, row["seq"]))
        if len(repeats) < cfg.dup_min_repeats or first_repeat_index is None:
            return
        share = len(repeats) / (msgs.height - first_repeat_index)
        if share < cfg.dup_min_share:
            return
        agents = sorted({r["agent"] or "?" for r, _, _ in repeats})
        score = min(0.9, 0.5 + 0.04 * len(repeats) * share)
        items = [
            evidence(r, f"{sim:.0f}% like seq {earlier}") for r, earlier, sim in repeats
        ]
        yield Finding(
            code=self.code, detector=self.name, stall_class=self.stall_class, phase="model_call",
            score=round(score, 3),
            summary=f"{len(repeats)} of {msgs.height} messages repeat an earlier one nearly "
            f"word for word ({', '.join(agents)})",
            evidence=spread(items),
            metrics={
                "repeat_count": len(repeats),
                "repeat_share": round(share, 3),
                "max_similarity": max(s for _, _, s in repeats),
                "min_similarity": min(s for _, _, s in repeats),
            },
        )
