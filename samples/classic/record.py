"""Run every classic scenario for real and store its logs under sample_logs/classic/<scenario>/.

Each scenario runs twice (runtime_logging allows one logger at a time): "file" mode keeps the
console transcript, runtime.log, events.jsonl and chat_history.json; "sqlite" mode keeps logs.db.
Stuck runs are stopped as production stops them: a signal schedule of (seconds, signal).
The expected verdict per log form goes into label.json next to the logs.
"""

from __future__ import annotations

import json
import shutil
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
from runner import INT, KILL, TERM, run_program  # noqa: E402

OUT = HERE.parent.parent / "sample_logs" / "classic"

# scenario -> (stop schedule, stdin, {log form: (verdict, phase, evidence substring)})
# A form that does not carry the signal is labelled with what an honest reader concludes.
SPECS: dict[str, tuple[list[tuple[float, int]], str, dict[str, tuple[str, str, str]]]] = {
    "healthy_tool_terminate": (
        [],
        "none",
        {
            "*": ("healthy", "none", ""),
        },
    ),
    "healthy_groupchat_maxround": (
        [],
        "none",
        {
            "*": ("healthy", "none", ""),
            # a saved history has no termination record and this chat never says TERMINATE
            "chat_history.json": ("unknown", "*", ""),
        },
    ),
    "healthy_groupchat_auto": (
        [],
        "none",
        {
            "*": ("healthy", "none", ""),
        },
    ),
    "loop_groupchat_auto": (
        [(4.0, TERM)],
        "none",
        {
            "*": ("loop", "*", "revisit the plan"),
        },
    ),
    "loop_tool_repeat": (
        [],
        "none",
        {
            "*": ("loop", "*", "check_status"),
        },
    ),
    "loop_twoagent_sigint": (
        [(3.0, INT), (8.0, KILL)],
        "none",
        {
            "*": ("loop", "*", "intro"),
        },
    ),
    "blocking_tool_sigint": (
        [(3.0, INT), (8.0, KILL)],
        "none",
        {
            "*": ("blocking_tool", "tool_execution", "fetch_report"),
        },
    ),
    "blocking_tool_groupchat_sigkill": (
        [(3.0, KILL)],
        "none",
        {
            "*": ("blocking_tool", "tool_execution", "query_db"),
        },
    ),
    "input_wait_always": (
        [(3.0, INT), (8.0, KILL)],
        "fifo",
        {
            "*": ("input_wait", "human_input", ""),
            # prompts are not IOStream events, and the history just ends on the assistant's question
            "events.jsonl": ("unknown", "*", ""),
            "chat_history.json": ("unknown", "*", ""),
        },
    ),
    "input_wait_eof": (
        [],
        "devnull",
        {
            "*": ("input_wait", "human_input", ""),
            # the wait is invisible here; the last message says TERMINATE, so it reads as a clean end
            "events.jsonl": ("healthy", "*", "TERMINATE"),
            "chat_history.json": ("healthy", "*", "TERMINATE"),
        },
    ),
    "context_explosion_tool": (
        [],
        "none",
        {
            "*": ("context_explosion", "*", ""),
        },
    ),
    "reentry_sync": (
        [(6.0, INT), (10.0, KILL)],
        "none",
        {
            "*": ("recursive_reentry", "tool_execution", "run_subtask"),
        },
    ),
}
LOG_FORMS = ("console.txt", "runtime.log", "logs.db", "events.jsonl", "chat_history.json")


def run(scenario: str, mode: str, workdir: Path) -> tuple[int, str]:
    schedule, stdin_kind, _ = SPECS[scenario]
    argv = [sys.executable, str(HERE / "scenarios.py"), scenario, mode, str(workdir)]
    return run_program(argv, workdir, schedule, stdin_kind)


def record(scenario: str) -> None:
    dest = OUT / scenario
    shutil.rmtree(dest, ignore_errors=True)
    dest.mkdir(parents=True)
    stops = {}
    for mode in ("file", "sqlite"):
        with tempfile.TemporaryDirectory() as tmp:
            work = Path(tmp)
            code, how = run(scenario, mode, work)
            stops[mode] = {"exit_code": code, "stopped_by": how}
            if mode == "file":
                for name in ("console.txt", "events.jsonl", "chat_history.json"):
                    if (work / name).exists():
                        shutil.copy(work / name, dest / name)
                if (work / "autogen_logs" / "runtime.log").exists():
                    shutil.copy(work / "autogen_logs" / "runtime.log", dest / "runtime.log")
            elif (work / "logs.db").exists():
                shutil.copy(work / "logs.db", dest / "logs.db")
    _, _, expected = SPECS[scenario]
    forms = {}
    for form in LOG_FORMS:
        if (dest / form).exists():
            verdict, phase, evidence = expected.get(form, expected["*"])
            forms[form] = {"verdict": verdict, "phase": phase, "evidence": evidence}
    label = {
        "scenario": scenario,
        "framework": "autogen==0.14.1 (classic API), scripted model client",
        "runs": stops,
        "expected": forms,
    }
    (dest / "label.json").write_text(json.dumps(label, indent=2) + "\n")
    print(f"{scenario}: {stops['file']['stopped_by']} -> exit {stops['file']['exit_code']}")


if __name__ == "__main__":
    for name in sys.argv[1:] or list(SPECS):
        record(name)
