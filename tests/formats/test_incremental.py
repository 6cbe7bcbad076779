"""A growing log parsed by its growth gives, at every complete line, what one parse of the
file so far gives: every sample of every line-record format, grown in random chunks (cut
mid-line too), truncated and replaced."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from polars.testing import assert_frame_equal

from analyzer.formats import SPANNED, detect_format
from analyzer.formats.io.incremental import IncrementalParse

from ..conftest import FIXTURES, SAMPLES

LOGS = sorted(
    p
    for root in (SAMPLES, FIXTURES)
    for p in root.rglob("*")
    if p.is_file() and p.suffix in (".log", ".jsonl") and detect_format(p).name in SPANNED
)


def test_every_line_record_format_has_samples() -> None:
    assert {detect_format(p).name for p in LOGS} == set(SPANNED)


@pytest.mark.parametrize("log", LOGS, ids=lambda p: str(p.relative_to(p.parents[2])))
def test_growth_parsed_by_parts_equals_one_parse(log: Path, tmp_path: Path) -> None:
    spanned = SPANNED[detect_format(log).name]
    data = log.read_bytes()
    rng = random.Random(str(log))
    cuts = sorted({rng.randrange(1, len(data)) for _ in range(12)} | {len(data)})
    live, whole = tmp_path / "live.log", tmp_path / "whole.log"
    live.write_bytes(b"")
    growing = IncrementalParse(live, spanned)
    checked = 0
    for cut in cuts:
        with live.open("ab") as fh:
            fh.write(data[live.stat().st_size : cut])
        upto = data.rfind(b"\n", 0, cut) + 1  # what the lines completed so far say
        if upto == 0:
            continue
        whole.write_bytes(data[:upto])
        try:
            expected = spanned.parse(whole).events
        except Exception:
            with pytest.raises(Exception):  # noqa: B017 (the same refusal, whatever its kind)
                growing.update()
            continue
        assert_frame_equal(growing.update().events, expected)
        checked += 1
    assert checked
    assert len(growing.parts) > 1 or data.count(b"\n") < 4  # it really went part by part


def test_a_truncated_or_replaced_file_starts_over(tmp_path: Path) -> None:
    first, second = (
        SAMPLES / "classic" / n / "events.jsonl"
        for n in ("loop_tool_repeat", "healthy_tool_terminate")
    )
    spanned = SPANNED[detect_format(first).name]
    live = tmp_path / "live.jsonl"
    live.write_bytes(first.read_bytes())
    growing = IncrementalParse(live, spanned)
    growing.update()
    live.write_bytes(second.read_bytes()[:200])  # truncated: smaller than what was read
    live.write_bytes(second.read_bytes())
    assert_frame_equal(growing.update().events, spanned.parse(second).events)
    replaced = tmp_path / "next.jsonl"
    replaced.write_bytes(first.read_bytes())
    replaced.replace(live)  # rotation: a new inode, maybe of any size
    assert_frame_equal(growing.update().events, spanned.parse(first).events)
