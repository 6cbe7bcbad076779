"""The repetition scan (LOOP02, the repetition chart) gives exactly what matching every message
in turn gives: the reference below is that loop, kept as the definition."""

from __future__ import annotations

import random
from collections import deque
from dataclasses import replace

import polars as pl
import pytest
from rapidfuzz import fuzz, process, utils

from analyzer import analyze_file
from analyzer.config import DEFAULT, Thresholds
from analyzer.formats.base import EventSink
from analyzer.masking import masked
from analyzer.repetition import message_rows, scan

from .conftest import SAMPLES


def reference_scan(msgs: pl.DataFrame, cfg: Thresholds) -> pl.DataFrame:
    """Each message in turn: exact (masked, processed) repeat of any earlier message of its
    speaker, else the best fuzzy match among the speaker's last ``dup_window`` messages."""
    seen: dict[tuple[tuple[str, str], str], int] = {}
    recent: dict[tuple[str, str], deque[tuple[str, int]]] = {}
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


SAMPLE_FILES = sorted(p for p in SAMPLES.rglob("*") if p.is_file() and p.name != "label.json")


@pytest.mark.parametrize("path", SAMPLE_FILES, ids=lambda p: str(p.relative_to(SAMPLES)))
def test_scan_equals_the_reference_on_every_sample(path) -> None:
    for run in analyze_file(path).runs:
        msgs = message_rows(run.events)
        assert scan(msgs, DEFAULT).equals(reference_scan(msgs, DEFAULT))


PHRASES = [
    "Let's revisit the plan: step {n} needs the parser fixed",
    "Let us revisit the plan, step {n} needs the parser fixed!",
    "Before moving on, the parser from step {n} must be fixed",
    "before moving on the parser from step {n} must be fixed.",
    "Ticket {n} is owned by the platform team",
    "Calling lookup for ticket call_{n}abcdef again",
    "Completely different sentence about billing exports {n}",
]


@pytest.mark.parametrize("seed", range(12))
@pytest.mark.parametrize("window", [1, 3, 40])
def test_scan_equals_the_reference_on_drifting_repeats(seed: int, window: int) -> None:
    # Speakers in several runs, paraphrases near the similarity cut, volatile numbers and ids,
    # texts coming back after more than a window of other messages, agents that are missing.
    rng = random.Random(seed)
    sink = EventSink("test")
    for i in range(rng.randint(0, 400)):
        sink.run_id = f"run-{rng.randint(1, 3)}"
        text = rng.choice(PHRASES).format(n=rng.randint(1, 4) if rng.random() < 0.7 else i)
        sink.add("message", i + 1, agent=rng.choice(["coder", "critic", None]), content=text)
    msgs = message_rows(sink.frame())
    cfg = replace(DEFAULT, dup_window=window, similarity=rng.choice([80.0, 88.0, 95.0]))
    assert scan(msgs, cfg).equals(reference_scan(msgs, cfg))


def test_no_messages_no_rows() -> None:
    empty = message_rows(EventSink("test").frame())
    found = scan(empty, DEFAULT)
    assert found.height == 0 and found.columns == [
        "run_id",
        "seq",
        "agent",
        "earlier_seq",
        "similarity",
    ]
