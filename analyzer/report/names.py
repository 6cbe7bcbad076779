"""Report names: readable, filesystem-safe, and one per input file.

The readable part is the input's last three path parts (``sample_logs/`` left out); a tag
from the input's absolute path follows, so ``console.txt`` and ``console.log`` in one folder,
or two trees that end alike, never share a report.
"""

from __future__ import annotations

import hashlib
import os
import re
from pathlib import Path

_READABLE_MAX = 80  # characters: a report name stays far below NAME_MAX (255 bytes)


def report_stem(source: str, run_index: int, n_runs: int) -> str:
    """``sample_logs/classic/loop/console.txt`` -> ``classic__loop__console-1a2b3c4d``."""
    parts = [p for p in Path(source).with_suffix("").parts if p not in ("", ".", "..", "/")]
    if parts and parts[0] in ("sample_logs",):
        parts = parts[1:]
    readable = re.sub(r"[^A-Za-z0-9_.-]+", "_", "__".join(parts[-3:])).strip("._") or "log"
    stem = f"{readable[-_READABLE_MAX:].lstrip('._-') or 'log'}-{input_tag(source)}"
    return f"{stem}__run{run_index + 1}" if n_runs > 1 else stem


# A batch's per-run report, as ``summary_rows`` names it (a cache entry or a link is checked
# against it: nothing else may be linked or trusted).
BATCH_REPORT = re.compile(r"runs/[A-Za-z0-9_][A-Za-z0-9_.-]*\.md")


def input_tag(source: str) -> str:
    """Eight hex digits naming the input file by its absolute path."""
    return hashlib.blake2b(absolute_bytes(source), digest_size=4).hexdigest()


def absolute_bytes(source: str) -> bytes:
    """The input's absolute path as the file system has it (undecodable bytes kept): what
    report names and cache entries are keyed on."""
    return os.path.abspath(source).encode("utf-8", "surrogateescape")
