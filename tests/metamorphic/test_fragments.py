"""A fragment pasted from the middle of a run (5-40 lines, no header, starting anywhere) is
read as what it is: every fragment holding a line the whole file's parse made an event of is
read by a parser of the same framework, into events."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from analyzer.errors import AnalyzerError
from analyzer.formats import parse_log

SAMPLES = Path(__file__).parents[2] / "sample_logs"
TEXT_LOGS = sorted(
    p for p in SAMPLES.rglob("*") if p.suffix in (".txt", ".log", ".jsonl") and p.is_file()
)
PER_FILE = 8


@pytest.mark.parametrize("path", TEXT_LOGS, ids=lambda p: str(p.relative_to(SAMPLES)))
def test_fragments_are_read_as_what_they_are(path: Path, tmp_path: Path) -> None:
    whole_format, whole = parse_log(path)
    event_lines = set(whole.events["source_line"].to_list())
    lines = path.read_text(errors="replace").split("\n")
    rng = random.Random(path.name)
    for k in range(PER_FILE):
        size = rng.randint(5, 40)
        if len(lines) < size + 2:
            return
        start = rng.randint(0, len(lines) - size - 1)
        if not event_lines & set(range(start + 1, start + size + 1)):
            continue  # nothing in it the whole parse read as an event
        fragment = tmp_path / f"fragment{k}.txt"
        fragment.write_text("\n".join(lines[start : start + size]) + "\n")
        try:
            fmt, parsed = parse_log(fragment)
        except AnalyzerError as exc:
            pytest.fail(f"lines {start + 1}-{start + size}: {exc}")
        assert fmt.family == whole_format.family, (start, size, fmt.name)
        assert parsed.events.height > 0
