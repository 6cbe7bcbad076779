"""Which messages repeat an earlier one: shared by the LOOP02 detector and the repetition chart.

Each message (per run and agent) is masked, then matched exactly against every earlier message
of that agent (a hash, any distance) and fuzzily against the last ``window`` ones.
O(n * window), one pass for all the runs of a file; only a speaker's first use of each masked
text reaches Python (a loop repeats itself: 190,617 of a 1 GB log's 190,620 messages are
exact repeats), the rest is filled in by polars.
"""

from __future__ import annotations

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
    nothing earlier is alike). Columns, not records: a 100 MB log has 260,000 messages.

    A message whose masked text its speaker used before repeats exactly what that text's key
    (``default_process``) was first seen at, with similarity 100; only a speaker's first use of
    a text is looked up: its key against the earlier ones, else fuzzily against the speaker's
    last ``dup_window`` messages (repeats included, read by position)."""
    speaker = ("run_id", "agent")
    rows = msgs.select(
        "run_id", "seq", pl.col("agent").fill_null(""), text=masked(pl.col("content"))
    ).with_columns(at=pl.int_range(pl.len()).over(speaker))
    # One entry per speaker and masked text, in order of first use: its index is the text's id.
    texts = rows.unique([*speaker, "text"], keep="first", maintain_order=True).select(
        *speaker, "text", "seq", "at"
    )
    rows = rows.join(
        texts.select(*speaker, "text", tid=pl.int_range(pl.len(), dtype=pl.Int64)),
        on=[*speaker, "text"],
        how="left",
        maintain_order="left",
    )
    history = rows.group_by(speaker, maintain_order=True).agg("tid", "seq")
    windows = {(run, agent): (tids, seqs) for run, agent, tids, seqs in history.iter_rows()}
    keys = [utils.default_process(text) for text in texts["text"].to_list()]
    first_earlier: list[int | None] = []
    first_sim: list[float] = []
    seen: dict[tuple[Speaker, str], int] = {}
    for tid, (run_id, agent, seq, at) in enumerate(texts.select(*speaker, "seq", "at").iter_rows()):
        spk, key = (run_id, agent), keys[tid]
        earlier, sim = seen.get((spk, key)), 100.0
        if earlier is None:
            sim = 0.0
            tids, seqs = windows[spk]
            lo = max(0, at - cfg.dup_window)
            if at > lo:
                hit = process.extractOne(
                    key,
                    [keys[t] for t in tids[lo:at]],
                    scorer=fuzz.ratio,
                    score_cutoff=cfg.similarity,
                )
                if hit:
                    earlier, sim = seqs[lo + hit[2]], float(hit[1])
        first_earlier.append(earlier)
        first_sim.append(sim)
        seen.setdefault((spk, key), seq)
    # A later use of a text repeats the first message its key was seen at (final once set).
    repeat_of = [
        seen[(spk, keys[tid])] for tid, spk in enumerate(texts.select(speaker).iter_rows())
    ]
    ids = rows["tid"]
    first = rows["at"] == texts["at"].gather(ids)
    return rows.select("run_id", "seq", "agent").with_columns(
        earlier_seq=pl.Series(first_earlier, dtype=pl.Int64)
        .gather(ids)
        .zip_with(first, pl.Series(repeat_of, dtype=pl.Int64).gather(ids)),
        similarity=pl.Series(first_sim, dtype=pl.Float64).gather(ids).set(~first, 100.0),
    )
