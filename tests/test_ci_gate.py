"""The CI gate and the outputs CI systems ingest: exit codes, JUnit, SARIF (validated against
the published 2.1.0 schema), GitHub annotations and step summary, settings from pyproject."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from xml.etree import ElementTree as ET

import jsonschema
import pytest
from click.testing import CliRunner

from analyzer.cli import main
from analyzer.gate import EXIT_GATE

from .conftest import FIXTURES, SAMPLES

LOOP = SAMPLES / "classic" / "loop_tool_repeat" / "console.txt"
HEALTHY = SAMPLES / "classic" / "healthy_tool_terminate" / "console.txt"
BLOCKED = SAMPLES / "classic" / "blocking_tool_sigint" / "console.txt"
SCHEMA = json.loads((Path(__file__).parent / "data" / "sarif-schema-2.1.0.json").read_text())


def run(*args: str, env: dict[str, str] | None = None) -> tuple[int, str, str]:
    result = CliRunner(env=env).invoke(main, list(args))
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, result.stdout, result.stderr


@pytest.mark.parametrize(
    ("log", "spec", "extra", "code"),
    [
        (LOOP, "loop", (), EXIT_GATE),
        (LOOP, "any", (), EXIT_GATE),
        (LOOP, "blocking_tool,input_wait", (), 0),
        (LOOP, "loop", ("--min-confidence", "1.0"), 0),
        (HEALTHY, "any", (), 0),
        (BLOCKED, "blocking_tool", (), EXIT_GATE),
    ],
)
def test_the_gate_fails_only_matching_confident_stalls(
    log: Path, spec: str, extra: tuple[str, ...], code: int
) -> None:
    got, _, err = run("analyze", str(log), "--no-report", "--fail-on", spec, *extra)
    assert got == code, err
    assert err.startswith(f"gate: {int(code == EXIT_GATE)} of 1 run(s) fail --fail-on")


def test_without_a_gate_a_stall_is_not_an_error() -> None:
    assert run("analyze", str(LOOP), "--no-report")[0] == 0


def test_an_input_that_cannot_be_analysed_outranks_the_gate(tmp_path: Path) -> None:
    shutil.copy(LOOP, tmp_path / "loop.txt")
    shutil.copy(FIXTURES / "empty.txt", tmp_path / "empty.txt")
    code, _, err = run("analyze", str(tmp_path), "--no-report", "--fail-on", "loop")
    assert code == 1 and "empty file" in err and "gate: 1 of 1" in err


@pytest.mark.parametrize("spec", ["healthy", "unknown", "nonsense", ","])
def test_a_gate_that_cannot_fail_or_names_no_class_is_a_usage_error(spec: str) -> None:
    code, _, err = run("analyze", str(LOOP), "--no-report", "--fail-on", spec)
    assert code == 2 and "--fail-on" in err


def test_junit_carries_verdict_why_fix_and_evidence_per_run(tmp_path: Path) -> None:
    shutil.copy(LOOP, tmp_path / "loop.txt")
    shutil.copy(HEALTHY, tmp_path / "healthy.txt")
    shutil.copy(FIXTURES / "empty.txt", tmp_path / "empty.txt")
    code, out, _ = run(
        "analyze", str(tmp_path), "--no-report", "--fail-on", "loop", "--output-format", "junit"
    )
    assert code == 1  # the empty file
    suite = ET.fromstring(out).find("testsuite")
    assert suite is not None
    assert (suite.get("tests"), suite.get("failures"), suite.get("errors")) == ("3", "1", "1")
    failure = suite.find("testcase/failure")
    assert failure is not None and failure.get("type") == "loop"
    text = failure.text or ""
    assert text.startswith("why: Loop:") and "\nfix: " in text
    assert f"evidence: {tmp_path / 'loop.txt'}:" in text
    assert suite.find("testcase/error") is not None


def test_sarif_is_valid_against_the_published_schema_and_cites_lines() -> None:
    code, out, _ = run(
        "analyze", str(LOOP), str(HEALTHY), str(BLOCKED), "--no-report", "--output-format", "sarif"
    )
    assert code == 0
    log = json.loads(out)
    jsonschema.Draft4Validator(SCHEMA).validate(log)
    results = log["runs"][0]["results"]
    assert {r["ruleId"] for r in results} == {"loop", "blocking_tool"}  # healthy is no result
    regions = [
        loc["physicalLocation"]["region"]["startLine"] for r in results for loc in r["locations"]
    ]
    assert regions and all(isinstance(n, int) and n > 0 for n in regions)
    assert all(r["level"] == "warning" for r in results)  # no gate: nothing is an error


def test_github_annotations_and_step_summary(tmp_path: Path) -> None:
    summary = tmp_path / "summary.md"
    code, out, _ = run(
        "analyze",
        str(LOOP),
        str(HEALTHY),
        "--no-report",
        "--fail-on",
        "loop",
        "--output-format",
        "github",
        env={"GITHUB_STEP_SUMMARY": str(summary)},
    )
    assert code == EXIT_GATE
    lines = out.splitlines()
    assert lines and all(line.startswith(f"::error file={LOOP},line=") for line in lines)
    assert all("title=Loop (loop%2C " in line and "::Loop%3A" not in line for line in lines)
    text = summary.read_text()
    assert "1 failing the gate" in text and "| fail | loop |" in text


def test_batch_gate_and_outputs(tmp_path: Path) -> None:
    logs = tmp_path / "logs"
    for name, src in (("a", LOOP), ("b", HEALTHY)):
        (logs / name).mkdir(parents=True)
        shutil.copy(src, logs / name / "console.txt")
    out = str(tmp_path / "out")
    code, _, err = run("batch", str(logs), "--out", out, "--fail-on", "loop")
    assert code == EXIT_GATE and "gate: 1 of 2" in err
    code, sarif, _ = run("batch", str(logs), "--out", out, "--output-format", "sarif")
    jsonschema.Draft4Validator(SCHEMA).validate(json.loads(sarif))
    assert code == 0 and '"startLine"' in sarif  # evidence kept in the summary row
    code, junit, _ = run("batch", str(logs), "--out", out, "--output-format", "junit")
    assert ET.fromstring(junit).find("testsuite").get("tests") == "2"  # type: ignore[union-attr]


def test_settings_from_the_nearest_pyproject(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = tmp_path / "project"
    (project / "sub").mkdir(parents=True)
    (project / "pyproject.toml").write_text(
        '[tool.autogen-postmortem]\nfail-on = "loop"\nmin-confidence = 0.5\n'
        "[tool.autogen-postmortem.thresholds]\ntool-repeat-min = 3\n"
    )
    monkeypatch.chdir(project / "sub")
    code, out, _ = run("analyze", str(LOOP), "--no-report", "--json")
    assert code == EXIT_GATE
    config = json.loads(out)["config"]
    assert (
        config["file"] == str(project / "pyproject.toml") and config["values"]["fail-on"] == "loop"
    )
    assert (
        run("analyze", str(LOOP), "--no-report", "--fail-on", "blocking_tool")[0] == 0
    )  # CLI wins


def test_a_threshold_from_settings_changes_the_verdict(tmp_path: Path) -> None:
    strict = tmp_path / "strict.toml"
    strict.write_text(
        "[thresholds]\ntool_repeat_min = 1000\nsimilarity = 100.0\ndup_min_repeats = 1000\n"
    )
    _, out, _ = run("analyze", str(LOOP), "--no-report", "--json", "--config", str(strict))
    findings = {f["code"] for f in json.loads(out)["runs"][0]["findings"]}
    assert "LOOP01" not in findings


@pytest.mark.parametrize(
    ("body", "named"),
    [
        ("fail_on = 'loop'\n", "'fail_on'"),
        ("[thresholds]\nsimilarty = 90\n", "'similarty'"),
        ("[thresholds]\nsimilarity = 'high'\n", "'similarity'"),
        ("min-confidence = 2\n", "min-confidence"),
        ("select = 'LOOP01'\n", "select"),
        ("fail-on = 'healthy'\n", "fail-on"),
        ("not toml [", "not valid TOML"),
    ],
)
def test_a_bad_settings_file_is_a_usage_error_naming_the_key(
    tmp_path: Path, body: str, named: str
) -> None:
    config = tmp_path / "postmortem.toml"
    config.write_text(body)
    code, _, err = run("analyze", str(LOOP), "--no-report", "--config", str(config))
    assert code == 2 and err.startswith(f"Error: {config}: ") and named in err
    assert len(err.splitlines()) == 1


def test_a_pyproject_without_our_table_changes_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "pyproject.toml").write_text("[tool.ruff]\nline-length = 100\n")
    monkeypatch.chdir(tmp_path)
    code, out, _ = run("analyze", str(LOOP), "--no-report", "--json")
    assert code == 0 and json.loads(out)["config"] == {"file": None, "values": {}}


def test_step_summary_failure_is_one_line(tmp_path: Path) -> None:
    code, _, err = run(
        "analyze",
        str(LOOP),
        "--no-report",
        "--output-format",
        "github",
        env={"GITHUB_STEP_SUMMARY": str(tmp_path / "no" / "such" / "dir")},
    )
    assert code == 1 and err.startswith("Error: ") and len(err.splitlines()) == 1
    assert os.path.exists(tmp_path) and "Traceback" not in err
