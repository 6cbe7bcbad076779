"""Run every Microsoft Agent Framework scenario for real; keep its spans (``traces.jsonl``, OTLP
JSON) under sample_logs/agent-framework/<scenario>/, stopped as production stops stuck runs.

    record.py [--corpus DIR] [SCENARIO...]

``--corpus DIR`` records into DIR instead (another release's venv runs this file: the held-out
half, measured untouched by ``bench/corpus_score.py``).
"""

from __future__ import annotations

import json
import shutil
import sys
import tempfile
from importlib.metadata import version
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
from runner import INT, KILL, TERM, run_program  # noqa: E402

OUT = HERE.parent.parent / "sample_logs" / "agent-framework"
STOP_HARD = [(4.0, INT), (7.0, INT), (11.0, KILL)]
# scenario -> (stop schedule, stdin, what truly happened: (verdict, phase, evidence substring))
SPECS: dict[str, tuple[list[tuple[float, int]], str, tuple[str, str, str]]] = {
    "healthy_agent_tool": ([(60.0, KILL)], "none", ("healthy", "none", "")),
    "healthy_group_chat": ([(60.0, KILL)], "none", ("healthy", "none", "")),
    "healthy_sequential": ([(60.0, KILL)], "none", ("healthy", "none", "")),
    "healthy_handoff": ([(60.0, KILL)], "none", ("healthy", "none", "")),
    "healthy_magentic": ([(60.0, KILL)], "none", ("healthy", "none", "")),
    "loop_group_chat": ([(5.0, TERM), (8.0, KILL)], "none", ("loop", "*", "")),
    "loop_magentic_stalls": ([(60.0, KILL)], "none", ("loop", "*", "")),
    "loop_tool_repeat": ([(5.0, INT), (8.0, KILL)], "none", ("loop", "*", "lookup")),
    "blocking_tool": (STOP_HARD, "none", ("blocking_tool", "tool_execution", "query_db")),
    "input_wait": ([(4.0, TERM), (7.0, KILL)], "fifo", ("input_wait", "human_input", "")),
    "error_auth": ([(30.0, KILL)], "none", ("error", "*", "ChatClientException")),
}


def record(scenario: str, out: Path) -> None:
    schedule, stdin, truth = SPECS[scenario]
    dest = out / scenario
    shutil.rmtree(dest, ignore_errors=True)
    dest.mkdir(parents=True)
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        argv = [sys.executable, str(HERE / "scenarios.py"), scenario, str(work)]
        code, how = run_program(argv, work, schedule, stdin)
        if (work / "traces.jsonl").exists() and (work / "traces.jsonl").stat().st_size:
            shutil.copy(work / "traces.jsonl", dest / "traces.jsonl")
    packages = ("agent-framework-core", "agent-framework-openai", "agent-framework-orchestrations")
    label = {
        "scenario": scenario,
        "framework": ", ".join(f"{p}=={version(p)}" for p in packages)
        + f", opentelemetry-exporter-otlp-json-file=={version('opentelemetry-exporter-otlp-json-file')}"
        + ", real OpenAI client against a scripted local stub",
        "runs": {"run": {"exit_code": code, "stopped_by": how}},
        "expected": {
            "traces.jsonl": dict(zip(("verdict", "phase", "evidence"), truth, strict=True))
        },
    }
    (dest / "label.json").write_text(json.dumps(label, indent=2) + "\n")
    print(f"{scenario}: {how} -> exit {code}")


if __name__ == "__main__":
    args, out = sys.argv[1:], OUT
    if args[:1] == ["--corpus"]:
        out, args = Path(args[1]), args[2:]
    for name in args or list(SPECS):
        record(name, out)
