"""Stable, filesystem-safe report names derived from the input path and run."""

from __future__ import annotations

import re
from pathlib import Path


def report_stem(source: str, run_index: int, n_runs: int) -> str:
    """``sample_logs/classic/loop/console.txt`` -> ``classic__loop__console``."""
    parts = [p for p in Path(source).with_suffix("").parts if p not in ("", ".", "..", "/")]
    if parts and parts[0] in ("sample_logs",):
        parts = parts[1:]
    stem = "__".join(parts[-3:]) or "log"
    stem = re.sub(r"[^A-Za-z0-9_.-]+", "_", stem)
    return f"{stem}__run{run_index + 1}" if n_runs > 1 else stem
