"""The command line: exact output, exit codes, reports, JSON contract, secrets."""

from __future__ import annotations

import json
import os
import shutil
import stat
from collections import Counter
from pathlib import Path

from click.testing import CliRunner

from analyzer.cli import main
from analyzer.detectors import ALL_DETECTORS
from analyzer.report.inert import markdown as md_text
from analyzer.report.names import report_stem

from .conftest import FIXTURES, SAMPLES, team_logs

BLOCKING = SAMPLES / "classic" / "blocking_tool_sigint" / "console.txt"


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_help_lists_the_commands() -> None:
    code, out, _ = run("--help")
    assert code == 0
    for command in ("analyze", "formats", "detectors"):
        assert command in out


def test_one_file_prints_the_verdict_and_writes_reports(tmp_path: Path) -> None:
    code, out, err = run("analyze", str(BLOCKING), "--out", str(tmp_path))
    assert (code, err) == (0, "")
    assert out.splitlines()[:2] == [
        f"{BLOCKING} [classic-console]",
        "  verdict: Blocking tool (blocking_tool), phase tool_execution, confidence 0.92",
    ]
    stem = report_stem(str(BLOCKING), 0, 1)
    assert stem.startswith("classic__blocking_tool_sigint__console-")
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == [
        f"{stem}.{part}" for part in ("context.png", "md", "repetition.png", "timeline.png")
    ]
    md = (tmp_path / f"{stem}.md").read_text()
    assert "**Blocking tool**" in md and f"{md_text(str(BLOCKING))}:18" in md


def test_json_contract(tmp_path: Path) -> None:
    code, out, _ = run("analyze", str(BLOCKING), "--json", "--no-report")
    assert code == 0
    doc = json.loads(out)
    assert set(doc) == {"tool", "version", "runs", "errors", "skipped", "config"}
    assert doc["tool"] == "autogen-postmortem"
    r = doc["runs"][0]
    assert {"source", "format", "run_id", "verdict", "findings", "stats"} <= set(r)
    assert set(r["verdict"]) >= {"stall_class", "phase", "confidence", "summary", "fix"}
    ev = r["findings"][0]["evidence"][0]
    assert {"file", "line", "agent", "excerpt"} <= set(ev)
    assert ev["file"] == str(BLOCKING) and isinstance(ev["line"], int)


def test_directory_keeps_going_past_bad_files_and_exits_1(tmp_path: Path) -> None:
    shutil.copy(BLOCKING, tmp_path / "good.txt")
    shutil.copy(FIXTURES / "empty.txt", tmp_path / "empty.txt")
    shutil.copy(FIXTURES / "binary-garbage.bin", tmp_path / "noise.bin")
    code, out, err = run("analyze", str(tmp_path), "--no-report")
    assert code == 1
    assert "verdict: Blocking tool" in out
    assert f"skipped 1 file(s):\n  {tmp_path / 'noise.bin'}: not a recognised AutoGen log" in out
    assert err == f"Error: {tmp_path / 'empty.txt'}: empty file\n"


def test_explicit_unknown_file_is_an_error_line_not_a_traceback() -> None:
    code, _, err = run("analyze", str(FIXTURES / "binary-garbage.bin"), "--no-report")
    assert code == 1
    assert err.startswith(f"Error: {FIXTURES / 'binary-garbage.bin'}: not a recognised AutoGen log")
    assert "Traceback" not in err


def test_missing_path_is_a_usage_error() -> None:
    code, _, err = run("analyze", "/no/such/file.log")
    assert code == 2 and "does not exist" in err


def test_secrets_never_reach_reports(tmp_path: Path) -> None:
    code, out, _ = run(
        "analyze", str(FIXTURES / "console.secret-in-message.txt"), "--out", str(tmp_path), "--json"
    )
    assert code == 0
    written = out + "".join(p.read_text() for p in tmp_path.glob("*.md"))
    assert "AbCdEfGhIjKl" not in written and "eyJhbGciOiJIUzI1NiJ9" not in written
    assert "REDACTED" in written


def test_reports_are_written_atomically(tmp_path: Path) -> None:
    run("analyze", str(BLOCKING), "--out", str(tmp_path))
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".") or p.suffix == ".tmp"]


def test_reports_get_the_usual_permissions(tmp_path: Path) -> None:
    # Not the 0600 of a temporary file: others may read a shared report directory.
    old = os.umask(0o022)
    try:
        run("analyze", str(BLOCKING), "--out", str(tmp_path))
    finally:
        os.umask(old)
    modes = {p.name: stat.S_IMODE(p.stat().st_mode) for p in tmp_path.iterdir()}
    assert len(modes) == 4 and set(modes.values()) == {0o644}


def test_select_and_ignore_detectors() -> None:
    _, out, _ = run("analyze", str(BLOCKING), "--json", "--no-report", "--ignore", "BLOCK01")
    codes = {f["code"] for f in json.loads(out)["runs"][0]["findings"]}
    assert "BLOCK01" not in codes and "RUN01" in codes
    _, out, _ = run("analyze", str(BLOCKING), "--json", "--no-report", "--select", "context-growth")
    assert {f["code"] for f in json.loads(out)["runs"][0]["findings"]} == {"RUN01"}


def test_listing_commands() -> None:
    code, out, _ = run("detectors")
    assert code == 0
    lines = out.splitlines()
    assert len(lines) == len(ALL_DETECTORS) and lines[0].startswith("LOOP01   repeated-tool-call")
    code, out, _ = run("formats")
    assert code == 0 and "classic-runtime-sqlite" in out


def test_charts_go_to_a_files_worst_runs_unless_asked(tmp_path: Path) -> None:
    # Every recorded team run in one file: charts for the ten worst by default.
    log = tmp_path / "app.log"
    logs = team_logs("agentchat/*/events.log")
    log.write_bytes(b"".join(p.read_bytes() for p in logs))
    labels = [json.loads((p.parent / "label.json").read_text())["expected"] for p in logs]
    verdicts: Counter[str] = Counter()
    for label in labels:  # a log may hold more than one team (SocietyOfMind's inner one)
        verdicts[label["events.log"]["verdict"]] += label["events.log"].get("runs", 1)
    runs = sum(verdicts.values())
    tally = ", ".join(
        f"{n} {v}" for v, n in sorted(verdicts.items(), key=lambda kv: (-kv[1], kv[0]))
    )
    assert len(logs) > 10
    for charts, drawn in (("worst", 10), ("all", runs), ("none", 0)):
        out = tmp_path / charts
        code, text, err = run("analyze", str(log), "--out", str(out), "--charts", charts)
        assert (code, err) == (0, "")
        # a file of many runs ends with their tally
        assert text.splitlines()[-1] == f"{log}: {runs} runs: {tally}"
        reports = sorted(out.glob("*.md"))
        assert len(reports) == runs and len(list(out.glob("*.png"))) == 3 * drawn
        left_out = [md.read_text() for md in reports if "Not drawn" in md.read_text()]
        assert len(left_out) == runs - drawn
        if charts == "worst":  # the healthy runs are the least bad: none of them is drawn
            healthy = [md.read_text() for md in reports if "**Healthy**" in md.read_text()]
            assert healthy and all(md in left_out for md in healthy)
            assert all("`--charts all`" in md for md in left_out)


def test_a_report_left_without_charts_loses_its_stale_ones(tmp_path: Path) -> None:
    log = SAMPLES / "agentchat/loop_swarm_pingpong/events.log"
    assert run("analyze", str(log), "--out", str(tmp_path), "--charts", "all")[0] == 0
    assert len(list(tmp_path.glob("*.png"))) == 3
    assert run("analyze", str(log), "--out", str(tmp_path), "--charts", "none")[0] == 0
    assert not list(tmp_path.glob("*.png"))
    assert "Not drawn" in next(tmp_path.glob("*.md")).read_text()
