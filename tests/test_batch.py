"""Batch mode: summary schema, cache, bad files mid-batch, gzip, globs, parallel and cluster paths."""

from __future__ import annotations

import gzip
import json
import shutil
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import polars as pl
import pytest
from click.testing import CliRunner
from polars.testing import assert_frame_equal

from analyzer.batch import (
    CHUNK_FILES,
    BatchOptions,
    analyze_chunk,
    chunks,
    run_batch,
    write_outputs,
    write_summary,
)
from analyzer.cli import main
from analyzer.inputs import gather
from analyzer.report.batch_summary import SUMMARY_SCHEMA, summary_frame

from .conftest import FIXTURES, SAMPLES

PICK = [
    "classic/loop_tool_repeat/console.txt",
    "classic/healthy_tool_terminate/logs.db",
    "agentchat/blocking_tool_sync/events.log",
    "agentchat/input_wait_userproxy/console.txt",
]


@pytest.fixture
def logs(tmp_path: Path) -> Path:
    d = tmp_path / "logs"
    for i, rel in enumerate(PICK):
        target = d / f"team{i}" / Path(rel).name
        target.parent.mkdir(parents=True)
        shutil.copy(SAMPLES / rel, target)
    return d


def rows_without_timing(rows: list[dict]) -> list[dict]:
    return sorted(rows, key=lambda r: (r["source"], r["run_id"]))


def test_summary_has_the_documented_schema(logs: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = run_batch(list(gather([str(logs)]).files), BatchOptions(out), workers=1)
    written = write_outputs(result, out)
    assert [p.name for p in written] == [
        "summary.parquet",
        "summary.csv",
        "index.md",
        "verdicts.png",
        "context_growth.png",
        "repeated_tools.png",
    ]
    df = pl.read_parquet(out / "summary.parquet")
    assert df.schema == SUMMARY_SCHEMA
    assert sorted(df["verdict"].to_list()) == ["blocking_tool", "healthy", "input_wait", "loop"]
    loop = df.filter(pl.col("verdict") == "loop").row(0, named=True)
    assert (loop["repeated_tool"], loop["repeat_count"]) == ("check_status", 9)
    assert pl.read_csv(out / "summary.csv").columns == df.columns
    index = (out / "index.md").read_text()
    assert "| Loop (`loop`) | 1 | 25% |" in index
    for report in df["report"].to_list():
        assert (out / report).exists() and f"]({report})" in index


def test_two_batches_writing_one_summary_at_once_each_write_it_whole(
    logs: Path, tmp_path: Path
) -> None:
    # Each summary goes through its own randomly named temporary file (once a fixed name,
    # which two batches writing at the same moment would have shared).
    out = tmp_path / "out"
    result = run_batch(list(gather([str(logs)]).files), BatchOptions(out, reports=False), workers=1)
    df = summary_frame(result.rows)
    with ThreadPoolExecutor(4) as pool:
        list(pool.map(lambda _: write_summary(df, out), range(16)))
    assert_frame_equal(pl.read_parquet(out / "summary.parquet"), df)
    assert pl.read_csv(out / "summary.csv").height == df.height
    assert not list(out.glob(".*.tmp"))


def test_unchanged_inputs_come_from_the_cache(logs: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    files = list(gather([str(logs)]).files)
    first = run_batch(files, BatchOptions(out), workers=1)
    assert not any(o.cached for o in first.outcomes)
    changed = logs / "team0" / "console.txt"
    changed.write_text(changed.read_text() + "\nuser (to ops_bot):\n\nstill there?\n")
    second = run_batch(files, BatchOptions(out), workers=1)
    assert [o.cached for o in second.outcomes] == [str(f) != str(changed) for f in files]
    assert rows_without_timing(second.rows)[1:] == rows_without_timing(first.rows)[1:]
    other_options = run_batch(files, BatchOptions(out, ignore=("LOOP01",)), workers=1)
    assert not any(o.cached for o in other_options.outcomes)  # options are part of the key


def test_bad_files_mid_batch_are_listed_and_the_rest_analysed(logs: Path, tmp_path: Path) -> None:
    shutil.copy(FIXTURES / "empty.txt", logs / "team1" / "empty.log")
    shutil.copy(FIXTURES / "binary-garbage.bin", logs / "noise.bin")
    out = tmp_path / "out"
    result = CliRunner().invoke(main, ["batch", str(logs), "--out", str(out)])
    assert result.exit_code == 1
    assert result.stderr == f"Error: {logs / 'team1' / 'empty.log'}: empty file\n"
    assert "4 run(s) from 6 file(s)" in result.stdout and "1 skipped; 1 failed" in result.stdout
    index = (out / "index.md").read_text()
    assert "## Files that could not be analysed" in index and "empty.log" in index


def test_gzip_and_globs(logs: Path, tmp_path: Path) -> None:
    src = logs / "team0" / "console.txt"
    (logs / "team0" / "console.txt.gz").write_bytes(gzip.compress(src.read_bytes()))
    src.unlink()
    found = gather([f"{logs}/**/*.gz", f"{logs}/nothing-*.log"])
    files = list(found.files)
    assert [f.name for f in files] == ["console.txt.gz"]
    assert found.errors == [(f"{logs}/nothing-*.log", "no such file, directory or glob match")]
    rows = run_batch(files, BatchOptions(tmp_path / "out"), workers=1).rows
    assert rows[0]["verdict"] == "loop"


def test_parallel_path_gives_the_same_summary(logs: Path, tmp_path: Path) -> None:
    files = list(gather([str(logs)]).files)
    serial = run_batch(files, BatchOptions(tmp_path / "a"), workers=1).rows
    parallel = run_batch(files, BatchOptions(tmp_path / "b"), workers=2).rows
    assert parallel == serial


def test_a_chunk_of_files_gives_what_each_file_gives_alone(logs: Path, tmp_path: Path) -> None:
    """Small logs share one analysis table per chunk; bad files, gzip and cache hits mixed in."""
    shutil.copy(FIXTURES / "empty.txt", logs / "team1" / "empty.log")
    shutil.copy(FIXTURES / "binary-garbage.bin", logs / "noise.bin")
    src = logs / "team0" / "console.txt"
    (logs / "copy.txt.gz").write_bytes(gzip.compress(src.read_bytes()))
    paths = [str(p) for p in list(gather([str(logs)]).files)]
    one_by_one = [analyze_chunk([p], BatchOptions(tmp_path / "a"))[0] for p in paths]
    together = analyze_chunk(paths, BatchOptions(tmp_path / "b"))
    assert together == one_by_one
    assert [o.error is not None for o in together].count(True) == 1
    assert [o.skipped is not None for o in together].count(True) == 1
    again = analyze_chunk(paths, BatchOptions(tmp_path / "b"))
    assert [o.cached for o in again] == [bool(o.rows) for o in together]
    assert [o.rows for o in again] == [o.rows for o in together]


def test_chunks_keep_order_and_give_every_worker_several() -> None:
    paths = [str(i) for i in range(1000)]
    for workers in (1, 2, 8):
        parts = chunks(paths, workers)
        assert [p for part in parts for p in part] == paths
        assert max(map(len, parts)) <= CHUNK_FILES and len(parts) >= 4 * workers
    assert chunks(paths[:3], 2) == [["0"], ["1"], ["2"]]


def test_json_lines(logs: Path, tmp_path: Path) -> None:
    result = CliRunner().invoke(
        main, ["batch", str(logs), "--out", str(tmp_path / "o"), "--json", "--no-reports"]
    )
    assert result.exit_code == 0
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(rows) == 4 and set(rows[0]) == set(SUMMARY_SCHEMA.names())
    assert all(r["report"] is None for r in rows)


def test_cluster_of_two_workers_matches_the_single_machine_summary(
    logs: Path, tmp_path: Path
) -> None:
    from distributed import LocalCluster

    from analyzer.cluster import dask_mapper

    files = list(gather([str(logs)]).files)
    local = run_batch(files, BatchOptions(tmp_path / "local"), workers=1).rows
    opts = BatchOptions(tmp_path / "cluster")
    with LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1", dashboard_address=None
    ) as cluster:
        remote = run_batch(files, opts, mapper=dask_mapper(cluster.scheduler_address, opts)).rows
    assert remote == local


def test_cli_reports_cache_hits_and_no_cache_forces_analysis(logs: Path, tmp_path: Path) -> None:
    out = str(tmp_path / "o")
    args = ["batch", str(logs), "--out", out, "--no-reports"]
    CliRunner().invoke(main, args)
    again = CliRunner().invoke(main, args)
    assert "(4 unchanged, from cache)" in again.stdout
    forced = CliRunner().invoke(main, [*args, "--no-cache"])
    assert "(0 unchanged, from cache)" in forced.stdout


def test_a_directory_of_every_form_gives_one_summary(tmp_path: Path) -> None:
    # One recorded file of each format, names hidden: each is sniffed from its content, and
    # its row carries that format and the verdict its label expects.
    from analyzer.formats import ALL_FORMATS, detect_format

    from .conftest import labelled_samples

    picked: dict[str, tuple[Path, str]] = {}
    for path, expected in labelled_samples():
        if (
            path.suffix in (".jsonl", ".json", ".log", ".txt", ".db")
            and expected.get("runs", 1) == 1
        ):
            fmt = detect_format(path).name
            key = fmt if fmt != "otlp-json" else f"otlp-json/{path.parent.parent.name}"
            picked.setdefault(key, (path, expected["verdict"]))
    assert {detect_format(p).name for p, _ in picked.values()} == {f.name for f in ALL_FORMATS}
    mixed = tmp_path / "mixed"
    mixed.mkdir()
    for i, (path, _) in enumerate(picked.values()):
        shutil.copy(path, mixed / f"{i:02d}.log")
    out = tmp_path / "out"
    result = run_batch(list(gather([str(mixed)]).files), BatchOptions(out), workers=2)
    write_outputs(result, out)
    df = pl.read_parquet(out / "summary.parquet")
    assert not result.errors and not result.skipped
    got = {Path(s).name: (f, v) for s, f, v in df.select("source", "format", "verdict").iter_rows()}
    for i, (path, verdict) in enumerate(picked.values()):
        assert got[f"{i:02d}.log"] == (detect_format(path).name, verdict), path
