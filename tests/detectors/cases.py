"""What the detector tests share: event builders, tracebacks of stopped runs, and the runner
of a detector's fires-here / silent-there cases (each detector's own are in its test module,
as sqlfluff keeps a rule's fixtures with the rule)."""

from __future__ import annotations

import importlib
from types import ModuleType
from typing import Any

import polars as pl

from analyzer.config import DEFAULT
from analyzer.detectors import ALL_DETECTORS
from analyzer.detectors.base import Detector

from ..conftest import call, make_events, msg, result


def _exec_start(tool: str, cid: str) -> dict[str, Any]:
    return {
        "kind": "other",
        "subkind": "tool_exec_start",
        "agent": "p",
        "tool_name": tool,
        "tool_call_id": cid,
    }


BY_CODE = {d.code: d for d in ALL_DETECTORS}


def fire(code: str, events: pl.DataFrame) -> list[Any]:
    return [f for _, f in BY_CODE[code]().check(events, DEFAULT)]


def polling(n: int, args: str = '{"job": "build-42"}') -> list[dict]:
    rows: list[dict] = [msg("user", "Tell me when build-42 is done.", "bot")]
    for i in range(n):
        rows += [
            call("bot", "check_status", args.replace("42", "42"), f"call_{i:08d}abcdef", "user"),
            result("user", f"call_{i:08d}abcdef", f"pending at 20:{i:02d}"),
        ]
    return rows


PARAPHRASES = [
    "Let's revisit the plan: step {n} needs the parser fixed before we continue.",
    "Before moving on, the parser from step {n} must be fixed; let's revisit the plan.",
]
VARIED = [
    "Plan: parse the CSV file and compute monthly totals per region.",
    "Here is the code that reads sales.csv with the csv module.",
    "Reviewed: grouping by month works, but add a test for empty files.",
    "Added the test; it covers empty files and a header-only file.",
    "Charts rendered with matplotlib, saved as totals.png.",
    "Everything is done: code, tests and the chart. TERMINATE",
]

# Interrupt tracebacks inside autogen's io/console.py: its input method, and its print.
TB_IN_INPUT = (
    "Traceback (most recent call last):\n"
    '  File "app.py", line 9, in <module>\n    proxy.initiate_chat(bot)\n'
    '  File "/x/autogen/io/console.py", line 41, in input\n    return input(prompt)\n'
    "KeyboardInterrupt"
)
TB_IN_PRINT = TB_IN_INPUT.replace("line 41, in input", "line 30, in print").replace(
    "return input(prompt)", "print(*objects, sep=sep, end=end, flush=flush)"
)

# Ctrl-C while a tool ran: a sync tool blocked in time.sleep, or an asyncio loop idle in its
# selector (an async tool awaiting, or nothing to do): only the first is a blocked thread.
TB_SLEEP = (
    "Traceback (most recent call last):\n"
    '  File "app.py", line 9, in <module>\n    proxy.initiate_chat(bot)\n'
    '  File "tools.py", line 4, in fetch_report\n    time.sleep(600)\n'
    "KeyboardInterrupt"
)
TB_IDLE_LOOP = (
    "Traceback (most recent call last):\n"
    '  File "app.py", line 9, in <module>\n    asyncio.run(main())\n'
    '  File "/usr/lib/python3.11/asyncio/base_events.py", line 1898, in _run_once\n'
    "    event_list = self._selector.select(timeout)\n"
    '  File "/usr/lib/python3.11/selectors.py", line 468, in select\n'
    "    fd_event_list = self._selector.poll(timeout, max_ev)\n"
    "KeyboardInterrupt"
)

TOPICS = ["Parser", "Billing export", "Charts", "Retries", "Schema migration"]


def _interrupted_tool(traceback: str) -> list[dict]:
    return [
        msg("u", "report?", "a"),
        call("a", "fetch_report", "{}", "call_x", "u"),
        {"kind": "error", "subkind": "interrupt", "is_error": True, "content": traceback},
    ]


def _quoting(n: int) -> list[str]:
    """Messages that each quote the one before in full, then add as much again."""
    texts, text = [], "Draft: the outage began at 03:12 when the cache tier ran out of memory."
    for i in range(n):
        text = f"> {text}\n\nRound {i}: " + "more detail, " * (len(text) // 13 + 200)
        texts.append(text)
    return texts


# Ctrl-C while the thread read the model's HTTP response (a sync client).
TB_MODEL_READ = (
    "Traceback (most recent call last):\n"
    '  File "/app/run.py", line 9, in <module>\n'
    '  File "/venv/autogen/oai/client.py", line 700, in create\n'
    '  File "/venv/openai/_base_client.py", line 982, in request\n'
    '  File "/venv/httpx/_client.py", line 1014, in _send_single_request\n'
    '  File "/venv/httpcore/_backends/sync.py", line 128, in read\n'
    "    return self._sock.recv(max_bytes)\n"
    "KeyboardInterrupt"
)

Case = tuple[str, list[dict[str, Any]], list[int]]  # (what, events, evidence seqs; [] = silent)


def assert_case(code: str, rows: list[dict[str, Any]], seqs: list[int]) -> None:
    """The detector ``code`` on the events ``rows``: silent if ``seqs`` is empty, else one
    finding citing exactly the events ``seqs``, its score in (0, 1]."""
    found = fire(code, make_events(*rows))
    if not seqs:
        assert found == []
        return
    assert len(found) == 1
    assert [e.seq for e in found[0].evidence] == seqs
    assert 0 < found[0].score <= 1


def every_case() -> list[tuple[str, str, list[dict[str, Any]], list[int]]]:
    """(code, what, events, evidence seqs) of every detector's cases, from its own test module
    (``test_<detector module>.py``, its ``CASES``)."""
    return [
        (det.code, *case) for det in ALL_DETECTORS for case in getattr(own_tests(det), "CASES", [])
    ]


def own_tests(det: type[Detector]) -> ModuleType:
    """A detector's own test module."""
    return importlib.import_module(f"tests.detectors.test_{det.__module__.rsplit('.', 1)[1]}")
