"""Score the analyzer on the recorded release corpus (``corpus/``, ``make corpus``).

Each recording's label says what truly happened. A verdict is *right* when it names that,
*unknown* when it claims nothing (an honest miss), and *wrong* otherwise (a false stall, a
missed stall called healthy, a wrong class). Prints one table per half (``tune``: what the
analyzer was tuned on; ``held_out``: measured untouched), by release and by log form, the
coverage of every file, and a calibration table (verdicts by confidence band, share right).

    python bench/corpus_score.py [--half tune|held_out] [--show wrong|all]
"""

from __future__ import annotations

import argparse
import json
from collections import Counter, defaultdict
from pathlib import Path

from analyzer.errors import AnalyzerError
from analyzer.pipeline import analyze_file

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "corpus"
BANDS = ((0.8, 1.01), (0.6, 0.8), (0.4, 0.6), (0.0, 0.4))


def score(half: str | None, show: str) -> None:
    rows = []
    for label_file in sorted(CORPUS.rglob("label.json")):
        label = json.loads(label_file.read_text())
        # AgentChat releases recorded with samples/agentchat (record.py --corpus): never tuned on
        if "truth" not in label:
            label["truth"], label["half"] = _truth_of(label["scenario"]), "held_out"
        if half and label["half"] != half:
            continue
        for path in sorted(label_file.parent.iterdir()):
            if path.name == "label.json":
                continue
            try:
                run = analyze_file(path).runs[-1]
            except AnalyzerError as exc:
                rows.append((label, path, UNREAD, 0.0, 0.0, str(exc)))
                continue
            d = run.diagnosis
            share = (run.stats.coverage or {}).get("share", 1.0)
            rows.append((label, path, d.label, d.confidence, share, d.summary))
    halves: dict[str, list] = defaultdict(list)
    for row in rows:
        halves[row[0]["half"]].append(row)
    for name, mine in sorted(halves.items()):
        print(f"\n== {name}: {len(mine)} files")
        _table("release", mine, lambda r: r[1].parent.parent.name)
        _table("form", mine, lambda r: r[1].name)
        _table("truth", mine, lambda r: r[0]["truth"])
        shares = [r[4] for r in mine]
        print(
            f"coverage: min {min(shares):.1%}, mean {sum(shares) / len(shares):.1%}, "
            f">= 98%: {sum(s >= 0.98 for s in shares)}/{len(shares)}"
        )
        _calibration(mine)
        for r in mine:
            outcome = _outcome(r)
            if show == "all" or (show == "wrong" and outcome != "right"):
                rel = r[1].relative_to(CORPUS)
                print(
                    f"  {outcome:7s} {rel}: {r[2]} {r[3]:.2f} (truth {r[0]['truth']}) "
                    f"cov {r[4]:.0%} | {r[5][:160]}"
                )


# The verdict of a file the analyzer could not read (not the ``error`` verdict: a crashed run).
UNREAD = "unread"
_TRUTHS = {
    "healthy": "healthy",
    "loop": "loop",
    "blocking_model": "blocking_model",
    "blocking": "blocking_tool",
    "error": "error",
    "input_wait": "input_wait",
    "context_explosion": "context_explosion",
    "reentry": "recursive_reentry",
}


def _truth_of(scenario: str) -> str:
    """What a scenario did, from its name (every scenario is named after it)."""
    return next(t for prefix, t in _TRUTHS.items() if scenario.startswith(prefix))


def _outcome(row: tuple) -> str:
    label, verdict = row[0], row[2]
    if verdict == label["truth"]:
        return "right"
    return "unknown" if verdict in ("unknown", UNREAD) else "wrong"


def _table(by: str, rows: list, key) -> None:
    counts: dict[str, Counter] = defaultdict(Counter)
    for r in rows:
        counts[key(r)][_outcome(r)] += 1
    print(f"{by:28s} right unknown wrong")
    for name, c in sorted(counts.items()):
        print(f"  {name:26s} {c['right']:5d} {c['unknown']:7d} {c['wrong']:5d}")
    total = Counter(_outcome(r) for r in rows)
    print(f"  {'all':26s} {total['right']:5d} {total['unknown']:7d} {total['wrong']:5d}")


def _calibration(rows: list) -> None:
    """Verdicts that claim something (a stall or healthy), by confidence: the share right.
    ``unknown`` claims nothing and is counted apart."""
    claims = [r for r in rows if r[2] not in ("unknown", UNREAD)]
    print(f"confidence band   verdicts  right   ({len(rows) - len(claims)} unknown or unread)")
    for lo, hi in BANDS:
        mine = [r for r in claims if lo <= r[3] < hi]
        right = sum(_outcome(r) == "right" for r in mine)
        share = f"{right / len(mine):.0%}" if mine else "-"
        print(f"  [{lo:.1f}, {min(hi, 1.0):.1f}]       {len(mine):5d}  {share}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--half", choices=["tune", "held_out"])
    parser.add_argument("--show", choices=["wrong", "all", "none"], default="wrong")
    args = parser.parse_args()
    score(args.half, args.show)
