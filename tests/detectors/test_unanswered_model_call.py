"""MODEL01 (unanswered model call): where it fires and where it must stay silent."""

from __future__ import annotations

from typing import Any

import polars as pl
import pytest

from ..conftest import SAMPLES, make_events, msg
from .cases import TB_IN_INPUT, TB_MODEL_READ, Case, assert_case, fire

# --- MODEL01: a model call stopped while waiting ----------------------------------------------

CASES: list[Case] = [
    (
        "stopped reading the model's answer",
        [
            msg("user", "Summarise the sales.", "analyst"),
            {"kind": "error", "subkind": "interrupt", "content": TB_MODEL_READ},
        ],
        [0, 1],
    ),
    (
        "the run moved on after the interrupt",
        [
            msg("user", "Summarise the sales.", "analyst"),
            {"kind": "error", "subkind": "interrupt", "content": TB_MODEL_READ},
            msg("analyst", "Here is the summary.", "user"),
        ],
        [],
    ),
]


@pytest.mark.parametrize(("case", "rows", "seqs"), CASES, ids=[c[0] for c in CASES])
def test_model01_cases(case: str, rows: list[dict[str, Any]], seqs: list[int]) -> None:
    assert_case("MODEL01", rows, seqs)


TB_MODEL_BACKOFF = (
    "Traceback (most recent call last):\n"
    '  File "/venv/openai/_base_client.py", line 1033, in request\n'
    '  File "/venv/openai/_base_client.py", line 1073, in _sleep_for_retry\n'
    "    time.sleep(timeout)\n"
    "KeyboardInterrupt"
)
# A tool that calls an HTTP API: the same read, with no model client above it.
TB_TOOL_READ = TB_MODEL_READ.replace(
    '/venv/autogen/oai/client.py", line 700, in create', '/app/tools.py", line 12, in fetch_report'
).replace(
    '/venv/openai/_base_client.py", line 982, in request\n',
    '/venv/requests/api.py", line 59, in get\n',
)
# The endpoint refused the call: an API error raised, a crash, not a wait.
TB_MODEL_REFUSED = TB_MODEL_READ.replace(
    "KeyboardInterrupt", "openai.AuthenticationError: Error code: 401"
)


@pytest.mark.parametrize(
    ("traceback", "how"),
    [
        (TB_MODEL_READ, "read"),
        (TB_MODEL_BACKOFF, "backoff"),
        (TB_TOOL_READ, ""),
        (TB_MODEL_REFUSED, ""),
        (TB_IN_INPUT, ""),
        ("openai.APITimeoutError: Request timed out.", "timeout"),
    ],
    ids=["read", "backoff", "tool-http-read", "api-error", "input", "timeout"],
)
def test_model01_reads_where_a_stopped_call_waited(traceback: str, how: str) -> None:
    from analyzer.detectors.unanswered_model_call import waiting_on_model

    assert waiting_on_model(traceback) == how


def test_model01_fires_only_after_the_last_activity() -> None:
    waiting = make_events(
        msg("user", "Summarise the sales.", "analyst"),
        {"kind": "error", "subkind": "interrupt", "content": TB_MODEL_READ},
    )
    (found,) = fire("MODEL01", waiting)
    assert (found.stall_class, found.phase) == ("blocking_model", "model_call")
    moved_on = make_events(
        msg("user", "Summarise the sales.", "analyst"),
        {"kind": "error", "subkind": "interrupt", "content": TB_MODEL_READ},
        msg("analyst", "Here is the summary.", "user"),
    )
    assert fire("MODEL01", moved_on) == []


def _labelled(verdict: str) -> list[Any]:
    from ..conftest import labelled_samples

    return [p for p, e in labelled_samples() if e["verdict"] == verdict]


RECORDED_MODEL_WAITS = _labelled("blocking_model")


@pytest.mark.parametrize("path", RECORDED_MODEL_WAITS, ids=lambda p: str(p.relative_to(SAMPLES)))
def test_model01_fires_on_recorded_model_waits(path: Any) -> None:
    from analyzer import analyze_file

    run = analyze_file(path).runs[0]
    assert "MODEL01" in {f.code for f in run.findings}, run.diagnosis.summary


def test_model01_is_silent_on_every_healthy_and_tool_sample() -> None:
    from analyzer import analyze_file

    from ..conftest import labelled_samples

    for path, expected in labelled_samples():
        if expected["verdict"] in ("healthy", "blocking_tool", "loop", "input_wait"):
            codes = {f.code for f in analyze_file(path).runs[0].findings}
            assert "MODEL01" not in codes, path


# --- MODEL01 from the client's own retry records (no traceback) ------------------------------


def _retry(text: str, **kw: Any) -> dict[str, Any]:
    return {"kind": "other", "subkind": "model_retry", "content": text, **kw}


@pytest.mark.parametrize(
    "said",
    [
        "Retrying request to /chat/completions in 30.000000 seconds",  # openai 1.x
        "Retrying request in 30.000000 seconds (retry 1 of 2)",  # openai 2.x-3.x
    ],
)
def test_model01_reads_a_run_that_ended_in_the_clients_back_off(said: str) -> None:
    from datetime import UTC, datetime, timedelta

    t0 = datetime(2026, 1, 1, tzinfo=UTC)
    asked = msg("user", "Summarise the sales.", "analyst", ts=t0)
    refused = _retry(
        'HTTP Request: POST http://x/v1/chat/completions "HTTP/1.1 429 Too Many Requests"', ts=t0
    )
    retrying = _retry(said, ts=t0 + timedelta(milliseconds=1))
    stopped = {
        "kind": "error",
        "subkind": "interrupt",
        "content": "cancelled",
        "ts": t0 + timedelta(seconds=7),
    }
    (found,) = fire("MODEL01", make_events(asked, refused, retrying, stopped))
    assert (found.stall_class, found.score) == ("blocking_model", 0.85)
    assert "429" in found.summary and "of 30 s" in found.summary
    assert found.metrics["rate_limited"] == 1.0
    # Killed in the back-off (no stop record): the log just ends there, less sure.
    (killed,) = fire("MODEL01", make_events(asked, refused, retrying))
    assert killed.score == 0.7
    # The retry got through: the run went on.
    answered = msg("analyst", "Sales rose 4%.", "user", ts=t0 + timedelta(seconds=31))
    assert fire("MODEL01", make_events(asked, refused, retrying, answered)) == []


def test_retry_records_of_other_libraries_are_read_from_agentchat_logging() -> None:
    from analyzer.formats import parse_log

    log = SAMPLES / "agentchat" / "blocking_model_rate_limited" / "events.log"
    _, parsed = parse_log(log)
    retries = parsed.events.filter(pl.col("subkind") == "model_retry")
    text = log.read_text()
    assert retries.height == text.count("Retrying request") + text.count(" 429 Too Many") > 0
    assert retries["ts"].null_count() == 0
