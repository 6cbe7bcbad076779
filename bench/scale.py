"""Scale figures for batch mode (issue 4): streaming memory, near-duplicates at 1M messages,
and files/s over many small logs with one and two cores.

    python bench/scale.py [--gb 1.0] [--rounds 3] [--messages 1000000] [--files 10000]

Prints one table: input, size, seconds, MB/s or items/s, peak RSS, and what was found. Each
1 GB log is timed ``--rounds`` times alternating with its ceiling (this machine's speed drifts
by up to 40% within minutes): the best of each is shown, the highest peak memory, and the
ratio of every pair.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from throughput import (
    AGENTCHAT,
    AGENTCHAT_JSON,
    CEILING_ANY,
    MEASURE,
    OUT,
    ROOT,
    SAMPLES,
    TREE_RSS,
    measure,
    repeat_to,
)

NEAR_DUP = r"""
import json, random, resource, sys, time
import polars as pl
from analyzer.config import DEFAULT
from analyzer.detectors.near_duplicate_messages import NearDuplicateMessages
from analyzer.formats.base import EventSink
from analyzer.repetition import message_rows, scan
n = int(sys.argv[1])
rng = random.Random(7)
vocab = [f"{a}{b}" for a in ("pa", "re", "lo", "mi", "ta", "ko", "su", "ne", "vi", "da", "ge", "fo")
         for b in ("rt", "ns", "mb", "lk", "x", "q", "dd", "ph", "st", "nk", "lm", "rz")]
sink = EventSink("bench")
planted = "The flux capacitor needs exactly one point twenty-one gigawatts, said Doc."
for i in range(n):
    text = planted if i in (1000, 1500) else " ".join(rng.choices(vocab, k=12))
    sink.add("message", i + 1, agent=f"agent{i % 4}", content=text)
events = sink.frame()
t = time.perf_counter()
found = list(NearDuplicateMessages().check(events, DEFAULT))
elapsed = time.perf_counter() - t
hit = scan(message_rows(events.slice(0, 1600)), DEFAULT).filter(pl.col("seq") == 1500)["earlier_seq"].to_list()
rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"seconds": elapsed, "events": n, "rss_mb": rss,
                  "verdicts": [f"loop findings={len(found)}",
                               f"repeat 500 turns apart found={hit == [1000]}"]}))
"""

BATCH = (
    TREE_RSS
    + r"""
from pathlib import Path
from analyzer.batch import BatchOptions, run_batch
from analyzer.inputs import gather
files = list(gather([sys.argv[1]]).files)
t = time.perf_counter()
opts = BatchOptions(Path(sys.argv[2]), reports=False, use_cache=sys.argv[4] == "cache")
result = run_batch(files, opts, workers=int(sys.argv[3]))
elapsed = time.perf_counter() - t
done.set()
rss = max(peak[0], resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
print(json.dumps({"seconds": elapsed, "events": len(files), "rss_mb": rss,
                  "verdicts": [f"{len(result.rows)} runs, {len(result.errors)} errors"]}))
"""
)


def run(script: str, *args: str) -> dict:
    out = subprocess.run(
        [sys.executable, "-c", script, *args], capture_output=True, text=True, check=True, cwd=ROOT
    )
    return json.loads(out.stdout)


def small_logs(n: int) -> Path:
    """n small real logs (every sample form, copied round-robin) in nested directories."""
    root = OUT / "many"
    if root.exists() and sum(1 for _ in root.rglob("*.*")) == n:
        return root
    shutil.rmtree(root, ignore_errors=True)
    sources = [
        p
        for p in sorted((ROOT / "sample_logs").rglob("*"))
        if p.is_file() and p.name != "label.json" and p.stat().st_size < 300_000
    ]
    for i in range(n):
        src = sources[i % len(sources)]
        dest = root / f"d{i // 500:03d}" / f"{i:05d}-{src.parent.name}{src.suffix}"
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(src, dest)
    return root


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--gb", type=float, default=1.0)
    parser.add_argument("--messages", type=int, default=1_000_000)
    parser.add_argument("--files", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    sample = AGENTCHAT / "loop_swarm_pingpong/events.log"
    mb = args.gb * 1024
    large = {
        "agentchat logging, many runs": repeat_to(sample, OUT / "agentchat-1gb.log", mb),
        "agentchat logging, one long run": repeat_to(
            sample, OUT / "agentchat-1gb-one-run.log", mb, one_run=True
        ),
        # The same loggers through a JSON formatter: every line is one object to decode, so
        # the ceiling is the JSON decode itself (no prefix lines for it to reject at once).
        "agentchat JSON-lines logging, many runs": repeat_to(
            AGENTCHAT_JSON / "loop_swarm_pingpong/events.jsonl",
            OUT / "agentchat-json-1gb.jsonl",
            mb,
        ),
        "classic runtime file log, one session": repeat_to(
            SAMPLES / "loop_twoagent_sigint/runtime.log",
            OUT / "runtime-1gb.log",
            mb,
            keep_first_lines=1,
        ),
    }
    rows = []
    pairs: dict[str, list[float]] = {}
    for label, big in large.items():
        runs = [(measure(MEASURE, big), measure(CEILING_ANY, big)) for _ in range(args.rounds)]
        best = dict(min((m for m, _ in runs), key=lambda m: m["seconds"]))
        best["rss_mb"] = max(m["rss_mb"] for m, _ in runs)
        ceiling = min((c for _, c in runs), key=lambda c: c["seconds"])
        pairs[label] = [m["seconds"] / c["seconds"] for m, c in runs]
        rows.append((label, big.stat().st_size, best))
        rows.append(("  ceiling: one orjson pass", big.stat().st_size, ceiling))
    rows.append(
        (f"near-duplicates, {args.messages:,} messages", 0, run(NEAR_DUP, str(args.messages)))
    )
    many = small_logs(args.files)
    size = sum(p.stat().st_size for p in many.rglob("*") if p.is_file())
    for workers in (1, 2):
        cache = OUT / f"batch-cache-{workers}"
        shutil.rmtree(cache, ignore_errors=True)
        rows.append(
            (
                f"batch, {args.files:,} small logs, {workers} worker(s)",
                size,
                run(BATCH, str(many), str(cache), str(workers), "no-cache"),
            )
        )
    cache = OUT / "batch-cache-2"
    run(BATCH, str(many), str(cache), "2", "cache")  # fill the cache
    rows.append(
        (
            "batch again, unchanged (cache hits)",
            size,
            run(BATCH, str(many), str(cache), "2", "cache"),
        )
    )
    print(
        f"{'input':42s} {'MB':>8s} {'s':>8s} {'MB/s':>7s} {'items/s':>10s} {'peak RSS MB':>11s}  result"
    )
    for label, nbytes, m in rows:
        mb = nbytes / 1024 / 1024
        rate = f"{mb / m['seconds']:7.1f}" if nbytes else "      -"
        print(
            f"{label:42s} {mb:8.1f} {m['seconds']:8.2f} {rate} {m['events'] / m['seconds']:10,.0f} "
            f"{m['rss_mb']:11.0f}  {','.join(m['verdicts'])}"
        )
    batch = 2 * len(large) + 1  # after the large files and their ceilings, near-duplicates
    one, two = rows[batch][2]["seconds"], rows[batch + 1][2]["seconds"]
    print(f"\nsecond core speed-up: {one / two:.2f}x")
    for i in range(0, 2 * len(large), 2):
        label, nbytes, m = rows[i]
        spread = pairs[label]
        print(
            f"{label}: end-to-end {m['seconds'] / rows[i + 1][2]['seconds']:.2f}x one orjson "
            f"pass (best of {len(spread)} over best of {len(spread)}; pairs "
            f"{min(spread):.2f}-{max(spread):.2f}x); peak RSS / file size "
            f"{m['rss_mb'] / (nbytes / 1024 / 1024):.2f}"
        )


if __name__ == "__main__":
    main()
