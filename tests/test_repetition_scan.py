"""The repetition scan (LOOP02, the repetition chart) by first uses gives exactly what matching
every message in turn gives (``_each``, the definition), and ``scan`` takes the cheaper."""

from __future__ import annotations

import random
from dataclasses import replace

import polars as pl
import pytest

from analyzer import analyze_file, repetition
from analyzer.config import DEFAULT, Thresholds
from analyzer.formats.base import EventSink
from analyzer.repetition import masked_rows, message_rows, scan

from .conftest import SAMPLES


def both_ways(msgs: pl.DataFrame, cfg: Thresholds) -> tuple[pl.DataFrame, pl.DataFrame]:
    rows = masked_rows(msgs)
    return repetition._first_uses(rows, cfg), repetition._each(rows, cfg)


SAMPLE_FILES = sorted(p for p in SAMPLES.rglob("*") if p.is_file() and p.name != "label.json")


@pytest.mark.parametrize("path", SAMPLE_FILES, ids=lambda p: str(p.relative_to(SAMPLES)))
def test_scan_equals_the_reference_on_every_sample(path) -> None:
    for run in analyze_file(path).runs:
        by_first_uses, each = both_ways(message_rows(run.events), DEFAULT)
        assert by_first_uses.equals(each)


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
    by_first_uses, each = both_ways(msgs, cfg)
    assert by_first_uses.equals(each)
    assert scan(msgs, cfg).drop("progress", "same_numbers", "new_words").equals(each)


def test_no_messages_no_rows() -> None:
    empty = message_rows(EventSink("test").frame())
    found = scan(empty, DEFAULT)
    assert found.height == 0 and found.columns == [
        "run_id",
        "seq",
        "agent",
        "earlier_seq",
        "similarity",
        "progress",
        "same_numbers",
        "new_words",
    ]


def test_the_cheaper_pass_is_taken(monkeypatch: pytest.MonkeyPatch) -> None:
    taken: list[str] = []
    for name in ("_first_uses", "_each"):
        real = getattr(repetition, name)
        monkeypatch.setattr(
            repetition,
            name,
            lambda rows, cfg, real=real, name=name: taken.append(name) or real(rows, cfg),
        )
    sink = EventSink("test")
    for i in range(100):  # a loop: one text over and over
        sink.add("message", i + 1, agent="coder", content=f"Let's revisit step {i}, the parser")
    for i in range(100):  # a conversation: every text new
        sink.add(
            "message", 200 + i, agent="critic", content=f"point {chr(65 + i % 26) * (i + 1)} noted"
        )
    events = sink.frame()
    scan(message_rows(events.head(100)), DEFAULT)
    scan(message_rows(events.tail(100)), DEFAULT)
    assert taken == ["_first_uses", "_each"]


def test_a_count_towards_its_total_is_progress_and_a_bare_counter_is_not() -> None:
    sink = EventSink("test")
    for i in range(1, 7):
        sink.add(
            "message", 2 * i, agent="loader", content=f"Loaded batch {i} of 20: {900 + i} rows."
        )
        sink.add("message", 2 * i + 1, agent="writer", content=f"Revised intro (v{i}): same text.")
    found = scan(message_rows(sink.frame()), DEFAULT)
    repeats = found.filter(pl.col("earlier_seq").is_not_null())
    by_agent = {
        agent: (progress, same)
        for agent, progress, same in repeats.group_by("agent")
        .agg(pl.col("progress").all(), pl.col("same_numbers").any())
        .iter_rows()
    }
    assert by_agent == {"loader": (True, False), "writer": (False, False)}
