"""Every recorded classic console transcript, rewritten as other setups would have written the
same run, reads to the same events and verdict: agents renamed (spaces, unicode), CRLF, a
container runtime's wrapper, and cut after every turn."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from analyzer.pipeline import AnalysisResult, analyze_file
from tests.metamorphic.rewrite import (
    cri_wrapped,
    cuts_after_turns,
    docker_wrapped,
    renamed_console,
    with_crlf,
)

SAMPLES = Path(__file__).parents[2] / "sample_logs"
CONSOLES = sorted(SAMPLES.glob("classic*/*/console.txt"))
COLUMNS = ["kind", "subkind", "content", "tool_name", "tool_call_id", "tool_args", "source_line"]
ids = [f"{p.parent.parent.name}/{p.parent.name}" for p in CONSOLES]


def _events(result: AnalysisResult) -> pl.DataFrame:
    return pl.concat([r.events.select([*COLUMNS, "agent", "recipient"]) for r in result.runs])


def _verdicts(result: AnalysisResult) -> list[tuple[str, str]]:
    return [(r.diagnosis.label, r.diagnosis.phase) for r in result.runs]


@pytest.fixture(scope="module")
def originals() -> dict[Path, AnalysisResult]:
    return {p: analyze_file(p) for p in CONSOLES}


@pytest.mark.parametrize("path", CONSOLES, ids=ids)
def test_renamed_agents_give_the_same_conversation(
    path: Path, tmp_path: Path, originals: dict[Path, AnalysisResult]
) -> None:
    original = originals[path]
    names = sorted(
        set(_events(original)["agent"].drop_nulls())
        | set(_events(original)["recipient"].drop_nulls())
    )
    text, mapping = renamed_console(path.read_text(), names)
    out = tmp_path / "console.txt"
    out.write_text(text)
    result = analyze_file(out)
    back = {new: old for old, new in mapping.items()}
    got = _events(result).with_columns(
        pl.col("agent").replace(back), pl.col("recipient").replace(back)
    )
    named = (pl.col("subkind") == "speaker_selected") | (pl.col("kind") == "input_request")
    got = got.with_columns(content=pl.when(named).then(None).otherwise("content"))
    want = _events(original).with_columns(content=pl.when(named).then(None).otherwise("content"))
    assert got.equals(want)  # the texts that are names: compared with the names above
    assert _verdicts(result) == _verdicts(original)


@pytest.mark.parametrize(
    "rewrite", [with_crlf, docker_wrapped, cri_wrapped], ids=lambda f: f.__name__
)
@pytest.mark.parametrize("path", CONSOLES, ids=ids)
def test_line_ends_and_wrappers_change_nothing(
    path: Path, rewrite, tmp_path: Path, originals: dict[Path, AnalysisResult]
) -> None:
    out = tmp_path / "console.txt"
    out.write_text(rewrite(path.read_text()), newline="")
    result = analyze_file(out)
    assert _events(result).equals(_events(originals[path]))
    if rewrite is with_crlf:  # the wrappers add clock times, which can add evidence
        assert _verdicts(result) == _verdicts(originals[path])


@pytest.mark.parametrize("path", CONSOLES, ids=ids)
def test_cut_after_every_turn_keeps_what_was_before_and_claims_no_other_stall(
    path: Path, tmp_path: Path, originals: dict[Path, AnalysisResult]
) -> None:
    original = originals[path]
    whole = _events(original)
    label = original.runs[-1].diagnosis.label
    for k, text in enumerate(cuts_after_turns(path.read_text())):
        out = tmp_path / f"cut{k}.txt"
        out.write_text(text)
        result = analyze_file(out)
        last = text.count("\n")
        assert _events(result).equals(whole.filter(pl.col("source_line") <= last)), k
        for run in result.runs:
            d = run.diagnosis
            # A prefix can read as another stall, but never firmly: the cut removed the rest.
            assert d.label in (label, "unknown") or d.confidence < 0.5, (k, d)
