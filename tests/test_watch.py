"""``watch`` on logs written while it reads them: recorded runs replayed into a file at a
compressed pace, ``watch`` in its own process, bounded in time."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from analyzer import analyze_file
from analyzer.config import DEFAULT
from analyzer.gate import EXIT_GATE, Gate
from analyzer.watch import Watcher

from .conftest import SAMPLES

LOOP = SAMPLES / "agentchat" / "loop_swarm_pingpong" / "events.log"
BLOCKED = SAMPLES / "classic" / "blocking_tool_sigint" / "console.txt"
HEALTHY = SAMPLES / "classic" / "healthy_tool_terminate" / "console.txt"
CLI = [sys.executable, "-m", "analyzer", "watch"]


def first_sign(lines: list[str], label: str, tmp: Path) -> int:
    """The fewest lines after which the analysis gives ``label`` (binary search: once the
    signal is in the log it stays)."""
    probe = tmp / "probe.log"

    def shows(n: int) -> bool:
        probe.write_text("".join(lines[:n]))
        try:
            return analyze_file(probe).runs[-1].diagnosis.label == label
        except Exception:
            return False

    lo, hi = 1, len(lines)
    assert shows(hi)
    while lo < hi:
        mid = (lo + hi) // 2
        lo, hi = (lo, mid) if shows(mid) else (mid + 1, hi)
    return lo


class Reader(threading.Thread):
    """Collects a process's stdout lines with the time each arrived."""

    def __init__(self, proc: subprocess.Popen[str]) -> None:
        super().__init__(daemon=True)
        self.proc, self.lines = proc, []  # type: ignore[var-annotated]

    def run(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.append((time.monotonic(), line.rstrip("\n")))

    def wait_for(self, text: str, seconds: float) -> float | None:
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            for at, line in self.lines:
                if text in line:
                    return at
            time.sleep(0.02)
        return None


@pytest.fixture
def watching(tmp_path: Path):  # type: ignore[no-untyped-def]
    procs: list[subprocess.Popen[str]] = []

    def start(*args: str) -> Reader:
        proc = subprocess.Popen(
            [*CLI, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        procs.append(proc)
        reader = Reader(proc)
        reader.start()
        return reader

    yield start
    for proc in procs:
        proc.kill()
        proc.wait(timeout=10)
        for pipe in (proc.stdout, proc.stderr):
            if pipe:
                pipe.close()


def test_a_loop_is_named_within_2_s_of_its_first_sign_on_a_live_log(
    tmp_path: Path, watching
) -> None:  # type: ignore[no-untyped-def]
    lines = LOOP.read_text().splitlines(keepends=True)
    sign = first_sign(lines, "loop", tmp_path)
    live = tmp_path / "live" / "events.log"
    live.parent.mkdir()
    reader = watching(str(live.parent), "--interval", "0.1")
    time.sleep(1.5)  # watch is up and following the (empty) directory
    written_at = None
    with live.open("w") as fh:
        for i, line in enumerate(lines, 1):
            fh.write(line)
            fh.flush()
            if i == sign:
                written_at = time.monotonic()
            if i % 20 == 0:
                time.sleep(0.02)  # a compressed pace: ~1,300 lines in ~1.5 s
    assert written_at is not None
    said = reader.wait_for("stall begins", 10)
    assert said is not None, reader.lines
    assert said - written_at < 2.0, f"named {said - written_at:.2f} s after its first sign"
    assert "loop, " in next(line for _, line in reader.lines if "stall begins" in line)


def test_silence_inside_a_tool_is_a_stall_within_2_s_of_the_threshold(
    tmp_path: Path, watching
) -> None:  # type: ignore[no-untyped-def]
    lines = BLOCKED.read_text().splitlines(keepends=True)
    inside = next(i for i, line in enumerate(lines) if "EXECUTING FUNCTION" in line) + 1
    live = tmp_path / "console.txt"
    live.write_text("")
    reader = watching(
        str(live), "--interval", "0.1", "--silence", "1.5", "--fail-on", "blocking_tool"
    )
    time.sleep(1.0)
    with live.open("w") as fh:
        for line in lines[:inside]:  # the run goes into its tool and says nothing more
            fh.write(line)
            fh.flush()
            time.sleep(0.01)
    silent_from = time.monotonic()
    assert reader.wait_for("stall begins", 1.0) is None  # a tool call is not yet a stall
    said = reader.wait_for("stall begins", 10)
    assert said is not None, reader.lines
    assert 1.5 <= said - silent_from < 1.5 + 2.0
    line = next(text for _, text in reader.lines if "stall begins" in text)
    assert "silent for" in line and "fetch_report" in line
    assert reader.proc.wait(timeout=10) == EXIT_GATE  # --fail-on: exits at the first match


def test_truncation_rotation_new_files_and_the_end_of_a_stall(tmp_path: Path) -> None:
    now = [1000.0]
    folder = tmp_path / "logs"
    folder.mkdir()
    log = folder / "console.txt"
    lines = BLOCKED.read_text().splitlines(keepends=True)
    inside = next(i for i, line in enumerate(lines) if "EXECUTING FUNCTION" in line) + 1
    log.write_text("".join(lines[:inside]))
    watcher = Watcher(
        [folder],
        DEFAULT,
        silence_s=30,
        clock=lambda: now[0],
        gate=Gate(frozenset({"blocking_tool"})),
        throttle=0,  # the test's polls come faster than a real log grows
    )
    assert watcher.poll() == []  # fresh: the tool has only just been called
    now[0] += 31
    (begun,) = watcher.poll()
    assert (begun.kind, begun.label, begun.fails_gate) == ("stall begins", "blocking_tool", True)
    assert watcher.poll() == []  # said once
    # Rotation: a new file in its place (a new inode), where the run finished.
    rotated = folder / "console.txt.new"
    rotated.write_text(HEALTHY.read_text())
    rotated.replace(log)
    now[0] += 1
    (ended,) = watcher.poll()
    assert (ended.kind, ended.label) == ("stall ends", "healthy")
    # Truncation, then a log that loops; and a new file in the folder.
    log.write_text("")
    watcher.poll()
    log.write_text((SAMPLES / "classic" / "loop_tool_repeat" / "console.txt").read_text())
    (folder / "second.txt").write_text(HEALTHY.read_text())
    now[0] += 1
    notices = {(n.path.rsplit("/", 1)[-1], n.kind, n.label) for n in watcher.poll()}
    assert ("console.txt", "stall begins", "loop") in notices
    assert ("second.txt", "run ended", "healthy") in notices


def test_once_reports_what_is_there_and_exits(tmp_path: Path) -> None:
    proc = subprocess.run(
        [*CLI, "--once", "--silence", "0", str(BLOCKED), str(HEALTHY), "--fail-on", "loop"],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    kinds = [line.split(": ", 1)[0].split(" ", 1)[1] for line in proc.stdout.splitlines()]
    assert kinds == ["stall begins", "run ended"]


def test_silence_inside_a_streamed_model_call(tmp_path: Path) -> None:
    src = SAMPLES / "agentchat" / "healthy_selector_streaming" / "events.log"
    lines = src.read_text().splitlines(keepends=True)
    start = next(i for i, line in enumerate(lines) if "LLMStreamStart" in line) + 1
    log = tmp_path / "events.log"
    log.write_text("".join(lines[:start]))
    now = [5000.0]
    watcher = Watcher([log], DEFAULT, silence_s=10, clock=lambda: now[0], throttle=0)
    assert watcher.poll() == []
    now[0] += 11
    (begun,) = watcher.poll()
    assert (begun.kind, begun.label) == ("stall begins", "model_call")
    assert "inside a model call of" in begun.text
    log.write_text("".join(lines))  # the call returned and the run went on to its end
    now[0] += 1
    kinds = [n.kind for n in watcher.poll()]
    assert kinds == ["stall ends"]


def test_a_line_record_log_is_parsed_by_its_growth_and_judged_as_a_whole_parse(
    tmp_path: Path,
) -> None:
    lines = LOOP.read_text().splitlines(keepends=True)
    live = tmp_path / "events.log"
    live.write_text("")
    watcher = Watcher([live], DEFAULT, throttle=0)
    for start in range(0, len(lines), 150):
        with live.open("a") as fh:
            fh.write("".join(lines[start : start + 150]))
        watcher.poll()
    followed = watcher.files[live]
    assert followed.growing is not None and len(followed.growing.parts) >= 5
    whole = analyze_file(live)
    assert followed.result is not None
    assert [r.diagnosis for r in followed.result.runs] == [r.diagnosis for r in whole.runs]
    assert followed.result.runs[0].events.equals(whole.runs[0].events)
