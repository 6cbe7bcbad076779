"""A log stored as UTF-16 (Windows PowerShell 5's `>`) or behind a UTF-8 BOM reads as the log."""

from __future__ import annotations

import codecs
from pathlib import Path

import pytest

from analyzer import analyze_file
from analyzer.formats import detect_format
from analyzer.formats.io.files import iter_lines
from analyzer.formats.io.line_batches import line_batches
from analyzer.formats.io.split_parse import plan

from ..conftest import SAMPLES

SOURCES = [
    "classic/healthy_tool_terminate/console.txt",  # non-ASCII text
    "classic/healthy_tool_terminate/events.jsonl",
    "classic/blocking_tool_sigint/runtime.log",
    "classic/loop_tool_repeat/chat_history.json",
    "agentchat/loop_swarm_pingpong/events.log",
    "agentchat/input_wait_userproxy/console.txt",
    "agentchat/reentry_team_run/otel.json",
    "agentchat-json/reentry_team_run/events.jsonl",
]
ENCODINGS = {
    "utf-8-bom": lambda text: codecs.BOM_UTF8 + text.encode("utf-8"),
    "utf-16-le": lambda text: text.encode("utf-16"),  # BOM + little-endian, as PowerShell 5
    "utf-16-be": lambda text: codecs.BOM_UTF16_BE + text.encode("utf-16-be"),
}


def summary(path: Path) -> str:
    result = analyze_file(path)
    runs = [
        (run.run_id, run.findings, run.diagnosis, run.stats, run.events.rows(), run.turns.rows())
        for run in result.runs
    ]
    return repr((result.format, runs)).replace(str(path), "LOG")


@pytest.mark.parametrize("source", SOURCES)
@pytest.mark.parametrize("encoding", sorted(ENCODINGS))
def test_a_log_reads_the_same_whatever_its_stored_encoding(
    source: str, encoding: str, tmp_path: Path
) -> None:
    original = SAMPLES / source
    stored = tmp_path / original.name
    stored.write_bytes(ENCODINGS[encoding](original.read_text(encoding="utf-8")))
    assert detect_format(stored) is detect_format(original)
    assert summary(stored) == summary(original)


@pytest.mark.parametrize("encoding", sorted(ENCODINGS))
@pytest.mark.usefixtures("tiny_spans")
def test_the_line_readers_give_the_lines_in_small_blocks(encoding: str, tmp_path: Path) -> None:
    """Blocks and decoder chunks end inside multi-byte characters and lines."""
    text = (SAMPLES / "classic/healthy_tool_terminate/console.txt").read_text(encoding="utf-8")
    text += "emoji 🚀 and accents é ü\n" * 50  # surrogate pairs in UTF-16
    plain, stored = tmp_path / "plain.txt", tmp_path / "stored.txt"
    plain.write_text(text, encoding="utf-8")
    stored.write_bytes(ENCODINGS[encoding](text))

    def bulk(path: Path) -> list[tuple[int, str]]:
        return [
            row
            for batch in line_batches(path, lambda lf: lf, block_bytes=1000)
            for row in batch.select("line", "text").rows()
        ]

    assert list(iter_lines(stored)) == list(iter_lines(plain))
    assert bulk(stored) == bulk(plain)
    # Never cut by byte offsets, where the same text stored as plain UTF-8 is.
    assert len(plan(plain, lambda line: True)) > 1
    assert len(plan(stored, lambda line: True)) == 1
