"""Which messages repeat an earlier one: shared by the LOOP02 detector and the repetition chart.

Each message (per run and agent) is masked, then matched exactly against every earlier message
of that agent (a hash, any distance) and fuzzily against the last ``window`` ones.
O(n * window), one pass for all the runs of a file. When texts repeat (a loop: 190,617 of a
1 GB runtime log's 190,620 messages are exact repeats), only a speaker's first use of each
masked text reaches Python and polars fills in the rest.
"""

from __future__ import annotations

from collections import deque

import polars as pl
from rapidfuzz import fuzz, process, utils

from .config import Thresholds
from .fastpaths import declare, take
from .masking import MASKS, NUMBER, masked

MIN_CHARS = 12  # shorter messages ("OK", "Done") carry nothing worth comparing
Speaker = tuple[str, str]  # (run id, agent): repeats are looked for per speaker of a run
SPEAKER = ("run_id", "agent")
FIRST_USES = declare("first-uses", 0.5, "share of repeats", "only first uses of a text compared")
WORD = r"[a-z][a-z0-9_]{2,}"  # a word worth noticing: three or more characters, not a number
# "3 of 20", "3/20", "step 3 out of 20": a count towards a total (dates are masked before)
PROGRESS_COUNT = r"\b(?<done>\d+)\s*(?:of|/|out of)\s*(?<total>\d+)\b"
NUMBER_TOKEN = MASKS[-1][1]


# Messages a framework writes from a template, whose repeats are its bookkeeping, not the
# agents': Magentic-One's task ledger (LOOP06 reads its re-plans).
TEMPLATED = ("task_ledger",)


def message_rows(events: pl.DataFrame) -> pl.DataFrame:
    return events.filter(
        (pl.col("kind") == "message")
        & (pl.col("content").str.len_chars() >= MIN_CHARS)
        & ~pl.col("subkind").is_in(TEMPLATED).fill_null(False)
    )


def scan(msgs: pl.DataFrame, cfg: Thresholds) -> pl.DataFrame:
    """One row per row of ``msgs`` (one run or many), in order: ``run_id``, ``seq``, ``agent``
    ("" if none), ``earlier_seq`` (the seq it repeats, null if none) and ``similarity`` (0 when
    nothing earlier is alike). Columns, not records: a 100 MB log has 260,000 messages.

    Two passes give the same answer: message by message, or by first uses (see
    ``_first_uses``), which pays off when texts repeat (a loop) and costs more when nearly
    every text is new (1,000,000 distinct messages: 12.8 s against 10.5 s)."""
    kept = _numbers_kept(msgs)
    rows = _numbers_masked(kept)
    distinct = rows.select(pl.struct(*SPEAKER, "text").n_unique()).item() if rows.height else 0
    repeats = 1 - distinct / rows.height if rows.height else 1.0
    found = (_first_uses if take(FIRST_USES, repeats) else _each)(rows, cfg)
    return _with_numbers(found, kept).with_columns(new_words=_new_words(rows))


def _new_words(rows: pl.DataFrame) -> pl.Series:
    """Per message: it uses a word its speaker never used before ("Migrated `orders`" after
    "Migrated `users`"): news, where a loop's variations recombine what was said. Only a
    speaker's first use of each masked text can hold a new word, so only those are split."""
    firsts = rows.with_row_index("at").unique(
        subset=[*SPEAKER, "text"], keep="first", maintain_order=True
    )
    words = (
        firsts.select("at", *SPEAKER, word=pl.col("text").str.to_lowercase().str.extract_all(WORD))
        .explode("word")
        .drop_nulls("word")
    )
    novel = words.group_by(*SPEAKER, "word").agg(pl.col("at").min())["at"].unique()
    return pl.Series("new_words", pl.int_range(rows.height, eager=True).is_in(novel.implode()))


def _with_numbers(found: pl.DataFrame, kept: pl.DataFrame) -> pl.DataFrame:
    """Masking hides numbers so that drifting repeats match; this says how they drifted.
    ``progress``: the repeat reports a count advancing towards the same total as the message
    it repeats ("batch 3 of 20", then "batch 4 of 20"; "7/12"): a template reporting progress,
    not the agent going round (a bare counter, "v2", "v4", is no such report).
    ``same_numbers``: it says again the numbers of the message it repeats ("attempt 2").
    ``kept``: the messages masked but for their numbers (``_numbers_kept``)."""
    counts = kept.select(
        "run_id",
        "seq",
        count=pl.col("text").str.extract_groups(PROGRESS_COUNT),
        nums=pl.col("text").str.extract_all(NUMBER).list.join(","),
    ).unnest("count")
    done, total = (
        pl.col("done").cast(pl.Int64, strict=False),
        pl.col("total").cast(pl.Int64, strict=False),
    )
    counts = counts.with_columns(done=done, total=total)
    earlier = counts.rename(
        {"seq": "earlier_seq", "done": "done_before", "total": "total_before", "nums": "before"}
    )
    return (
        found.with_columns(done=counts["done"], total=counts["total"], nums=counts["nums"])
        .join(
            earlier.with_columns(pl.col("earlier_seq").cast(pl.Int64)),
            on=["run_id", "earlier_seq"],
            how="left",
            maintain_order="left",
        )
        .with_columns(
            progress=(
                (pl.col("total") == pl.col("total_before"))
                & (pl.col("done") > pl.col("done_before"))
                & (pl.col("done") <= pl.col("total"))
            ).fill_null(False),
            same_numbers=(pl.col("nums") == pl.col("before")).fill_null(False),
        )
        .drop("done", "total", "done_before", "total_before", "nums", "before")
    )


def masked_rows(msgs: pl.DataFrame) -> pl.DataFrame:
    """``run_id``, ``seq``, ``agent`` ("" if none) and the masked ``text`` of each message."""
    return _numbers_masked(_numbers_kept(msgs))


def _numbers_kept(msgs: pl.DataFrame) -> pl.DataFrame:
    """``masked_rows`` with the numbers left in: what the number rules read. Masking is the
    costliest step, so the texts are masked once and the numbers hidden after."""
    return msgs.select(
        "run_id",
        "seq",
        pl.col("agent").fill_null(""),
        text=masked(pl.col("content"), numbers=False),
    )


def _numbers_masked(kept: pl.DataFrame) -> pl.DataFrame:
    # masked() hides numbers last, so this equals masking the content whole
    return kept.with_columns(pl.col("text").str.replace_all(NUMBER, NUMBER_TOKEN))


def _each(rows: pl.DataFrame, cfg: Thresholds) -> pl.DataFrame:
    """Message by message: its key against every earlier one of its speaker, else fuzzily
    against the speaker's last ``dup_window`` messages."""
    seen: dict[tuple[Speaker, str], int] = {}
    recent: dict[Speaker, deque[tuple[str, int]]] = {}
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


def _first_uses(rows: pl.DataFrame, cfg: Thresholds) -> pl.DataFrame:
    """A message whose masked text its speaker used before repeats exactly what that text's key
    (``default_process``) was first seen at, with similarity 100; only a speaker's first use of
    a text is looked up: its key against the earlier ones, else fuzzily against the speaker's
    last ``dup_window`` messages (repeats included, read by position)."""
    speaker = SPEAKER
    rows = rows.with_row_index("row")
    rows = rows.with_columns(
        at=pl.int_range(pl.len()).over(speaker),  # position in the speaker's messages
        first=pl.col("row").first().over(*speaker, "text"),  # the row of the text's first use
    )
    # The id of each row's text: the rank of its first use among first uses (row order).
    rows = rows.with_columns(tid=pl.col("first").rank("dense").cast(pl.Int64) - 1)
    is_first = rows["first"] == rows["row"]
    texts = rows.filter(is_first)
    history = rows.group_by(speaker, maintain_order=True).agg("tid", "seq")
    windows = {(run, agent): (tids, seqs) for run, agent, tids, seqs in history.iter_rows()}
    keys = [utils.default_process(text) for text in texts["text"].to_list()]
    first_earlier: list[int | None] = []
    first_sim: list[float] = []
    repeat_of: list[int] = []  # what a later use of the text repeats: where its key was first
    seen: dict[tuple[Speaker, str], int] = {}
    columns = (texts[c].to_list() for c in ("run_id", "agent", "seq", "at"))
    for tid, (run_id, agent, seq, at) in enumerate(zip(*columns, strict=True)):
        spk, key = (run_id, agent), keys[tid]
        earlier, sim = seen.get((spk, key)), 100.0
        repeat_of.append(seq if earlier is None else earlier)
        if earlier is None:
            sim = 0.0
            seen[(spk, key)] = seq
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
    ids = rows["tid"]
    return rows.select("run_id", "seq", "agent").with_columns(
        earlier_seq=pl.Series(first_earlier, dtype=pl.Int64)
        .gather(ids)
        .zip_with(is_first, pl.Series(repeat_of, dtype=pl.Int64).gather(ids)),
        similarity=pl.Series(first_sim, dtype=pl.Float64).gather(ids).set(~is_first, 100.0),
    )
