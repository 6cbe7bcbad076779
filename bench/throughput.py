"""Throughput of the single-file pipeline on large logs made by repeating real sample logs.

Prints a table: input, size, events, seconds, MB/s, events/s, peak RSS; and, for the runtime
log, the ceiling of one orjson.loads pass over every JSON line of the same file.
Each measurement runs in a fresh subprocess so peak RSS is its own.

    python bench/throughput.py [--mb 100]
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"
SAMPLES = ROOT / "sample_logs" / "classic"
AGENTCHAT = ROOT / "sample_logs" / "agentchat"
AGENTCHAT_JSON = ROOT / "sample_logs" / "agentchat-json"

TREE_RSS = r"""
import json, os, resource, sys, threading, time

PAGE = os.sysconf("SC_PAGE_SIZE")

def descendants():
    # This process and its descendants (a large file is parsed by worker processes too, which
    # the forkserver starts: they are not this process's children, so rusage misses them).
    parent = {}
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/stat") as fh:
                parent[int(pid)] = int(fh.read().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
    mine = {os.getpid()}
    while more := {pid for pid, up in parent.items() if up in mine} - mine:
        mine |= more
    return mine

def rss_mb(pids):
    total = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/statm") as fh:
                total += int(fh.read().split()[1]) * PAGE
        except (OSError, IndexError, ValueError):
            continue
    return total / 2**20

peak = [0.0]
done = threading.Event()
def sample():
    # Walking all of /proc takes ~2 ms of this process's time (with the GIL): done every
    # 0.5 s; the known processes' memory is read every 50 ms (~0.05 ms).
    pids, tick = set(), 0
    while not done.wait(0.05):
        pids = descendants() if tick % 10 == 0 else pids
        tick += 1
        peak[0] = max(peak[0], rss_mb(pids))
threading.Thread(target=sample, daemon=True).start()
"""

MEASURE = (
    TREE_RSS
    + r"""
from analyzer import analyze_file
t = time.perf_counter()
result = analyze_file(sys.argv[1])
elapsed = time.perf_counter() - t
done.set()
events = sum(r.events.height for r in result.runs)
verdicts = sorted({r.diagnosis.label for r in result.runs})
rss = max(peak[0], resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
print(json.dumps({"seconds": elapsed, "events": events, "rss_mb": rss, "verdicts": verdicts}))
"""
)

# One orjson.loads over the JSON of every line (the JSON may follow a logging prefix).
CEILING_ANY = r"""
import json, resource, sys, time
import orjson
t = time.perf_counter()
n = 0
with open(sys.argv[1], "rb") as fh:
    for line in fh:
        at = line.find(b"{")
        if at >= 0:
            try:
                orjson.loads(line[at:])
            except orjson.JSONDecodeError:
                continue
            n += 1
elapsed = time.perf_counter() - t
rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"seconds": elapsed, "events": n, "rss_mb": rss, "verdicts": []}))
"""


UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
RUN_SCOPED_UUID = re.compile(rf"(?<![_/]){UUID.pattern}")


def repeat_to(
    src: Path, dest: Path, target_mb: float, keep_first_lines: int = 0, one_run: bool = False
) -> Path:
    """Repeat the body of ``src`` until ``dest`` reaches ``target_mb``.

    Each copy gets fresh uuids (team, message and call ids), as a log of many runs would have;
    identical ids would let de-duplication skip the copies and flatter the figures. With
    ``one_run`` the team's uuid (the one inside agent and topic ids, after ``_`` or ``/``)
    is kept: one run that went on for the whole file, as a loop left overnight does.
    """
    uuid = RUN_SCOPED_UUID if one_run else UUID
    lines = src.read_text().splitlines(keepends=True)
    head, body = lines[:keep_first_lines], "".join(lines[keep_first_lines:])
    reps = max(1, int(target_mb * 1024 * 1024 / max(1, len(body.encode()))))
    with dest.open("w") as fh:
        fh.writelines(head)
        for k in range(reps):
            fh.write(uuid.sub(lambda m, k=k: f"{m[0][:-8]}{k:08x}", body))
    return dest


SPAN_ID = re.compile(r'("(?:trace|span|parentSpan)Id":")([0-9a-f]{16,32})"')


def repeat_spans_to(src: Path, dest: Path, target_mb: float) -> Path:
    """Repeat an OTLP JSON file's batches until ``dest`` reaches ``target_mb``, each copy's
    trace and span ids made its own (the same ids again would merge the copies' spans)."""
    body = src.read_text()
    reps = max(1, int(target_mb * 1024 * 1024 / max(1, len(body.encode()))))
    with dest.open("w") as fh:
        for k in range(reps):
            fh.write(SPAN_ID.sub(lambda m, k=k: f'{m[1]}{m[2][:-8]}{k:08x}"', body))
    return dest


def measure(script: str, path: Path) -> dict:
    out = subprocess.run(
        [sys.executable, "-c", script, str(path)],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
    )
    return json.loads(out.stdout)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--mb", type=float, default=100.0, help="size of each generated log")
    args = parser.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    mb = args.mb
    inputs = [
        (
            "console transcript (loop)",
            repeat_to(SAMPLES / "loop_groupchat_auto/console.txt", OUT / "console-large.txt", mb),
        ),
        (
            "runtime file log (loop)",
            repeat_to(
                SAMPLES / "loop_twoagent_sigint/runtime.log",
                OUT / "runtime-large.log",
                mb,
                keep_first_lines=1,
            ),
        ),
        (
            "IOStream events JSON",
            repeat_to(SAMPLES / "reentry_sync/events.jsonl", OUT / "events-large.jsonl", mb / 2),
        ),
        (
            "agentchat logging (loop)",
            repeat_to(
                AGENTCHAT / "loop_swarm_pingpong/events.log", OUT / "agentchat-large.log", mb
            ),
        ),
        (
            "agentchat JSON logging (loop)",
            repeat_to(
                AGENTCHAT_JSON / "loop_swarm_pingpong/events.jsonl",
                OUT / "agentchat-json-large.jsonl",
                mb,
            ),
        ),
        (
            "agentchat console (loop)",
            repeat_to(
                AGENTCHAT / "loop_roundrobin_no_termination/console.txt",
                OUT / "agentchat-console-large.txt",
                mb / 2,
            ),
        ),
        (
            "OTLP JSON spans (loop, OpenInference)",
            repeat_spans_to(
                ROOT / "sample_logs/agentchat-openinference/loop_swarm_pingpong/traces.jsonl",
                OUT / "otlp-large.jsonl",
                mb / 2,
            ),
        ),
    ]
    rows = []
    for label, path in inputs:
        rows.append((label, path, measure(MEASURE, path)))
    with_ceiling = (1, 3, 4, 6)  # the logs made of JSON: one orjson pass is their floor
    for i in with_ceiling:
        label, path = inputs[i]
        rows.append((f"  ceiling for {label.split(' (')[0]}", path, measure(CEILING_ANY, path)))
    print(
        f"{'input':38s} {'MB':>7s} {'events':>10s} {'s':>7s} {'MB/s':>7s} {'events/s':>10s} {'peak RSS MB':>11s}  verdict"
    )
    for label, path, m in rows:
        mb = path.stat().st_size / 1024 / 1024
        print(
            f"{label:38s} {mb:7.1f} {m['events']:10,d} {m['seconds']:7.2f} {mb / m['seconds']:7.1f} "
            f"{m['events'] / m['seconds']:10,.0f} {m['rss_mb']:11.0f}  {','.join(m['verdicts'])}"
        )
    for k, i in enumerate(with_ceiling):
        j = len(inputs) + k
        ratio = rows[i][2]["seconds"] / rows[j][2]["seconds"]
        print(f"{rows[i][0]}: end-to-end takes {ratio:.1f}x one orjson.loads pass over its JSON")


if __name__ == "__main__":
    main()
