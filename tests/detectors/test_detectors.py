"""Each detector fires where it must, with the right evidence, and only there.

Cases are built in code (``make_events``); the real sample logs are covered by test_samples.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import polars as pl
import pytest

from analyzer.config import DEFAULT
from analyzer.detectors import ALL_DETECTORS, run_detectors
from analyzer.detectors.base import rows_of

from ..conftest import SAMPLES, call, console_spans, make_events, msg, result


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


CASES: list[tuple[str, str, list[dict], list[int]]] = [
    # (code, case, events, expected evidence seqs; [] = must not fire)
    ("LOOP01", "same args 4x", polling(4), [1, 3, 5, 7]),
    (
        "LOOP01",
        "ids and numbers drift",
        [
            msg("u", "go", "b"),
            call("b", "fetch", '{"page": 1, "req": "req_abc12345"}', "call_a1b2c3", "u"),
            call("b", "fetch", '{"page": 1, "req": "req_zzz99999"}', "call_d4e5f6", "u"),
            call("b", "fetch", '{"page": 1, "req": "req_qqq77777"}', "call_g7h8i9", "u"),
        ],
        [1, 2, 3],
    ),
    ("LOOP01", "two calls are a retry", polling(2), []),
    (
        "LOOP01",
        "handoffs without arguments, once by each agent",
        [msg("u", "who owns billing?", "triage")]
        + [
            call(agent, "transfer_to_planner", "{}", f"call_h{k}abcdef", "planner")
            for k, agent in enumerate(["triage", "coder", "reviewer", "writer"])
        ],
        [],
    ),
    (
        "LOOP01",
        "one agent calling an argument-less tool again and again",
        [msg("u", "is it up?", "bot")]
        + [call("bot", "ping", "{}", f"call_g{k}abcdef", "u") for k in range(4)],
        [1, 2, 3, 4],
    ),
    (
        "LOOP01",
        "pages are different calls",  # numbers are argument values, not volatile tokens
        [msg("u", "read the report", "b")]
        + [call("b", "fetch", f'{{"page": {n}}}', f"call_p{n}abcdef", "u") for n in range(1, 6)],
        [],
    ),
    (
        "LOOP01",
        "the same page, asked with fresh ids and times",
        [msg("u", "read the report", "b")]
        + [
            call(
                "b",
                "fetch",
                f'{{"page": 3, "at": "2026-12-06T10:0{n}:00Z", "trace": "{n}aa0f1e2d3c4b5a6978"}}',
                f"call_q{n}abcdef",
                "u",
            )
            for n in range(4)
        ],
        [1, 2, 3, 4],
    ),
    (
        "LOOP01",
        "different args",
        [msg("u", "go", "b")]
        + [
            call("b", "search", f'{{"q": "{w}"}}', f"call_{w}", "u")
            for w in ("alpha", "beta", "gamma", "delta")
        ],
        [],
    ),
    (
        "LOOP02",
        "paraphrase cycle",
        [msg("user", "Build the importer.", "m")]
        + [
            msg("planner" if i % 2 == 0 else "coder", PARAPHRASES[(i // 2) % 2].format(n=i), "m")
            for i in range(12)
        ],
        [5, 6, 10, 11, 12],
    ),
    ("LOOP02", "varied healthy chat", [msg(f"a{i % 3}", t, "m") for i, t in enumerate(VARIED)], []),
    (
        "LOOP02",
        "an early repeat, then a long varied chat (below the share)",
        [msg("planner", "Let us agree on the importer plan first.", "m") for _ in range(4)]
        + [
            msg(f"a{i % 3}", f"{a} {b}: nothing else to add from my side.", "m")
            for i, (a, b) in enumerate((a, b) for a in TOPICS for b in TOPICS if a != b)
        ][:20],
        [],
    ),
    (
        "LOOP03",
        "two of four members for 24 rounds",
        [
            {
                "kind": "other",
                "subkind": "speaker_selected",
                "recipient": "planner" if i % 2 else "coder",
                "content": "Next speaker",
            }
            for i in range(24)
        ]
        + [msg("reviewer", "first review", "chat_manager"), msg("user", "task", "chat_manager")][
            :0
        ],
        [],
    ),
    (
        "LOOP04",
        "three empty replies",
        [msg("u", "hi", "b"), msg("b", ""), msg("u", ""), msg("b", "")],
        [1, 2, 3],
    ),
    ("LOOP04", "one empty reply", [msg("u", "hi", "b"), msg("b", ""), msg("u", "ok then")], []),
    (
        "LOOP05",
        "limit reached",
        [msg("u", "hi"), {"kind": "termination", "content": "Maximum rounds (6) reached"}],
        [1],
    ),
    (
        "LOOP05",
        "task done",
        [msg("u", "hi"), {"kind": "termination", "content": "Text 'TERMINATE' mentioned"}],
        [],
    ),
    (
        "BLOCK01",
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
        "BLOCK01",
        "tool returned",
        [
            msg("u", "report?", "a"),
            call("a", "fetch_report", "{}", "call_x", "u"),
            result("u", "call_x", "the report"),
        ],
        [],
    ),
    (
        "BLOCK01",
        "run moved on",
        [call("a", "fetch_report", "{}", "call_x", "u"), msg("u", "never mind", "a")],
        [],
    ),
    (
        "BLOCK01",
        "terminated after the call",
        [
            call("a", "t", "{}", "call_x", "u"),
            {"kind": "termination", "content": "Maximum turns (1) reached"},
        ],
        [],
    ),
    (
        "INPUT01",
        "prompt unanswered",
        [
            msg("a", "Shall I go on?", "u"),
            {"kind": "input_request", "agent": "u", "content": "Provide feedback"},
        ],
        [1],
    ),
    (
        "INPUT01",
        "interrupted inside the IO stream's input",
        [
            msg("a", "Shall I go on?", "u"),
            {"kind": "error", "is_error": True, "content": TB_IN_INPUT},
        ],
        [1],
    ),
    (
        "INPUT01",
        "interrupted while the console printed",  # the same module, its output path
        [
            msg("a", "Shall I go on?", "u"),
            {"kind": "error", "is_error": True, "content": TB_IN_PRINT},
        ],
        [],
    ),
    (
        "INPUT01",
        "prompt answered",
        [
            {"kind": "input_request", "agent": "u", "content": "Provide feedback"},
            msg("u", "yes, go on", "a"),
        ],
        [],
    ),
    (
        "INPUT01",
        "ALWAYS agent got the last message",
        [
            {
                "kind": "other",
                "subkind": "agent_config",
                "agent": "u",
                "content": '{"human_input_mode": "ALWAYS"}',
            },
            msg("a", "Shall I go on?", "u"),
        ],
        [1],
    ),
    (
        "INPUT01",
        "NEVER agent got the last message",
        [
            {
                "kind": "other",
                "subkind": "agent_config",
                "agent": "u",
                "content": '{"human_input_mode": "NEVER"}',
            },
            msg("a", "Shall I go on?", "u"),
        ],
        [],
    ),
    (
        "CTX01",
        "doubling tool output",
        [msg("u", "read", "a")] + [result("u", f"call_{i}", "x" * (1000 * 2**i)) for i in range(5)],
        [0, 1, 3, 4, 5],
    ),
    (
        "CTX01",
        "unrelated pages that happen to grow",
        [msg("u", "read", "a")]
        + [result("u", f"call_{i}", f"page {i} " + chr(97 + i) * (1000 * 2**i)) for i in range(5)],
        [],
    ),
    (
        "CTX01",
        "prompts grow with unrelated pages",
        [
            row
            for i in range(6)
            for row in (
                result("u", f"call_{i}", f"page {i} " + chr(97 + i) * (700 * 2**i)),
                {"kind": "llm_call", "agent": "a", "prompt_tokens": int(500 * 1.8**i)},
            )
        ],
        [],
    ),
    (
        "CTX01",
        "each message quotes the one before",
        [msg("u", "draft it", "a")] + [msg("a", text, "u") for text in _quoting(5)],
        [1, 2, 3, 4, 5],
    ),
    (
        "CTX01",
        "linear prompt growth",
        [{"kind": "llm_call", "agent": "a", "prompt_tokens": 1000 + 900 * i} for i in range(12)],
        [],
    ),
    (
        "CTX01",
        "accelerating prompts",
        [{"kind": "llm_call", "agent": "a", "prompt_tokens": int(500 * 1.8**i)} for i in range(7)],
        [0, 1, 4, 5, 6],
    ),
    (
        "CTX02",
        "openai 400",
        [
            msg("u", "go"),
            {
                "kind": "error",
                "is_error": True,
                "content": "openai.BadRequestError: Error code: 400 - {'error': {'code': 'context_length_exceeded'}}",
            },
        ],
        [1],
    ),
    (
        "CTX02",
        "message about context",
        [msg("u", "What is the maximum context length of gpt-4?")],
        [],
    ),
    (
        "REENT01",
        "executions nest",
        [
            call("p", "sub", "{}", "call_1", "m"),
            {
                "kind": "other",
                "subkind": "tool_exec_start",
                "agent": "t",
                "tool_name": "sub",
                "tool_call_id": "call_1",
            },
            msg("t", "Sub-task: collect names", "m"),
            call("p", "sub", "{}", "call_2", "m"),
            {
                "kind": "other",
                "subkind": "tool_exec_start",
                "agent": "t",
                "tool_name": "sub",
                "tool_call_id": "call_2",
            },
        ],
        [3, 4],
    ),
    (
        "REENT01",
        "parallel calls of one message executing concurrently",
        [
            call("p", "weather", '{"city": "Paris"}', "call_1") | {"line": 1},
            call("p", "population", '{"city": "Paris"}', "call_2") | {"line": 1},
            _exec_start("weather", "call_1"),
            _exec_start("population", "call_2"),
            result("p", "call_1", "18C", "weather"),
            result("p", "call_2", "2.1 million", "population"),
        ],
        [],
    ),
    (
        "REENT01",
        "an execution started inside a call of an earlier message",
        [
            call("p", "weather", '{"city": "Paris"}', "call_1") | {"line": 1},
            _exec_start("weather", "call_1"),
            call("p", "population", '{"city": "Paris"}', "call_2") | {"line": 2},
            _exec_start("population", "call_2"),
        ],
        [3],
    ),
    (
        "REENT01",
        "parallel calls in one message",
        [
            call("p", "a", "{}", "call_1", "t") | {"line": 5},
            call("p", "a", '{"x": 1}', "call_2", "t") | {"line": 5},
            result("t", "call_1", "ok"),
            result("t", "call_2", "ok"),
        ],
        [],
    ),
    (
        "REENT02",
        "team already running",
        [
            call("a", "run_team", "{}", "call_1", "u"),
            result(
                "u",
                "call_1",
                "The team is already running, it cannot run again until it is stopped.",
            )
            | {"is_error": True},
        ],
        [1],
    ),
    (
        "REENT02",
        "two-agent chat dies of recursion",
        [
            msg("a", "again"),
            {
                "kind": "error",
                "subkind": "traceback",
                "content": "Traceback (most recent call last):\nRecursionError: maximum recursion depth exceeded",
            },
        ],
        [],
    ),
]


@pytest.mark.parametrize(
    ("code", "case", "rows", "seqs"), CASES, ids=[f"{c[0]}-{c[1]}" for c in CASES]
)
def test_detector_table(code: str, case: str, rows: list[dict], seqs: list[int]) -> None:
    found = fire(code, make_events(*rows))
    if not seqs:
        assert found == []
        return
    assert len(found) == 1
    assert [e.seq for e in found[0].evidence] == seqs
    assert 0 < found[0].score <= 1


def test_speaker_cycle_fires_only_with_a_starved_member() -> None:
    selections = [
        {
            "kind": "other",
            "subkind": "speaker_selected",
            "recipient": "planner" if i % 2 else "coder",
            "content": "Next speaker",
        }
        for i in range(24)
    ]
    assert fire("LOOP03", make_events(*selections)) == []  # two members alternating
    roster = [msg("reviewer", "I will review at the end.", "chat_manager")]
    found = fire("LOOP03", make_events(*roster, *selections))
    assert len(found) == 1 and found[0].metrics["cycle_length"] == 24
    # A selection record without a name (blank recipient) is no turn and no member.
    blanks = [row | {"recipient": ""} if i % 6 == 5 else row for i, row in enumerate(selections)]
    found = fire("LOOP03", make_events(*roster, *blanks))
    assert len(found) == 1 and found[0].metrics == {"cycle_length": 20, "speakers": 2, "roster": 3}


def test_slow_tool_needs_timestamps_and_an_outlier() -> None:
    rows = []
    for i, gap in enumerate([1, 1, 1, 300]):
        rows += [
            call("a", "q", f'{{"i": {i}}}', f"call_{i}", "u") | {"at": i * 1000},
            result("u", f"call_{i}", "ok") | {"at": i * 1000 + gap},
        ]
    found = fire("BLOCK02", make_events(*rows))
    assert len(found) == 1 and found[0].metrics["gap_s"] == 300
    assert (
        fire("BLOCK02", make_events(*[{k: v for k, v in r.items() if k != "at"} for r in rows]))
        == []
    )


HEALTHY = sorted(
    p
    for p in SAMPLES.glob("classic/healthy_*/*")
    if p.name in ("console.txt", "runtime.log", "logs.db", "events.jsonl")
)


@pytest.mark.parametrize("path", HEALTHY, ids=[str(p.relative_to(SAMPLES)) for p in HEALTHY])
def test_no_stall_detector_fires_on_healthy_runs(path) -> None:
    from analyzer import analyze_file

    run = analyze_file(path).runs[0]
    assert {f.code for f in run.findings} <= {"RUN01", "LOOP05"}


def test_a_crashing_detector_becomes_az99() -> None:
    class Broken(BY_CODE["LOOP01"]):  # type: ignore[misc, valid-type, name-defined]
        name = "broken"

        def check(self, events, cfg):
            raise RuntimeError("boom")

    events = make_events(*polling(4))
    found = run_detectors(events, DEFAULT, "classic", [Broken, BY_CODE["LOOP02"]])
    assert [f.code for f in found[events["run_id"][0]]] == ["AZ99"]
    assert "broken crashed: RuntimeError('boom')" in found[events["run_id"][0]][0].summary


def test_a_crash_on_one_run_spares_the_other_runs() -> None:
    class Fragile(BY_CODE["LOOP01"]):  # type: ignore[misc, valid-type, name-defined]
        name = "fragile"

        def check(self, events, cfg):
            if (events["content"] == "poison").any():
                raise ValueError("poisoned")
            return super().check(events, cfg)

    good = make_events(*polling(4)).with_columns(run_id=pl.lit("good"))
    bad = make_events(*polling(4), msg("u", "poison")).with_columns(run_id=pl.lit("bad"))
    found = run_detectors(pl.concat([good, bad]), DEFAULT, "classic", [Fragile])
    assert [f.code for f in found["good"]] == ["LOOP01"]
    assert [f.code for f in found["bad"]] == ["AZ99"]


def test_rows_of_gives_each_findings_rows_in_its_order() -> None:
    df = pl.DataFrame({"seq": [10, 11, 12, 13, 14]})
    got = rows_of(df, [[3, 1], [], [4], [0, 0]])
    assert [[r["seq"] for r in rows] for rows in got] == [[13, 11], [], [14], [10, 10]]


def test_speaker_cycle_tail_is_the_longest_two_member_tail() -> None:
    """The vectorised tail search against the walk it replaced, on random turn orders."""
    import random

    from analyzer.detectors.speaker_cycle import _two_member_tail

    def walk(speakers: list[str]) -> tuple[int, set[str]]:
        start, names = len(speakers), set()
        while start and (speakers[start - 1] in names or len(names) < 2):
            start -= 1
            names.add(speakers[start])
        return start, names

    rng = random.Random(7)
    for _ in range(500):
        roster = ["a", "b", "c", "d"][: rng.randint(1, 4)]
        speakers = [rng.choice(roster) for _ in range(rng.randint(1, 30))]
        if rng.random() < 0.5:
            speakers += [rng.choice(roster[:2]) for _ in range(rng.randint(0, 20))]
        assert _two_member_tail(speakers) == walk(speakers), speakers


def test_an_idle_event_loop_is_not_a_blocked_tool() -> None:
    """Both calls are open; only the one whose thread was stopped in time.sleep is evidenced
    as blocked (score 0.92), not the one stopped in asyncio's idle selector."""
    blocked = fire("BLOCK01", make_events(*_interrupted_tool(TB_SLEEP)))
    idle = fire("BLOCK01", make_events(*_interrupted_tool(TB_IDLE_LOOP)))
    assert [e.note for e in blocked[0].evidence][-1] == "stopped while the tool was blocked"
    assert blocked[0].score == 0.92
    assert "stopped while the tool was blocked" not in [e.note for e in idle[0].evidence]
    assert idle[0].score < 0.92


def test_speaker_cycle_in_a_two_member_team_needs_one_member_re_selected() -> None:
    def picks(names: list[str]) -> list[dict]:
        return [
            {"kind": "other", "subkind": "speaker_selected", "recipient": n, "content": "x"}
            for n in names
        ]

    starved = fire("LOOP03", make_events(*picks(["writer", "critic"] + ["writer"] * 10)))
    assert len(starved) == 1
    assert starved[0].metrics == {"cycle_length": 10, "speakers": 1, "roster": 2}
    assert "critic" in starved[0].summary
    assert fire("LOOP03", make_events(*picks(["writer", "critic"] * 6))) == []
    assert fire("LOOP03", make_events(*picks(["writer", "critic"] + ["writer"] * 4))) == []


def test_a_selector_falling_back_again_and_again_is_a_cycle() -> None:
    def picks(n: int, fallbacks: int) -> list[dict]:
        rows: list[dict] = []
        for k in range(n):
            if k < fallbacks:
                rows.append({"kind": "other", "subkind": "selector_fallback", "content": "x"})
            rows.append({"kind": "other", "subkind": "speaker_selected", "recipient": "coder"})
        return rows

    found = fire("LOOP03", make_events(msg("user", "fix it", "team"), *picks(8, 3)))
    assert len(found) == 1 and found[0].metrics["fallbacks"] == 3
    assert "no valid speaker 3 time(s)" in found[0].summary
    assert "user" not in found[0].summary  # the task's sender is no member the selector skips
    assert fire("LOOP03", make_events(msg("user", "fix it", "team"), *picks(8, 0))) == []
    assert fire("LOOP03", make_events(msg("user", "fix it", "team"), *picks(8, 1))) == []


def test_selector_fallbacks_are_read_from_agentchat_logging() -> None:
    from analyzer.formats import parse_log

    log = SAMPLES / "agentchat" / "loop_selector_same_agent" / "events.log"
    _, parsed = parse_log(log)
    fell_back = parsed.events.filter(pl.col("subkind") == "selector_fallback")
    warnings = log.read_text().count("Model failed to select a speaker after")
    assert fell_back.height == warnings > 0


# --- MODEL01: a model call stopped while waiting ----------------------------------------------

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


# --- LOOP06: Magentic-One's own ledger --------------------------------------------------------


def ledger_row(satisfied: bool, stuck: bool, line: int) -> dict[str, Any]:
    text = f"satisfied={satisfied} in_loop={stuck} progress={not stuck} next=browser"
    return {
        "kind": "other",
        "subkind": "ledger",
        "agent": "MagenticOneOrchestrator",
        "content": text,
        "line": line,
    }


def replan(line: int) -> dict[str, Any]:
    return {
        "kind": "other",
        "subkind": "replan",
        "agent": "MagenticOneOrchestrator",
        "content": "Stall count exceeded, re-planning",
        "line": line,
    }


def test_loop06_reads_the_orchestrators_replans_unless_it_declared_success() -> None:
    stuck = make_events(
        *(r for i in range(3) for r in (ledger_row(False, True, 2 * i + 1), replan(2 * i + 2)))
    )
    (found,) = fire("LOOP06", stuck)
    assert found.metrics["replans"] == 3 and "browser" in found.summary
    recovered = make_events(
        *(r for i in range(3) for r in (ledger_row(False, True, 2 * i + 1), replan(2 * i + 2))),
        ledger_row(True, False, 9),
    )
    assert fire("LOOP06", recovered) == []
    once = make_events(ledger_row(False, True, 1), replan(2), ledger_row(False, False, 3))
    assert fire("LOOP06", once) == []


@pytest.mark.parametrize("form", ["console.txt", "events.log", "otel.json"])
def test_loop06_fires_on_the_recorded_magentic_one_stall_in_every_form(form: str) -> None:
    from analyzer import analyze_file

    run = analyze_file(SAMPLES / "agentchat/loop_magentic_one_stalls" / form).runs[0]
    assert "LOOP06" in run.diagnosis.because
    healthy = analyze_file(SAMPLES / "agentchat/healthy_magentic_one" / form).runs[0]
    assert "LOOP06" not in {f.code for f in healthy.findings}


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


# --- LOOP02: a failing-code loop's fix quotes the error that keeps coming back ---------------

FAILING_CODE = sorted(
    p for p in SAMPLES.glob("classic-releases/*__loop_failing_code/*") if p.name != "label.json"
)


@pytest.mark.parametrize("path", FAILING_CODE, ids=lambda p: str(p.relative_to(SAMPLES)))
def test_loop02_names_the_error_a_failing_code_loop_repeats(path: Any) -> None:
    from analyzer import analyze_file

    run = analyze_file(path).runs[0]
    (loop,) = [f for f in run.findings if f.code == "LOOP02"]
    assert "The same code keeps failing with `NameError: name 'sale' is not defined" in loop.fix
    assert "max_consecutive_auto_reply" in loop.fix
    # The failed code's traceback is the executor's message, not a crash of the run.
    assert run.ending is not None and run.ending.kind != "crashed"


def test_loop02_keeps_its_general_fix_for_repeats_without_failed_code() -> None:
    rows = [msg("a", "Let me check the build status again.", "b") for _ in range(6)]
    (found,) = fire("LOOP02", make_events(*rows))
    assert found.fix == ""  # the detector's family fix applies


# --- REENT03: agents awaiting each other's direct messages -----------------------------------


def _rpc(kind: str, sender: str | None, receiver: str | None, **kw: Any) -> dict[str, Any]:
    sub = "rpc_send" if kind == "send" else "rpc_respond"
    return {"kind": "other", "subkind": sub, "agent": sender, "recipient": receiver, **kw}


def _stop(**kw: Any) -> dict[str, Any]:
    return {"kind": "error", "subkind": "interrupt", "content": "cancelled", **kw}


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


def test_sequential_executions_an_old_release_prints_no_end_of_are_not_nesting() -> None:
    """pyautogen 0.2.0 prints each function's start (EXECUTING FUNCTION) and never its end:
    dozens of starts in a row are calls one after another, not calls inside calls."""
    from analyzer import analyze_file

    log = SAMPLES / "classic-releases/pyautogen-0.2.0__loop_tool_repeat/console.txt"
    text = log.read_text()
    assert text.count(">>>>>>>> EXECUTING FUNCTION") > 10 and "EXECUTED FUNCTION" not in text
    run = analyze_file(log).runs[0]
    assert not {f.code for f in run.findings} & {"REENT01", "REENT02", "REENT03"}
    assert run.diagnosis.label == "loop"


def _reading(pages: list[int]) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for page in pages:
        rows.append(call("reader", "read_log", f'{{"page":{page}}}', f"call_{len(rows)}"))
        rows.append(result("reader", f"call_{len(rows) - 1}", "worker-7 retrying", "read_log"))
        rows.append(msg("reviewer", "Keep reading, the cause is not in this part yet."))
    return rows


def test_loop02_leaves_alone_what_is_said_while_a_tool_pages_forward() -> None:
    assert fire("LOOP02", make_events(*_reading([1, 2, 3, 4, 5]))) == []
    # the same page again and again: the same words are a loop
    assert len(fire("LOOP02", make_events(*_reading([1, 1, 1, 1, 1])))) == 1
    # a page number going back is not reading forward
    assert len(fire("LOOP02", make_events(*_reading([1, 2, 1, 2, 1])))) == 1


@pytest.mark.parametrize(
    ("path", "words"),
    [
        ("agentchat/loop_graphflow_cycle/otel.json", "DiGraphBuilder.add_edge"),
        ("agentchat/loop_selector_same_agent/events.log", "selector_func"),
    ],
)
def test_loop03_fix_is_the_one_for_the_team_kind_the_run_names(path: str, words: str) -> None:
    from analyzer import analyze_file

    run = analyze_file(SAMPLES / path).runs[0]
    (found,) = [f for f in run.findings if f.code == "LOOP03"]
    assert words in found.fix
    other = "selector_func" if words != "selector_func" else "DiGraphBuilder"
    assert other not in found.fix
