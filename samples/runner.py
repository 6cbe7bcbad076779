"""Run a sample program and stop it the way production stops stuck runs.

Shared by the classic and agentchat recorders: a signal schedule of (seconds, signal), a stdin
that never answers (FIFO held open by us) or is at EOF, stdout+stderr captured as the console.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

INT, TERM, KILL = signal.SIGINT, signal.SIGTERM, signal.SIGKILL


def run_program(
    argv: list[str], workdir: Path, schedule: list[tuple[float, int]], stdin_kind: str
) -> tuple[int, str]:
    """Returns (exit code, how it was stopped). stdin_kind: "none"/"devnull", or "fifo"."""
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    fifo_fd = None
    stdin: int | None = subprocess.DEVNULL
    if stdin_kind == "fifo":  # never delivers a line, never reaches EOF
        fifo = workdir / "stdin.fifo"
        os.mkfifo(fifo)
        fifo_fd = os.open(fifo, os.O_RDWR)
        stdin = fifo_fd
    with open(workdir / "console.txt", "wb") as console:
        proc = subprocess.Popen(
            argv, stdout=console, stderr=subprocess.STDOUT, stdin=stdin, env=env
        )
        start, sent = time.monotonic(), []
        for at, sig in schedule:
            try:
                proc.wait(timeout=max(0.0, at - (time.monotonic() - start)))
                break
            except subprocess.TimeoutExpired:
                proc.send_signal(sig)
                sent.append(f"{signal.Signals(sig).name} at {at:g}s")
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            sent.append("SIGKILL at 60s (safety)")
    if fifo_fd is not None:
        os.close(fifo_fd)
        (workdir / "stdin.fifo").unlink()
    return proc.returncode, ", ".join(sent) or "ran to completion"
