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
    """Returns (exit code, how it was stopped). stdin_kind: "none"/"devnull", "fifo", or
    "type:<text>" (a person's answers, one per line, then EOF)."""
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    if stdin_kind.startswith("tty:"):
        return _on_a_terminal(argv, workdir, schedule, stdin_kind[4:], env)
    fifo_fd = None
    stdin: int | None = subprocess.DEVNULL
    if stdin_kind.startswith("type:"):
        typed = workdir / "stdin.txt"
        typed.write_text(stdin_kind[5:])
        fifo_fd = os.open(typed, os.O_RDONLY)
        stdin = fifo_fd
    elif stdin_kind == "fifo":  # never delivers a line, never reaches EOF
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
        for name in ("stdin.fifo", "stdin.txt"):
            (workdir / name).unlink(missing_ok=True)
    return proc.returncode, ", ".join(sent) or "ran to completion"


PROMPTED = b"Press enter"  # every classic human-input prompt says it


def _on_a_terminal(
    argv: list[str], workdir: Path, schedule: list[tuple[float, int]], answer: str, env: dict
) -> tuple[int, str]:
    """The program on a pseudo-terminal, as a person runs it and ``script`` records it: the
    transcript holds what the person typed (echoed) and CRLF line ends; ``answer`` is typed
    at the first prompt."""
    import pty
    import select

    master, slave = pty.openpty()
    proc = subprocess.Popen(argv, stdin=slave, stdout=slave, stderr=slave, env=env)
    os.close(slave)
    out, start, typed, sent = bytearray(), time.monotonic(), False, []
    pending = list(schedule)
    while True:
        ready, _, _ = select.select([master], [], [], 0.1)
        if ready:
            try:
                chunk = os.read(master, 65536)
            except OSError:  # the program closed the terminal
                chunk = b""
            if not chunk and proc.poll() is not None:
                break
            out += chunk
            if not typed and PROMPTED in out:
                time.sleep(0.3)
                os.write(master, answer.encode())
                typed = True
        elif proc.poll() is not None:
            break
        if pending and time.monotonic() - start >= pending[0][0]:
            proc.send_signal(pending.pop(0)[1])
            sent.append("signal")
        if time.monotonic() - start > 60:
            proc.kill()
            sent.append("SIGKILL at 60s (safety)")
    proc.wait()
    os.close(master)
    (workdir / "console.txt").write_bytes(bytes(out))
    return proc.returncode, ", ".join(sent) or f"ran to completion (typed {answer.strip()!r})"
