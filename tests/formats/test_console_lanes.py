"""The classic console's block path (marked lines through the state machine, lanes built by
polars) reads exactly what the line-by-line reference reads: same events, same coverage,
on every console sample and fixture, repeated until lanes form, cut into small batches so
lanes and messages cross batch ends, and rewritten as other setups print them."""

from __future__ import annotations

from pathlib import Path

import pytest

from analyzer.formats.base import ParsedLog
from analyzer.formats.classic_console import _ConsoleParser
from tests.metamorphic.rewrite import cri_wrapped, docker_wrapped, renamed_console, with_crlf

ROOT = Path(__file__).parents[2]
CONSOLES = sorted((ROOT / "sample_logs").glob("classic*/*/console.txt")) + sorted(
    (ROOT / "tests" / "fixtures").glob("console.*.txt")
)
ids = [f"{p.parent.name}/{p.name}" for p in CONSOLES]


def _same(path: Path, block_bytes: int = 1 << 23) -> _ConsoleParser:
    """Parse ``path`` both ways, require the same result, return the block parser."""
    fast = _ConsoleParser(path, block_bytes)
    try:
        got: ParsedLog | str = fast.run()
    except Exception as exc:
        got = f"{type(exc).__name__}: {exc}"
    try:
        want: ParsedLog | str = _ConsoleParser(path).run_by_line()
    except Exception as exc:
        want = f"{type(exc).__name__}: {exc}"
    if isinstance(got, str) or isinstance(want, str):
        assert got == want
        return fast
    assert got.events.equals(want.events), _first_difference(got, want)
    assert got.coverage == want.coverage
    assert got.skipped == want.skipped
    return fast


def _first_difference(got: ParsedLog, want: ParsedLog) -> str:
    rows = zip(got.events.iter_rows(named=True), want.events.iter_rows(named=True), strict=False)
    for a, b in rows:
        if a != b:
            return f"block path {a}\nby line    {b}"
    return f"{got.events.height} events against {want.events.height}"


@pytest.mark.parametrize("path", CONSOLES, ids=ids)
def test_sample_reads_the_same(path: Path) -> None:
    _same(path)


@pytest.mark.parametrize("path", CONSOLES, ids=ids)
def test_repeated_sample_reads_the_same_across_small_batches(path: Path, tmp_path: Path) -> None:
    text = path.read_text(encoding="utf-8", errors="replace")
    long = tmp_path / "console.txt"
    long.write_text(text * 12, encoding="utf-8")
    _same(long)
    # Small batches cost a polars query each (~10 ms): fewer copies, and at most ~60 batches.
    long.write_text(text * 3, encoding="utf-8")
    _same(long, max(700, long.stat().st_size // 60))


def test_lanes_are_taken_on_a_loop(tmp_path: Path) -> None:
    sample = ROOT / "sample_logs" / "classic" / "loop_groupchat_auto" / "console.txt"
    long = tmp_path / "console.txt"
    long.write_text(sample.read_text() * 20)
    parser = _same(long, 1 << 14)
    assert parser.lane_events > 0.9 * len(parser.sink)


ALL = "".join(p.read_text(encoding="utf-8", errors="replace") for p in CONSOLES)


@pytest.mark.parametrize(
    "rewrite",
    [
        lambda t: renamed_console(t, ["Data Analyst", "Überprüfer", "planner.v2", "代理"])[0],
        with_crlf,
        docker_wrapped,
        cri_wrapped,
    ],
    ids=["renamed", "crlf", "docker", "cri"],
)
def test_every_console_together_rewritten_reads_the_same(rewrite, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "console.txt"
    path.write_text(rewrite(ALL * 2), encoding="utf-8", newline="")
    for block in (1 << 23, path.stat().st_size // 40):
        _same(path, block)


RULE = "-" * 80


def _lane(n: int, name: str = "coder") -> str:
    return "".join(
        f"{name} (to chat_manager):\n\nstep {k}\n\n{RULE}\nNext speaker: planner\n\n"
        for k in range(n)
    )


@pytest.mark.parametrize(
    "odd",
    [
        "a progress bar\r 50%\r100%\n",  # lone carriage returns end lines, as Python reads them
        f"{RULE}\x1c\n",  # a rule ending in a space only Python calls one
        "writer (to chat_manager):\x1f\n\ntext\n\n" + RULE + "\n",
        "Next speaker: \x1cplanner\n",  # a name starting with a space: not a selection
        "Next speaker: planner\x1d\n",
        " (to chat_manager):\n\nno sender\n\n" + RULE + "\n",
        ("s" * 200) + " (to chat_manager):\n\nlong sender\n\n" + RULE + "\n",
        ("s" * 201) + " (to chat_manager):\n\ntoo long\n\n" + RULE + "\n",
        "a (to " + "r" * 201 + "):\n\ntoo long a recipient\n\n" + RULE + "\n",
        "a (to b) (to c):\n\nsecond marker\n\n" + RULE + "\n",
        "a (to ):\n\nempty recipient\n\n" + RULE + "\n",
        "user (to chat_manager): Provide feedback to chat_manager. Press enter to skip: \n",
        "\x1b[33mcoder\x1b[0m (to chat_manager):\n\ncoloured\n\n" + RULE + "\n",
        'Traceback (most recent call last):\n  File "x.py", line 1, in <module>\nKeyError: 1\n',
        '  File "x.py", line 3, in f\n',
        "[autogen.oai.client: 11-24 20:45:27] {966} INFO - a logging line\n",
        "stray application output\n",
        "***** Suggested tool call (call_1): lookup *****\nArguments: \n{}\n" + "*" * 69 + "\n",
    ],
)
def test_oddity_inside_lanes_reads_the_same(odd: str, tmp_path: Path) -> None:
    path = tmp_path / "console.txt"
    path.write_text(_lane(40) + odd + _lane(40, "Data Analyst") + odd + _lane(40), newline="")
    for block in (1 << 23, 1500):
        _same(path, block)
