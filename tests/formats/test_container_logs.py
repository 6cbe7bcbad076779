"""A log captured by a container runtime (Docker json-file, Kubernetes CRI) reads as the log itself.

The wrappers are written here the way the runtimes write them (one record per output line,
lines over 16 KiB split into partial records), around real sample logs.
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from analyzer import analyze_file
from analyzer.formats import detect_format
from analyzer.formats.io.files import is_plain
from analyzer.formats.io.line_batches import line_batches
from analyzer.formats.io.split_parse import plan

from ..conftest import SAMPLES

TIME = "2026-11-25T01:02:03.456789012Z"
SOURCES = [
    "classic/loop_tool_repeat/console.txt",
    "classic/blocking_tool_sigint/runtime.log",
    "classic/reentry_sync/events.jsonl",
    "agentchat/input_wait_userproxy/console.txt",
    "agentchat/context_explosion_tool/events.log",
    "agentchat-json/context_explosion_tool/events.jsonl",
]


def pieces(line: str, limit: int) -> list[str]:
    return [line[i : i + limit] for i in range(0, len(line), limit)] or [""]


def docker(text: str, limit: int) -> str:
    out = []
    for k, line in enumerate(text.splitlines(keepends=True)):
        for piece in pieces(line, limit):
            stream = "stderr" if k % 7 == 3 else "stdout"
            out.append(
                json.dumps({"log": piece, "stream": stream, "time": TIME}, separators=(",", ":"))
            )
    return "\n".join(out) + "\n"


def cri(text: str, limit: int) -> str:
    out = []
    for line in text.splitlines(keepends=True):
        body = line.rstrip("\n")
        parts = pieces(body, limit)
        for i, piece in enumerate(parts):
            tag = "F" if i == len(parts) - 1 and line.endswith("\n") else "P"
            out.append(f"{TIME} stdout {tag} {piece}")
    return "\n".join(out) + "\n"


WRAPPERS: dict[str, Callable[[str, int], str]] = {"docker": docker, "cri": cri}


def summary(path: Path) -> str:
    """Everything the analysis says but times (a wrapped transcript gets the runtime's), with
    the file's name (cited in the verdict) left out."""
    result = analyze_file(path)
    runs = [
        (
            run.run_id,
            run.findings,
            run.diagnosis,
            {k: v for k, v in run.stats.as_dict().items() if k != "duration_s"},
            run.events.drop("ts").rows(),
            run.turns.drop("ts_start", "ts_end", "gap_before_s").rows(),
        )
        for run in result.runs
    ]
    return repr(runs).replace(str(path), "LOG")


@pytest.mark.parametrize("source", SOURCES)
@pytest.mark.parametrize("wrapper", sorted(WRAPPERS))
@pytest.mark.parametrize("limit", [16 * 1024, 700])
def test_a_wrapped_log_reads_as_the_log(
    source: str, wrapper: str, limit: int, tmp_path: Path
) -> None:
    original = SAMPLES / source
    wrapped = tmp_path / "container.log"
    wrapped.write_text(WRAPPERS[wrapper](original.read_text(), limit))
    assert detect_format(wrapped) is detect_format(original)
    want = summary(original)
    assert "LOG:" in want and summary(wrapped) == want


def test_gzip_of_a_wrapped_log_and_a_record_cut_short(tmp_path: Path) -> None:
    original = SAMPLES / "classic/blocking_tool_sigint/console.txt"
    text = docker(original.read_text(), 16 * 1024)
    packed = tmp_path / "container.log.1.gz"
    packed.write_bytes(gzip.compress(text.encode()))
    assert summary(packed) == summary(original)
    cut = tmp_path / "killed.log"
    cut.write_text(text + '{"log":"half a rec')  # the runtime died mid-write
    assert summary(cut) == summary(original)


@pytest.mark.usefixtures("tiny_spans")
def test_a_wrapped_log_is_not_cut_by_byte_offsets(tmp_path: Path) -> None:
    wrapped = tmp_path / "container.log"
    wrapped.write_text(
        docker((SAMPLES / "agentchat/loop_swarm_pingpong/events.log").read_text(), 700)
    )
    assert not is_plain(wrapped)
    assert is_plain(SAMPLES / "agentchat/loop_swarm_pingpong/events.log")
    assert len(plan(SAMPLES / "agentchat/loop_swarm_pingpong/events.log", lambda line: True)) > 1
    assert len(plan(wrapped, lambda line: True)) == 1


@pytest.mark.parametrize("wrapper", sorted(WRAPPERS))
def test_the_bulk_reader_gets_the_lines_in_small_blocks(wrapper: str, tmp_path: Path) -> None:
    original = SAMPLES / "agentchat/loop_swarm_pingpong/events.log"
    wrapped = tmp_path / "container.log"
    wrapped.write_text(WRAPPERS[wrapper](original.read_text(), 700))

    def lines(path: Path) -> list[tuple[int, str]]:
        return [
            row
            for batch in line_batches(path, lambda lf: lf, block_bytes=4096)
            for row in batch.select("line", "text").rows()
        ]

    assert lines(wrapped) == lines(original)
    assert len(lines(original)) == len(original.read_text().splitlines())


def test_a_wrapped_transcript_gets_the_runtimes_times_and_silences_become_evidence(
    tmp_path: Path,
) -> None:
    """A console transcript has no times; Docker's per-line times make a slow tool visible."""
    original = SAMPLES / "classic/loop_tool_repeat/console.txt"
    lines = original.read_text().splitlines(keepends=True)
    slow_from = next(i for i, line in enumerate(lines) if "EXECUTED FUNCTION" in line)
    start = datetime(2026, 11, 25, 1, 0, tzinfo=UTC)
    times = [
        start + timedelta(seconds=i + (1000 if i >= slow_from else 0)) for i in range(len(lines))
    ]
    wrapped = tmp_path / "container.log"
    wrapped.write_text(
        "".join(
            json.dumps(
                {"log": line, "stream": "stdout", "time": t.isoformat().replace("+00:00", "Z")},
                separators=(",", ":"),
            )
            + "\n"
            for line, t in zip(lines, times, strict=True)
        )
    )
    run = analyze_file(wrapped).runs[0]
    assert run.events["ts"].null_count() == 0
    for row in run.events.select("source_line", "ts").rows():
        assert row[1] == times[row[0] - 1]
    slow = [f for f in run.findings if f.code == "BLOCK02"]
    assert (
        slow and slow[0].evidence[0].source_line < slow_from + 1 <= slow[0].evidence[-1].source_line
    )
    assert not [f for f in analyze_file(original).runs[0].findings if f.code == "BLOCK02"]
