"""Which messages repeat an earlier one: shared by the LOOP02 detector and the repetition chart.

Each message (per run and agent) is masked, then matched exactly against every earlier message
of that agent (a hash, any distance) and fuzzily against the last ``window`` ones.
O(n * window), one pass for all the runs of a file.
"""

from __future__ import annotations

from collections import deque

import polars as pl
from rapidfuzz import fuzz, process, utils

from .config import Thresholds
from .masking import masked

MIN_CHARS = 12  # shorter messages ("OK", "Done") carry nothing worth comparing
Speaker = tuple[str, str]  # (run id, agent): repeats are looked for per speaker of a run


def message_rows(events: pl.DataFrame) -> pl.DataFrame:
    return events.filter(
        (pl.col("kind") == "message") & (pl.col("content").str.len_chars() >= MIN_CHARS)
    )


def scan(msgs: pl.DataFrame, cfg: Thresholds) -> pl.DataFrame:
    """One row per row of ``msgs`` (one run or many), in order: ``run_id``, ``seq``, ``agent``
    ("" if none), ``earlier_seq`` (the seq it repeats, null if none) and ``similarity`` (0 when
    nothing earlier is alike). Columns, not records: a 100 MB log has 260,000 messages."""
    seen: dict[tuple[Speaker, str], int] = {}
    recent: dict[Speaker, deque[tuple[str, int]]] = {}
    rows = msgs.select("run_id", "seq", pl.col("agent").fill_null(""), masked(pl.col("content")))
    earliers: list[int | None] = []
    sims: list[float] = []
    for run_id, seq, agent, text in rows.iter_rows():
        speaker = (run_id, agent)
        key = utils.default_process(text)
        window = recent.setdefault(speaker, deque(maxlen=cfg.dup_window))
        earlier, sim = seen.get((speaker, key)), 100.0
        if earlier is None:
            sim = 0.0
            if window:
                hit = process.extractOne(
                    key, [k for k, _ in window], scorer=fuzz.ratio, score_cutoff=cfg.similarity
                )
                if hit:
                    earlier, sim = window[hit[2]][1], float(hit[1])
        earliers.append(earlier)
        sims.append(sim)
        seen.setdefault((speaker, key), seq)
        window.append((key, seq))
    return rows.select("run_id", "seq", "agent").with_columns(
        earlier_seq=pl.Series(earliers, dtype=pl.Int64),
        similarity=pl.Series(sims, dtype=pl.Float64),
    )
