"""BLOCK01 (unfinished tool call): where it fires and where it must stay silent."""

from __future__ import annotations

from typing import Any

import pytest

from analyzer.config import DEFAULT

from ..conftest import SAMPLES, call, make_events, msg, result
from .cases import (
    BY_CODE,
    TB_IDLE_LOOP,
    TB_MODEL_READ,
    TB_SLEEP,
    Case,
    _interrupted_tool,
    assert_case,
    fire,
)

CASES: list[Case] = [
    (
        "log ends in the tool",
        [
            msg("u", "report?", "a"),
            call("a", "fetch_report", "{}", "call_x", "u"),
            {
                "kind": "other",
                "subkind": "tool_exec_start",
                "agent": "u",
                "tool_name": "fetch_report",
                "tool_call_id": "call_x",
            },
        ],
        [2],
    ),
    (
        "tool returned",
        [
            msg("u", "report?", "a"),
            call("a", "fetch_report", "{}", "call_x", "u"),
            result("u", "call_x", "the report"),
        ],
        [],
    ),
    (
        "run moved on",
        [call("a", "fetch_report", "{}", "call_x", "u"), msg("u", "never mind", "a")],
        [],
    ),
    (
        "terminated after the call",
        [
            call("a", "t", "{}", "call_x", "u"),
            {"kind": "termination", "content": "Maximum turns (1) reached"},
        ],
        [],
    ),
]


@pytest.mark.parametrize(("case", "rows", "seqs"), CASES, ids=[c[0] for c in CASES])
def test_block01_cases(case: str, rows: list[dict[str, Any]], seqs: list[int]) -> None:
    assert_case("BLOCK01", rows, seqs)


def test_an_idle_event_loop_is_not_a_blocked_tool() -> None:
    """Both calls are open; only the one whose thread was stopped in time.sleep is evidenced
    as blocked (score 0.92), not the one stopped in asyncio's idle selector."""
    blocked = fire("BLOCK01", make_events(*_interrupted_tool(TB_SLEEP)))
    idle = fire("BLOCK01", make_events(*_interrupted_tool(TB_IDLE_LOOP)))
    assert [e.note for e in blocked[0].evidence][-1] == "stopped while the tool was blocked"
    assert blocked[0].score == 0.92
    assert "stopped while the tool was blocked" not in [e.note for e in idle[0].evidence]
    assert idle[0].score < 0.92


def test_block01_names_the_code_executors_timeout_for_a_blocked_code_block() -> None:
    from analyzer import analyze_file

    code = analyze_file(SAMPLES / "agentchat/blocking_code_execution/console.txt").runs[0]
    assert "executor" in code.diagnosis.fix and "LocalCommandLineCodeExecutor" in code.diagnosis.fix
    tool = analyze_file(SAMPLES / "agentchat/blocking_tool_sync/console.txt").runs[0]
    assert "executor" not in tool.diagnosis.fix


# --- BLOCK01 from an interrupt's frames: a call the log never recorded -----------------------

TB_ASYNC_TOOL = (
    "Traceback (most recent call last):\n"
    '  File "/app/main.py", line 9, in main\n'
    "    asyncio.run(amain())\n"
    '  File "/venv/autogen_core/tools/_base.py", line 198, in run_json\n'
    "    return_value = await self.run(args, cancellation_token)\n"
    '  File "/venv/autogen_core/tools/_function_tool.py", line 116, in run\n'
    "    result = await self._func(**kwargs)\n"
    '  File "/app/tools.py", line 12, in fetch_report_ü\n'
    "    time.sleep(600)  # the blocking call\n"
    '  File "/usr/lib/python3.11/asyncio/runners.py", line 157, in _on_sigint\n'
    "    raise KeyboardInterrupt()\n"
    "KeyboardInterrupt\n"
    "\nDuring handling of the above exception, another exception occurred:\n\n"
    "Traceback (most recent call last):\n"
    '  File "/venv/autogen_core/_queue.py", line 222, in task_done\n'
    "ValueError: task_done() called too many times"
)
# The tool ran a nested chat: the thread was in the framework's model call, not the tool.
TB_NESTED_CHAT = TB_ASYNC_TOOL.replace(
    "    time.sleep(600)  # the blocking call\n",
    "    team.run(task)\n"
    '  File "/venv/autogen_ext/models/openai/_openai_client.py", line 600, in create\n'
    "    time.sleep(0.1)\n",
)
# Stopped while the loop idled: no tool frame on the main thread's stack.
TB_LOOP_IDLE = (
    "Traceback (most recent call last):\n"
    '  File "/app/main.py", line 9, in main\n'
    '  File "/usr/lib/python3.11/asyncio/base_events.py", line 1898, in _run_once\n'
    '  File "/usr/lib/python3.11/selectors.py", line 468, in select\n'
    "KeyboardInterrupt"
)


def _stopped_unrecorded(traceback: str) -> list[dict]:
    return [
        msg("user", "Summarise the Q3 report.", "analyst"),
        {"kind": "error", "subkind": "interrupt", "is_error": True, "content": traceback},
    ]


def test_block01_reads_a_tool_the_log_never_recorded_from_the_interrupt_frames() -> None:
    (found,) = [
        f
        for _, f in BY_CODE["BLOCK01"](family="agentchat").check(
            make_events(*_stopped_unrecorded(TB_ASYNC_TOOL)), DEFAULT
        )
    ]
    assert (found.stall_class, found.phase) == ("blocking_tool", "tool_execution")
    assert (
        "`fetch_report_ü` was running" in found.summary
        and "blocking the event loop" in found.summary
    )
    assert "tools.py:12" in found.summary and "time.sleep(600)`" in found.summary
    assert "asyncio.to_thread" in found.fix
    # No clock, but asyncio had to raise a second Ctrl-C: the loop stayed blocked.
    assert found.score == 0.8
    # One Ctrl-C raised where the thread was (no asyncio handler): the stop may have caught a
    # quick tool in flight, and without a clock nothing says otherwise.
    single = TB_ASYNC_TOOL.replace(
        '  File "/usr/lib/python3.11/asyncio/runners.py", line 157, in _on_sigint\n'
        "    raise KeyboardInterrupt()\n",
        "",
    )
    (once,) = fire("BLOCK01", make_events(*_stopped_unrecorded(single)))
    assert once.score == 0.7 and "blocking the event loop" not in once.summary


@pytest.mark.parametrize(
    "traceback", [TB_NESTED_CHAT, TB_LOOP_IDLE, TB_MODEL_READ], ids=["nested", "idle", "model"]
)
def test_block01_ignores_interrupts_outside_a_tools_own_code(traceback: str) -> None:
    assert fire("BLOCK01", make_events(*_stopped_unrecorded(traceback))) == []


def test_block01_leaves_a_tool_caught_in_flight_by_a_quick_stop() -> None:
    """With a clock, a stop that came as quickly as the run's steps is a call in flight."""
    from datetime import UTC, datetime, timedelta

    t0 = datetime(2026, 1, 1, tzinfo=UTC)
    rows = [msg("user", f"step {i}", "analyst") for i in range(4)]
    rows += _stopped_unrecorded(TB_ASYNC_TOOL)[1:]
    for i, row in enumerate(rows):
        row["ts"] = t0 + timedelta(seconds=i * (1 if i < 4 else 1.5))
    assert fire("BLOCK01", make_events(*rows)) == []
    rows[-1]["ts"] = t0 + timedelta(seconds=60)
    (found,) = fire("BLOCK01", make_events(*rows))
    assert found.score == 0.85 and found.metrics["wait_s"] == pytest.approx(57.0)
