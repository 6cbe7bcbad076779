"""Which messages repeat an earlier one: shared by the LOOP02 detector and the repetition chart.

Each message (per agent) is masked, then matched exactly against every earlier message of that
agent (a hash, any distance) and fuzzily against the last ``window`` ones. O(n * window).
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

import polars as pl
from rapidfuzz import fuzz, process, utils

from .config import Thresholds
from .masking import mask_volatile

MIN_CHARS = 12  # shorter messages ("OK", "Done") carry nothing worth comparing


@dataclass(frozen=True, slots=True)
class Repeat:
    seq: int
    agent: str
    earlier_seq: int | None
    similarity: float  # 0 when nothing earlier is alike


def message_rows(events: pl.DataFrame) -> pl.DataFrame:
    return events.filter(
        (pl.col("kind") == "message") & (pl.col("content").str.len_chars() >= MIN_CHARS)
    )


def scan(msgs: pl.DataFrame, cfg: Thresholds) -> list[Repeat]:
    """One ``Repeat`` per row of ``msgs``, in order."""
    seen: dict[tuple[str, str], int] = {}
    recent: dict[str, deque[tuple[str, int]]] = {}
    out: list[Repeat] = []
    for row in msgs.select("seq", "agent", "content").iter_rows(named=True):
        agent = row["agent"] or ""
        key = utils.default_process(mask_volatile(row["content"]))
        window = recent.setdefault(agent, deque(maxlen=cfg.dup_window))
        earlier, sim = seen.get((agent, key)), 100.0
        if earlier is None:
            sim = 0.0
            if window:
                hit = process.extractOne(
                    key, [k for k, _ in window], scorer=fuzz.ratio, score_cutoff=cfg.similarity
                )
                if hit:
                    earlier, sim = window[hit[2]][1], float(hit[1])
        out.append(Repeat(row["seq"], agent, earlier, sim))
        seen.setdefault((agent, key), row["seq"])
        window.append((key, row["seq"]))
    return out
