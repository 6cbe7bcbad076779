"""Hostile and broken input from the file system and the shell: odd names, links that loop,
FIFOs and devices, unreadable files, unusable --out, corrupt caches, Ctrl-C. Each must end in
one line naming the file and a documented exit code, never a traceback or a hang, and every
input keeps its own report and cache entry."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import polars as pl
import pytest
from click.testing import CliRunner

from analyzer import analyze_file
from analyzer.batch import BatchOptions, run_batch
from analyzer.cli import main
from analyzer.config import Thresholds
from analyzer.inputs import gather
from analyzer.report import plots

from .conftest import SAMPLES

LOOP = SAMPLES / "classic" / "loop_tool_repeat" / "console.txt"
HEALTHY = SAMPLES / "classic" / "healthy_tool_terminate" / "console.txt"
CLI = [sys.executable, "-m", "analyzer"]
AS_ROOT = hasattr(os, "geteuid") and os.geteuid() == 0


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args))
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, result.stdout, result.stderr


def one_line_errors(err: str) -> list[str]:
    lines = err.splitlines()
    assert all(line.startswith("Error: ") for line in lines), err
    assert "Traceback" not in err
    return lines


@pytest.mark.parametrize(
    "name",
    [
        "with spaces.txt",
        "new\nline.txt",
        "-leading-dash.txt",
        "ünïcødé-日本.txt",
        "x" * 240 + ".txt",
    ],
)
def test_odd_file_names_are_analysed_and_reported(tmp_path: Path, name: str) -> None:
    src = tmp_path / "in" / name
    src.parent.mkdir()
    shutil.copy(LOOP, src)
    out = tmp_path / "out"
    code, stdout, err = run("analyze", "--out", str(out), "--", str(src))
    assert (code, err) == (0, ""), err
    assert "verdict: Loop" in stdout and "\n" + "line.txt" not in stdout
    reports = list(out.glob("*.md"))
    assert len(reports) == 1 and len(reports[0].name.encode()) < 255


def test_a_file_name_that_is_not_utf8_is_reported_and_summarised(tmp_path: Path) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    raw = os.fsencode(folder) + b"/bad-\xff\xfe-name.txt"
    with open(raw, "wb") as fh:
        fh.write(LOOP.read_bytes())
    out = tmp_path / "out"
    result = CliRunner().invoke(main, ["batch", str(folder), "--out", str(out), "--workers", "1"])
    assert result.exit_code == 0, result.output
    summary = pl.read_csv(out / "summary.csv")
    assert summary["source"][0].endswith("bad-\ufffd\ufffd-name.txt")
    assert (out / "index.md").read_text().count("bad-\ufffd\ufffd-name") == 1
    code, stdout, err = run("analyze", "--out", str(out), os.fsdecode(raw))
    assert (code, err) == (0, "") and "bad-\ufffd\ufffd-name.txt" in stdout


def test_same_name_different_suffix_or_tree_get_their_own_reports(tmp_path: Path) -> None:
    for rel, src in (("a/x/run/console.txt", LOOP), ("a/x/run/console.log", HEALTHY)):
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(src, tmp_path / rel)
    (tmp_path / "b/x/run").mkdir(parents=True)
    shutil.copy(HEALTHY, tmp_path / "b/x/run/console.txt")
    out = tmp_path / "out"
    code, _, err = run(
        "analyze", "--out", str(out), "--charts", "none", str(tmp_path / "a"), str(tmp_path / "b")
    )
    assert code == 0, err
    assert len(list(out.glob("*.md"))) == 3
    result = CliRunner().invoke(
        main, ["batch", str(tmp_path / "a"), str(tmp_path / "b"), "--out", str(tmp_path / "batch")]
    )
    rows = pl.read_csv(tmp_path / "batch" / "summary.csv")
    assert result.exit_code == 0 and rows["report"].n_unique() == 3


def test_a_symlink_loop_ends_the_walk(tmp_path: Path) -> None:
    root = tmp_path / "logs"
    (root / "a").mkdir(parents=True)
    shutil.copy(LOOP, root / "a" / "console.txt")
    (root / "a" / "back").symlink_to(root)
    (root / "self").symlink_to(root / "self")  # a link to itself: ELOOP
    started = time.monotonic()
    found = gather([f"{root}/**", str(root)])
    assert time.monotonic() - started < 5
    assert [p.name for p in found.files] == ["console.txt"]
    assert any("self" in src for src, _ in found.errors)


def test_fifo_and_devices_are_refused_not_read(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe.log"
    os.mkfifo(fifo)
    for args in (["analyze", str(fifo)], ["analyze", "/dev/zero", "--format", "classic-console"]):
        proc = subprocess.run(
            [*CLI, *args, "--no-report"], capture_output=True, text=True, timeout=60
        )
        assert proc.returncode == 1
        assert (
            one_line_errors(proc.stderr)[0].endswith("not a regular file (a FIFO)")
            or "character device" in proc.stderr
        )
    proc = subprocess.run(
        [*CLI, "batch", str(fifo), str(tmp_path), "--out", str(tmp_path / "o")],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 1
    assert one_line_errors(proc.stderr) == [f"Error: {fifo}: not a regular file (a FIFO)"]
    assert "pipe.log" in (tmp_path / "o" / "index.md").read_text()


def test_a_gzip_bomb_is_refused_in_bounded_memory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import gzip

    from analyzer.formats.io import files

    monkeypatch.setattr(files, "GZIP_MIN_LIMIT", 8 << 20)
    bomb = tmp_path / "bomb.log.gz"
    with gzip.open(bomb, "wb") as fh:
        fh.write(LOOP.read_bytes())
        for _ in range(64):
            fh.write(b"\0" * (1 << 20))
    with pytest.raises(Exception, match="refused as a gzip bomb"):
        analyze_file(bomb, fmt="classic-console")


def test_unreadable_files_and_folders_are_each_listed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Root (as CI runs) reads through permission bits, so the refusals the OS gives other
    # users are raised where the OS would raise them.
    from analyzer import batch

    root = tmp_path / "logs"
    (root / "open").mkdir(parents=True)
    (root / "closed").mkdir()
    for rel in ("open/console.txt", "open/secret.txt", "closed/console.txt"):
        shutil.copy(LOOP, root / rel)
    denied = PermissionError(13, "Permission denied")
    scandir, hash_of = os.scandir, batch.content_hash

    def no_closed(path):  # type: ignore[no-untyped-def]
        if Path(path).name == "closed":
            raise denied
        return scandir(path)

    def no_secret(path: Path) -> str:
        if path.name == "secret.txt":
            raise denied
        return hash_of(path)

    monkeypatch.setattr(os, "scandir", no_closed)
    monkeypatch.setattr(batch, "content_hash", no_secret)
    result = CliRunner().invoke(
        main, ["batch", str(root), "--out", str(tmp_path / "o"), "--workers", "1"]
    )
    assert result.exit_code == 1 and "1 run(s) from 2 file(s)" in result.stdout
    assert sorted(one_line_errors(result.stderr)) == [
        f"Error: {root / 'closed'}: cannot read directory: permission denied",
        f"Error: {root / 'open' / 'secret.txt'}: cannot read: Permission denied",
    ]
    index = (tmp_path / "o" / "index.md").read_text()
    assert "closed" in index and "secret.txt" in index


@pytest.mark.parametrize("kind", ["file", "under-file", "dev-null", "read-only"])
def test_an_unusable_out_is_a_usage_error_before_any_work(tmp_path: Path, kind: str) -> None:
    plain = tmp_path / "plain"
    plain.write_text("x")
    # /sys refuses even root a new directory; elsewhere a read-only folder does.
    read_only = Path("/sys/autogen-postmortem-out") if AS_ROOT else tmp_path / "ro"
    out = {
        "file": plain,
        "under-file": plain / "sub",
        "dev-null": Path("/dev/null"),
        "read-only": read_only,
    }[kind]
    if kind == "read-only" and not AS_ROOT:
        out.mkdir()
        os.chmod(out, 0o555)
    for command in ("analyze", "batch"):
        proc = subprocess.run(
            [*CLI, command, str(LOOP), "--out", str(out)],
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert proc.returncode == 2, proc.stderr
        assert one_line_errors(proc.stderr)[0].startswith(f"Error: --out {out}: ")


def test_a_cache_that_is_a_file_or_corrupt_is_never_trusted(tmp_path: Path) -> None:
    logs = tmp_path / "logs"
    logs.mkdir()
    shutil.copy(LOOP, logs / "console.txt")
    out = tmp_path / "out"
    out.mkdir()
    (out / ".cache").write_text("not a directory")
    result = CliRunner().invoke(main, ["batch", str(logs), "--out", str(out)])
    assert result.exit_code == 0 and "is not a directory" in result.stderr
    (out / ".cache").unlink()
    opts = BatchOptions(out)
    first = run_batch([logs / "console.txt"], opts, workers=1).rows
    entry = opts.cache_file(str(logs / "console.txt"))
    good = json.loads(entry.read_text())
    bad_entries = [
        b"{",
        json.dumps({**good, "rows": [{**good["rows"][0], "turns": "many"}]}).encode(),
        json.dumps({**good, "rows": [{**good["rows"][0], "extra": 1}]}).encode(),
        json.dumps({**good, "rows": [{**good["rows"][0], "report": "../../etc/passwd"}]}).encode(),
        json.dumps({**good, "stamp": None}).encode(),
        json.dumps([1, 2]).encode(),
    ]
    for bad in bad_entries:
        entry.write_bytes(bad)
        again = run_batch([logs / "console.txt"], opts, workers=1)
        assert not again.outcomes[0].cached and again.rows == first
    entry.unlink()
    entry.mkdir()
    again = run_batch([logs / "console.txt"], opts, workers=1)
    assert not again.outcomes[0].cached and again.rows == first


def test_identical_files_keep_their_own_cache_entries_and_reports(tmp_path: Path) -> None:
    logs = tmp_path / "logs"
    for team in ("a", "b"):
        (logs / team).mkdir(parents=True)
        shutil.copy(LOOP, logs / team / "console.txt")
    opts = BatchOptions(tmp_path / "out")
    files = list(gather([str(logs)]).files)
    for _ in range(2):
        rows = run_batch(files, opts, workers=1).rows
        assert [r["source"] for r in rows] == [str(f) for f in files]
        assert rows[0]["report"] != rows[1]["report"]


def test_a_threshold_or_the_detector_set_changing_gives_fresh_results(tmp_path: Path) -> None:
    files = [LOOP]
    out = tmp_path / "out"
    base = run_batch(files, BatchOptions(out), workers=1)
    assert run_batch(files, BatchOptions(out), workers=1).outcomes[0].cached
    stricter = run_batch(files, BatchOptions(out, cfg=Thresholds(tool_repeat_min=1000)), workers=1)
    assert not stricter.outcomes[0].cached
    ignored = run_batch(files, BatchOptions(out, ignore=("LOOP01",)), workers=1)
    assert not ignored.outcomes[0].cached
    assert base.rows[0]["top_code"] == "LOOP01" and ignored.rows[0]["top_code"] != "LOOP01"


def test_an_unchanged_file_is_answered_from_its_stat_without_hashing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from analyzer import batch

    shutil.copy(LOOP, tmp_path / "console.txt")
    opts = BatchOptions(tmp_path / "out")
    run_batch([tmp_path / "console.txt"], opts, workers=1)
    monkeypatch.setattr(batch, "content_hash", lambda _: pytest.fail("hashed an unchanged file"))
    assert run_batch([tmp_path / "console.txt"], opts, workers=1).outcomes[0].cached


def test_ctrl_c_during_a_parallel_batch_ends_quietly(tmp_path: Path) -> None:
    logs = tmp_path / "logs"
    for i in range(2000):  # far more than the workers get through before the signal
        (logs / f"t{i}").mkdir(parents=True)
        shutil.copy(LOOP, logs / f"t{i}" / "console.txt")
    runs = tmp_path / "o" / "runs"
    proc = subprocess.Popen(
        [*CLI, "batch", str(logs), "--out", str(tmp_path / "o"), "--workers", "2"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 60
        while not (runs.is_dir() and any(runs.iterdir())):  # the workers are at work
            assert proc.poll() is None and time.monotonic() < deadline, "the batch never started"
            time.sleep(0.05)
        os.killpg(proc.pid, signal.SIGINT)  # as a terminal's Ctrl-C reaches the whole group
        _, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.communicate()
    assert proc.returncode == 130, err
    assert err.strip().splitlines()[-1] == "Interrupted." and "Traceback" not in err
    assert len(list(runs.iterdir())) < 2000  # it stopped
    assert not list((tmp_path / "o").rglob("*.tmp"))


def _with_prompt_for_a_silent_agent() -> object:
    result = analyze_file(HEALTHY)
    run = result.runs[0]
    extra = run.events.tail(1).with_columns(
        seq=pl.lit(run.events.height, pl.UInt32),
        kind=pl.lit("input_request").cast(run.events.schema["kind"]),
        agent=pl.lit(None, pl.String),
        recipient=pl.lit("nobody-who-speaks"),
    )
    return replace(run, events=pl.concat([run.events, extra]))


@pytest.mark.parametrize(
    "hostile", ["price_$5_and_$6", "x" * 2_000_000, "$\\frac{1}{0}$", "a\x1b[2Jb"]
)
def test_charts_draw_any_name_literally_and_quickly(tmp_path: Path, hostile: str) -> None:
    run = analyze_file(HEALTHY).runs[0]
    first = run.events["agent"].drop_nulls()[0]
    events = run.events.with_columns(
        agent=pl.col("agent").replace(first, hostile),
        tool_name=pl.when(pl.col("tool_name").is_not_null()).then(pl.lit(hostile)).otherwise(None),
    )
    started = time.monotonic()
    plots.render_plots(replace(run, events=events), tmp_path, "hostile", Thresholds())
    assert time.monotonic() - started < 20
    assert len(list(tmp_path.glob("hostile.*.png"))) == 3


def test_a_prompt_that_names_only_a_silent_agent_gets_its_own_lane(tmp_path: Path) -> None:
    run = _with_prompt_for_a_silent_agent()
    assert "nobody-who-speaks" in plots.lanes(run)  # type: ignore[arg-type]
    plots.render_timeline(run, tmp_path / "t.png", "t")  # type: ignore[arg-type]


def test_version_starts_fast() -> None:
    best = min(_timed([*CLI, "--version"]) for _ in range(3))
    assert best < 0.3, f"--version took {best:.2f} s"


def _timed(cmd: list[str]) -> float:
    started = time.monotonic()
    subprocess.run(cmd, check=True, capture_output=True, timeout=30)
    return time.monotonic() - started


@pytest.mark.parametrize("depth", [900, 1500, 100_000])
@pytest.mark.parametrize("shape", ['{"sender": ', "[", '{"content": "x", "name": '])
def test_json_nested_past_the_decoders_limit_is_one_error_or_a_result(
    tmp_path: Path, depth: int, shape: str
) -> None:
    closer = {"[": "]"}.get(shape, "}")
    body = shape * depth + "1" + closer * depth
    for suffix in (".json", ".jsonl", ".log"):
        path = tmp_path / f"nested{suffix}"
        path.write_text(body + "\n")
        started = time.monotonic()
        code, _, err = run("analyze", str(path), "--no-report")
        assert code in (0, 1) and time.monotonic() - started < 10
        assert code == 0 or len(one_line_errors(err)) == 1


def test_a_multi_line_error_keeps_the_index_table_whole() -> None:
    from analyzer.report.batch_summary import render_index, summary_frame

    index = render_index(
        summary_frame([]),
        [("logs.db", "logs.db: malformed schema\nCREATE TABLE x(\r| y |")],
        [],
        [],
    )
    rows = [line for line in index.splitlines() if line.startswith("| logs")]
    assert len(rows) == 1 and rows[0].count(" | ") == 1


@pytest.mark.parametrize("field", ["name", "sender"])
def test_a_name_that_decodes_to_a_deeply_nested_value_costs_nothing(
    tmp_path: Path, field: str
) -> None:
    # Found by the fuzz campaign (seed 7, case 1825): polars spent 53 s and 9.7 GB inferring
    # the type of a tool name that was a list nested 900 deep.
    src = SAMPLES / "classic" / "blocking_tool_sigint" / "events.jsonl"
    nested = "[" * 900 + "1" + "]" * 900
    text = src.read_text().replace(f'"{field}":"fetch_report"', f'"{field}":{nested}', 1)
    text = (
        text.replace('"sender":"analyst"', f'"sender":{nested}', 1) if field == "sender" else text
    )
    assert nested in text
    path = tmp_path / "nested.jsonl"
    path.write_text(text)
    started = time.monotonic()
    result = analyze_file(path)
    assert time.monotonic() - started < 5
    names = result.runs[0].events["tool_name"].drop_nulls().to_list() + list(
        result.runs[0].stats.agents
    )
    assert any(n.startswith("[[[[") and len(n) < 100 for n in names)


def test_an_error_that_quotes_the_log_is_one_short_line() -> None:
    # Found by the fuzz campaign (seed 11, case 687): SQLite's decode error quoted a whole
    # multi-line JSON column.
    from analyzer.errors import REASON_LIMIT, LogFormatError

    exc = LogFormatError("logs.db", 'corrupt: text \'{\n  "id": 1,\n' + "x" * 1000 + "'", 3)
    assert "\n" not in str(exc) and len(exc.reason) == REASON_LIMIT
    assert str(exc).startswith('logs.db:3: corrupt: text \'{ "id": 1, xxx')


def test_the_csv_quotes_what_a_spreadsheet_would_run(tmp_path: Path) -> None:
    from analyzer.batch import write_summary
    from analyzer.report.batch_summary import summary_frame

    row = dict.fromkeys(summary_frame([]).columns)
    row.update(source="a.log", run_id="=HYPERLINK(\"http://evil.example\")", agents="-2+3,@SUM(A1)",
               verdict="loop", phase="none", confidence=0.5, top_finding="plain text")  # fmt: skip
    write_summary(summary_frame([row]), tmp_path)
    csv = pl.read_csv(tmp_path / "summary.csv")
    assert csv["run_id"][0].startswith("'=") and csv["agents"][0].startswith("'-")
    assert csv["top_finding"][0] == "plain text" and csv["source"][0] == "a.log"
    assert pl.read_parquet(tmp_path / "summary.parquet")["run_id"][0].startswith("=")


def test_an_error_that_quotes_control_bytes_shows_none() -> None:
    # Found by the fuzz campaign (seed 2026, cases 5436, 5708): SQLite quoted an ESC.
    from analyzer.errors import LogFormatError

    exc = LogFormatError("logs.db", 'unrecognized token: "\x1b" \x05 text')
    assert not any(ord(c) < 32 for c in str(exc)) and "\ufffd" in str(exc)


def test_a_megabyte_termination_reason_costs_the_reports_nothing(tmp_path: Path) -> None:
    # Found by the fuzz campaign (seed 4242, case 9470): a 4 MB line of backslashes as the
    # termination reason went whole into RUN01's summary and every renderer escaped it (35 s).
    from analyzer.findings import SUMMARY_LIMIT
    from analyzer.report.html import render_html
    from analyzer.report.markdown import render_markdown

    src = SAMPLES / "agentchat" / "healthy_roundrobin_tool" / "console.txt"
    text = src.read_text().replace(
        "Finish reason: Text 'APPROVE' mentioned",
        "Finish reason: Text 'APPROVE' mentioned" + "\\" * 4_000_000,
        1,
    )
    path = tmp_path / "console.txt"
    path.write_text(text)
    started = time.monotonic()
    result = analyze_file(path)
    run = result.runs[0]
    render_markdown(result, run)
    render_html(result, run)
    assert time.monotonic() - started < 10
    assert all(len(f.summary) <= SUMMARY_LIMIT for f in run.findings)


def test_a_giant_session_id_is_bounded_in_every_output(tmp_path: Path) -> None:
    # Fuzz case 321 (seed 20261206): a 4 MB token after "Session ID:" became the run id, and
    # every report carried it (an 8 MB Markdown header, 25 s to check).
    from analyzer.formats.base import RUN_ID_LIMIT
    from analyzer.pipeline import analyze_file
    from analyzer.report.markdown import render_markdown

    fixture = Path(__file__).parent / "fixtures" / "runtime.garbled-line.log"
    lines = fixture.read_text().splitlines()
    lines[0] = lines[0] + "\\" * 1_000_000
    path = tmp_path / "runtime.log"
    path.write_text("\n".join(lines) + "\n")
    result = analyze_file(path)
    assert all(len(run.run_id) <= RUN_ID_LIMIT for run in result.runs)
    assert len(render_markdown(result, result.runs[0])) < 50_000


def test_an_sdk_error_line_outside_a_traceback_is_an_error_event(tmp_path: Path) -> None:
    """Defect: the console parser gave such a line its HTTP status as a subkind, which the
    event contract refuses: any console with a printed ``Error code: 401 - ...`` crashed."""
    log = tmp_path / "console.txt"
    log.write_text(
        "user (to analyst):\n\nSummarise last quarter's sales.\n\n" + "-" * 80 + "\n"
        "openai.AuthenticationError: Error code: 401 - {'error': {'code': 'invalid_api_key'}}\n"
    )
    run = analyze_file(log).runs[0]
    (error,) = run.events.filter(pl.col("kind") == "error").iter_rows(named=True)
    assert error["source_line"] == 6 and error["subkind"] is None
    assert run.diagnosis.label == "error"
