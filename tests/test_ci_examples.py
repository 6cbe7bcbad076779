"""The example GitHub Actions workflow and the pre-commit hook run as written: their
autogen-postmortem commands, on a looping and on a healthy sample log."""

from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path
from xml.etree import ElementTree as ET

import pytest
import yaml

from analyzer.gate import EXIT_GATE

from .conftest import ROOT, SAMPLES

LOGS = {
    "loop": SAMPLES / "classic" / "loop_tool_repeat" / "console.txt",
    "healthy": SAMPLES / "classic" / "healthy_tool_terminate" / "console.txt",
}
CLI = Path(sys.executable).with_name("autogen-postmortem")


def _shell(command: str, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """A workflow ``run:`` as the runner's bash runs it, the tool from this environment."""
    path = f"{CLI.parent}{os.pathsep}{os.environ['PATH']}"
    return subprocess.run(
        ["bash", "-c", command],
        cwd=cwd,
        env={**os.environ, **env, "PATH": path},
        capture_output=True,
        text=True,
        timeout=300,
    )


def workflow_steps() -> list[dict]:
    doc = yaml.safe_load((ROOT / "examples" / "github-workflow.yml").read_text())
    return [
        s for s in doc["jobs"]["postmortem"]["steps"] if "autogen-postmortem" in s.get("run", "")
    ]


@pytest.mark.parametrize("kind", ["loop", "healthy"])
def test_the_example_workflow_fails_on_a_loop_and_passes_a_healthy_run(
    tmp_path: Path, kind: str
) -> None:
    (tmp_path / "logs").mkdir()
    shutil.copy(LOGS[kind], tmp_path / "logs" / "console.txt")
    summary = tmp_path / "step-summary.md"
    steps = {s["name"]: s for s in workflow_steps() if "name" in s}
    gate = _shell(steps["Post-mortem gate"]["run"], tmp_path, {"GITHUB_STEP_SUMMARY": str(summary)})
    assert gate.returncode == (EXIT_GATE if kind == "loop" else 0), gate.stderr
    if kind == "loop":
        assert gate.stdout.startswith("::error file=logs/console.txt,line=")
    assert summary.read_text().startswith("### autogen-postmortem: 1 run(s)")
    for name in ("SARIF for code scanning", "JUnit for the test report"):
        step = _shell(steps[name]["run"], tmp_path, {})
        assert step.returncode == 0, step.stderr
    sarif = json.loads((tmp_path / "postmortem.sarif").read_text())
    assert bool(sarif["runs"][0]["results"]) == (kind == "loop")
    junit = ET.parse(tmp_path / "postmortem.xml").getroot()
    assert junit.get("tests") == "1"


@pytest.mark.parametrize("kind", ["loop", "healthy"])
def test_the_pre_commit_hook_runs_its_entry_on_the_staged_logs(tmp_path: Path, kind: str) -> None:
    (hook,) = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())
    staged = "agent_logs/console.txt"
    assert __import__("re").search(hook["files"], staged)
    (tmp_path / "agent_logs").mkdir()
    shutil.copy(LOGS[kind], tmp_path / staged)
    proc = _shell(f"{hook['entry']} {shlex.quote(staged)}", tmp_path, {})
    assert proc.returncode == (EXIT_GATE if kind == "loop" else 0), proc.stderr
