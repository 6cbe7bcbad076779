"""REENT03 (rpc wait cycle): where it fires and where it must stay silent."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import polars as pl
import pytest

from ..conftest import SAMPLES, console_spans, make_events
from .cases import Case, assert_case, fire

# --- REENT03: agents awaiting each other's direct messages -----------------------------------


def _rpc(kind: str, sender: str | None, receiver: str | None, **kw: Any) -> dict[str, Any]:
    sub = "rpc_send" if kind == "send" else "rpc_respond"
    return {"kind": "other", "subkind": sub, "agent": sender, "recipient": receiver, **kw}


def _stop(**kw: Any) -> dict[str, Any]:
    return {"kind": "error", "subkind": "interrupt", "content": "cancelled", **kw}


_CYCLE = [
    _rpc("send", None, "planner"),
    _rpc("send", "planner", "worker"),
    _rpc("send", "worker", "planner"),
]
CASES: list[Case] = [
    ("planner and worker await each other", _CYCLE, [1, 2]),
    (
        "answered innermost first",
        [
            *_CYCLE,
            _rpc("respond", "planner", "worker"),
            _rpc("respond", "worker", "planner"),
            _rpc("respond", "planner", None),
        ],
        [],
    ),
    ("one request open", _CYCLE[:2], []),
]


@pytest.mark.parametrize(("case", "rows", "seqs"), CASES, ids=[c[0] for c in CASES])
def test_reent03_cases(case: str, rows: list[dict[str, Any]], seqs: list[int]) -> None:
    assert_case("REENT03", rows, seqs)


def test_reent03_fires_on_a_cycle_of_unanswered_direct_messages() -> None:
    cycle = [_rpc("send", None, "planner"), _rpc("send", "planner", "worker")]
    cycle.append(_rpc("send", "worker", "planner"))
    (found,) = fire("REENT03", make_events(*cycle))
    assert (found.stall_class, found.score) == ("recursive_reentry", 0.7)  # no clock: may be cut
    assert "planner -> worker -> planner" in found.summary
    assert [e.seq for e in found.evidence] == [1, 2]
    # The same exchange answered innermost first: nothing open, nothing found.
    done = [
        *cycle,
        _rpc("respond", "planner", "worker"),
        _rpc("respond", "worker", "planner"),
        _rpc("respond", "planner", None),
    ]
    assert fire("REENT03", make_events(*done)) == []
    # One request open (a slow handler) is no cycle; nor is a chain that never comes back.
    assert fire("REENT03", make_events(*cycle[:2])) == []
    chain = [*cycle[:2], _rpc("send", "worker", "db")]
    assert fire("REENT03", make_events(*chain)) == []


def test_reent03_reads_the_stop_by_its_clock() -> None:
    from datetime import UTC, datetime, timedelta

    t0 = datetime(2026, 1, 1, tzinfo=UTC)
    rows = [
        _rpc("send", None, "planner", ts=t0),
        _rpc("send", "planner", "worker", ts=t0 + timedelta(milliseconds=1)),
        _rpc("send", "worker", "planner", ts=t0 + timedelta(milliseconds=2)),
    ]
    late = fire("REENT03", make_events(*rows, _stop(ts=t0 + timedelta(seconds=3))))
    assert late[0].score == 0.85 and late[0].metrics["wait_s"] == pytest.approx(2.998)
    # Stopped as quickly as the messages go: the exchange was caught in flight.
    assert fire("REENT03", make_events(*rows, _stop(ts=t0 + timedelta(milliseconds=4)))) == []


def test_reent03_fires_on_the_recorded_deadlock_and_not_on_the_finished_exchange() -> None:
    from analyzer import analyze_file

    for form in ("events.log", "otel.json"):
        stuck = analyze_file(SAMPLES / "agentchat/reentry_rpc_deadlock" / form).runs[0]
        (found,) = [f for f in stuck.findings if f.code == "REENT03"]
        assert found.score == 0.85 and "planner -> worker -> planner" in found.summary
    for form in ("events.log", "otel.json"):
        done = analyze_file(SAMPLES / "agentchat/healthy_rpc_roundtrip" / form).runs[0]
        assert "REENT03" not in {f.code for f in done.findings}
        assert done.ending is not None and done.ending.kind == "no_end_recorded"


def test_reent03_in_spans_needs_the_stop_to_come_after_a_silence(tmp_path: Path) -> None:
    # The recorded deadlock's spans, with every end moved to 0.3 s after the last start: a
    # stop that quick cannot be told from handlers answering, so nothing is called a cycle.
    import json

    from analyzer import analyze_file

    spans = console_spans(SAMPLES / "agentchat/reentry_rpc_deadlock/otel.json")
    last_start = max(s["start_time"] for s in spans)
    quick = last_start[:17] + f"{float(last_start[17:23]) + 0.3:09.6f}" + last_start[26:]
    for span in spans:
        span["end_time"] = quick
    path = tmp_path / "otel.json"
    path.write_text("\n".join(json.dumps(s) for s in spans) + "\n")
    from analyzer.formats import parse_log

    events = parse_log(path)[1].events
    assert events.filter(pl.col("subkind") == "rpc_respond").height == 3  # read as answered
    run = analyze_file(path).runs[0]
    assert "REENT03" not in {f.code for f in run.findings}
