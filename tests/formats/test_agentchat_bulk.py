"""The bulk reader of AutoGen logging files (polars line scan, learned layout, skipped hops) must
give exactly the events of the plain line-by-line reader, whatever the format string."""

from __future__ import annotations

import gzip
import re
from itertools import islice
from pathlib import Path

import polars as pl
import pytest

from analyzer import fastpaths
from analyzer.formats.agentchat_logging import records
from analyzer.formats.agentchat_logging import text as logging_format
from analyzer.formats.agentchat_logging.records import RecordParser
from analyzer.formats.agentchat_logging.text import AgentchatLogging
from analyzer.formats.io.files import iter_lines
from analyzer.formats.io.split_parse import ENV_PROCESSES

from ..conftest import SAMPLES
from .test_agentchat import REWRITES, rewrite

AC = SAMPLES / "agentchat"
STYLES = {
    **REWRITES,
    "padded": "{ts} {level:<8} {name:<22} {msg}",
    "pid-thread": "{ts} [pid 4242:MainThread] {name}:{level} {msg}",
    "level-first": "{level} {ts} {name} - {msg}",
}
SCENARIOS = [
    "loop_swarm_pingpong",
    "blocking_tool_sync",
    "reentry_team_run",
    "input_wait_userproxy",
]


@pytest.fixture(autouse=True)
def learn_from_a_few_lines(monkeypatch: pytest.MonkeyPatch) -> None:
    """The samples are shorter than LEARN_LINES, and a file the sample covers is read by the
    slow splitter alone: with every fast path taken, a layout is learned from the first
    ``FEW_LINES`` and splits the rest. One process: splitting is test_split_parse's."""
    monkeypatch.setenv(fastpaths.ENV_MODE, fastpaths.Mode.ALWAYS.value)
    monkeypatch.setenv(ENV_PROCESSES, "1")


def reference(path: Path, monkeypatch: pytest.MonkeyPatch) -> pl.DataFrame:
    """The reference paths: every line split one by one, every hop decoded."""
    with monkeypatch.context() as m:
        m.setenv(fastpaths.ENV_MODE, fastpaths.Mode.OFF.value)
        return AgentchatLogging.parse(path).events


def head(path: Path) -> list[str]:
    return [text for _, text in islice(iter_lines(path), logging_format.FEW_LINES)]


@pytest.mark.parametrize("scenario", SCENARIOS)
@pytest.mark.parametrize("style", sorted(STYLES))
def test_bulk_reading_equals_line_by_line(
    scenario: str, style: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = rewrite(AC / scenario / "events.log", tmp_path / "app.log", STYLES[style])
    fast = AgentchatLogging.parse(path).events
    assert fast.height > 0
    assert fast.equals(reference(path, monkeypatch))


def test_a_file_the_sample_covers_is_split_line_by_line_with_the_same_result(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    path = AC / "loop_swarm_pingpong/events.log"
    learned = AgentchatLogging.parse(path).events  # 20-line sample: layout learned and used
    monkeypatch.setenv(fastpaths.ENV_MODE, fastpaths.Mode.AUTO.value)
    monkeypatch.setattr(logging_format, "_learn", lambda lines: pytest.fail("learned"))
    assert AgentchatLogging.parse(path).events.equals(learned)


@pytest.mark.parametrize("style", ["pipes", "iso-t", "bracketed", "padded", "pid-thread"])
def test_a_layout_is_learned_when_the_time_comes_first(style: str, tmp_path: Path) -> None:
    path = rewrite(AC / "loop_swarm_pingpong/events.log", tmp_path / "app.log", STYLES[style])
    assert logging_format._learn(head(path)) is not None


def test_the_recorded_samples_use_the_bulk_path() -> None:
    for path in sorted(AC.glob("*/events.log")):
        assert logging_format._learn(head(path)) is not None, path


def test_a_level_word_opening_the_message_is_text_as_in_the_slow_split(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Level before the name in the format, and a message that starts with ERROR: the record's
    # level is the one its format put first; the bulk split must agree with the slow one.
    lines = [
        "INFO 2026-11-24 10:00:00,000 autogen_core: Publishing message",
        "INFO 2026-11-24 10:00:01,000 autogen_core: ERROR in handler for coder",
        "ERROR 2026-11-24 10:00:01,500 autogen_core: Error processing publish message",
        "Traceback (most recent call last):",
        '  File "x.py", line 1, in <module>',
        "ValueError: boom",
        "INFO 2026-11-24 10:00:02,000 autogen_core: Publishing message",
    ]
    path = tmp_path / "level.log"
    path.write_text("\n".join(lines) + "\n")
    fast = AgentchatLogging.parse(path).events
    assert fast["kind"].cast(str).to_list() == ["error"]
    assert fast["source_line"].to_list() == [3]
    assert "ValueError: boom" in fast["content"][0]
    assert fast.equals(reference(path, monkeypatch))


def test_invalid_utf8_mid_file_is_read_on_with_replacement(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    raw = (AC / "loop_swarm_pingpong/events.log").read_bytes().splitlines(keepends=True)
    middle = len(raw) // 2
    raw[middle] = raw[middle].replace(b"Publishing", b"Publ\xff\xfeishing", 1)
    path = tmp_path / "bad-bytes.log"
    path.write_bytes(b"".join(raw))
    fast = AgentchatLogging.parse(path).events
    assert fast.height > 0
    assert fast.equals(reference(path, monkeypatch))


def test_gzip_input_reads_the_same(tmp_path: Path) -> None:
    src = AC / "reentry_team_run/events.log"
    packed = tmp_path / "events.log.gz"
    packed.write_bytes(gzip.compress(src.read_bytes()))
    assert AgentchatLogging.parse(packed).events.equals(AgentchatLogging.parse(src).events)


def test_known_hops_skip_decoding_but_no_message(monkeypatch: pytest.MonkeyPatch) -> None:
    path = AC / "loop_swarm_pingpong/events.log"
    decoded: list[int] = []
    real = records.loads

    def counting(text: str | bytes) -> object:
        decoded.append(1)
        return real(text)

    monkeypatch.setattr(records, "loads", counting)
    fast = AgentchatLogging.parse(path).events
    skipped_decodes = len(decoded)
    decoded.clear()
    slow = reference(path, monkeypatch)
    assert skipped_decodes < 0.7 * len(decoded)  # most hops repeat messages already read
    assert fast.equals(slow)


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_a_payload_is_decoded_once_however_many_hops_repeat_it(
    scenario: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A payload the id count doubts (a swarm handoff carries its context's sources too) was
    # decoded again at every hop; its text repeating means nothing new is in it.
    decoded: list[str] = []
    real = RecordParser.event

    def counting(self: RecordParser, e: dict[str, object], line: int, when: str | None) -> bool:
        if e.get("type") == "Message":
            decoded.append(str(e.get("payload")))
        return real(self, e, line, when)

    monkeypatch.setattr(RecordParser, "event", counting)
    path = AC / scenario / "events.log"
    fast = AgentchatLogging.parse(path).events
    assert decoded and len(decoded) == len(set(decoded))
    monkeypatch.setattr(RecordParser, "event", real)
    assert fast.equals(reference(path, monkeypatch))


def test_a_message_without_an_id_is_never_taken_for_a_known_hop(tmp_path: Path) -> None:
    # An older serialisation without message ids: every hop has to be decoded and
    # de-duplicated by (type, source, created_at) instead.
    src = (AC / "loop_swarm_pingpong/events.log").read_text()
    stripped = re.sub(r'\\"id\\":\\"[0-9a-f-]{36}\\",', "", src)
    stripped = re.sub(r"\bid='[0-9a-f-]{36}', ", "", stripped)  # and from the runtime's reprs
    path = tmp_path / "no-ids.log"
    path.write_text(stripped)
    messages = AgentchatLogging.parse(path).events.filter(pl.col("kind") == "message")
    original = AgentchatLogging.parse(AC / "loop_swarm_pingpong/events.log").events
    assert messages.height == original.filter(pl.col("kind") == "message").height


def test_hops_are_read_in_place(monkeypatch: pytest.MonkeyPatch) -> None:
    # Most lines of a long log are Message hops: the bulk path reads them without building a
    # record (or a copy of the message) for each.
    taken: list[bool] = []
    real = RecordParser.hop_at

    def spying(self: RecordParser, line: int, when: str | None, text: str, at: int) -> bool:
        taken.append(real(self, line, when, text, at))
        return taken[-1]

    monkeypatch.setattr(RecordParser, "hop_at", spying)
    path = AC / "loop_swarm_pingpong/events.log"
    events = AgentchatLogging.parse(path).events
    hops = sum('"type": "Message"}' in line for _, line in iter_lines(path))
    assert sum(taken) == hops and not all(taken)  # LLMCall/ToolCall records are offered too
    monkeypatch.setattr(RecordParser, "hop_at", real)
    assert events.equals(reference(path, monkeypatch))


def test_lines_after_a_hop_read_in_place_belong_to_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A hop's record has only its first line read; lines glued after it (another writer's
    # output, a wrapped line) must not join the next record or start one of their own.
    lines = (AC / "loop_swarm_pingpong/events.log").read_text().splitlines()
    at = next(i for i, line in enumerate(lines) if line.endswith('"type": "Message"}') and i > 30)
    lines[at + 1 : at + 1] = ["  continued: KeyboardInterrupt", "ERROR: not a record start"]
    path = tmp_path / "glued.log"
    path.write_text("\n".join(lines) + "\n")
    fast = AgentchatLogging.parse(path).events
    assert fast.equals(reference(path, monkeypatch))
    assert not fast["content"].str.contains("continued:").any()
