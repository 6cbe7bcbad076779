"""The budgeted fuzz run of `make test`: a fixed list of seeded mutations of every format's
real logs (``tests/fuzz``), through parse, analysis, every renderer and batch. `make fuzz`
runs the same campaign as long as it is given."""

from __future__ import annotations

import os

from analyzer.formats import ALL_FORMATS

from .fuzz import campaign, mutate

CASES = int(os.environ.get("FUZZ_CASES", "400"))
SEED = int(os.environ.get("FUZZ_SEED", "20261206"))


def test_no_traceback_leak_live_markup_or_overrun_on_mutated_logs() -> None:
    tally = campaign.run(CASES, None, SEED)
    assert tally.failures == []
    assert tally.cases == CASES
    # The list reaches every format, every mutator, both outcomes, charts and a batch.
    assert {f.name for f in ALL_FORMATS} <= set(tally.by_format)
    assert set(mutate.MUTATORS) | {"splice", "hostile_names", "sqlite_rows"} <= set(
        tally.by_mutator
    )
    assert tally.outcomes["analysed"] and tally.outcomes["error"] and not tally.outcomes["crash"]
    assert tally.charted and tally.batches


def test_the_checks_themselves_catch_what_they_look_for() -> None:
    allowed = {"runs/a.md"}
    assert campaign.live_markup("[a](runs/a.md) plain text", allowed) == []
    for live in ("[x](http://e.example/)", "<b>x</b>", "![i](p.png)", "see https://e.example/"):
        assert campaign.live_markup(live, allowed), live
