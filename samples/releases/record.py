"""Record the classic-API program (``program.py``) on every release line into ``corpus/``.

Each release gets its own venv (``.venv-rel-<release>``); each scenario runs once per log form
the release writes and is stopped as production stops stuck runs. ``corpus/`` is generated and
git-ignored: ``make corpus`` rebuilds it. Releases are split in two: the analyzer is tuned on
the ``tune`` half only, and the ``held_out`` half is measured once, untouched
(``bench/corpus_score.py``).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
sys.path.insert(0, str(HERE.parent))
from phoenix_export import keep_run_trace  # noqa: E402
from runner import INT, KILL, TERM, run_program  # noqa: E402

OUT = ROOT / "corpus" / "releases"
# release -> (pip requirement, half)
RELEASES = {
    "pyautogen-0.2.0": ("pyautogen==0.2.0", "tune"),
    "pyautogen-0.2.10": ("pyautogen==0.2.10", "held_out"),
    "pyautogen-0.2.20": ("pyautogen==0.2.20", "tune"),
    "pyautogen-0.2.35": ("pyautogen==0.2.35", "held_out"),
    "ag2-0.3.2": ("ag2==0.3.2", "held_out"),
    "ag2-0.8.2": ("ag2[openai]==0.8.2", "tune"),
    "ag2-0.11.5": ("ag2[openai]==0.11.5", "tune"),
    "ag2-0.14.0": ("ag2[openai]==0.14.0", "held_out"),
    "autogen-0.14.1": ("autogen[openai]==0.14.1", "held_out"),
}
# scenario -> (what truly happened, stop schedule, stdin)
SCENARIOS = {
    "healthy_twoagent": ("healthy", [], "none"),
    "healthy_tool": ("healthy", [], "none"),
    "healthy_groupchat_maxround": ("healthy", [], "none"),
    "human_exit": ("healthy", [], "tty:exit\n"),
    "loop_groupchat": ("loop", [(4.0, TERM), (8.0, KILL)], "none"),
    "loop_tool_repeat": ("loop", [(4.0, INT), (7.0, KILL)], "none"),
    "blocking_tool": ("blocking_tool", [(3.0, INT), (6.0, INT), (9.0, KILL)], "none"),
    "input_wait": ("input_wait", [(3.0, TERM), (6.0, KILL)], "fifo"),
    "blocking_model": ("blocking_model", [(3.0, INT), (6.0, KILL)], "none"),
    "model_rate_limited": ("blocking_model", [(5.0, INT), (8.0, KILL)], "none"),
    "error_auth": ("error", [(20.0, KILL)], "none"),
    "loop_failing_code": ("loop", [(60.0, KILL)], "none"),
    "context_explosion_quoting": ("context_explosion", [(60.0, KILL)], "none"),
    "healthy_growing_pages": ("healthy", [(60.0, KILL)], "none"),
    # team kinds a stall detector must leave alone (left out where the release lacks them)
    **{
        name: ("healthy", [(60.0, KILL)], "none")
        for name in (
            "healthy_nested_chat",
            "healthy_sequential_chats",
            "healthy_custom_speaker",
            "healthy_code_execution",
            "healthy_long_conversation",
        )
    },
}
FORMS = {"file": ("console.txt", "runtime.log", "chat_history.json"), "sqlite": ("logs.db",)}
# spans, recorded on demand (--forms ag2-traces,openinference) into the scenario's directory
TRACE_FORMS = {
    "ag2-traces": ("ag2-traces.jsonl",),
    "openinference": ("openinference.jsonl",),
    # sent to a Phoenix server (`phoenix serve` on 127.0.0.1:6006), exported as px traces does
    "phoenix": ("phoenix-trace.json",),
}


# what the span forms need besides the release (AG2's tracing imports opentelemetry-sdk)
TRACING = (
    "opentelemetry-sdk",
    "opentelemetry-exporter-otlp-json-file",
    "opentelemetry-exporter-otlp-proto-http",
    "openinference-instrumentation-ag2",
)


def venv(release: str, requirement: str, extra: tuple[str, ...] = ()) -> Path:
    where = ROOT / f".venv-rel-{release}"
    python = where / "bin" / "python"
    if not python.exists():
        subprocess.run([sys.executable, "-m", "venv", str(where)], check=True)
    subprocess.run(
        [
            *(str(python), "-m", "pip", "install", "-q", "--disable-pip-version-check"),
            *(requirement, *extra),
        ],
        check=True,
    )
    return python


def record(
    release: str, requirement: str, half: str, only: set[str], forms: dict[str, tuple[str, ...]]
) -> None:
    python = venv(release, requirement, () if forms is FORMS else TRACING)
    for scenario, (truth, schedule, stdin) in SCENARIOS.items():
        if only and scenario not in only:
            continue
        target = OUT / release / scenario
        runs = {}
        if forms is FORMS:  # a fresh recording; other forms are added to an existing one
            shutil.rmtree(target, ignore_errors=True)
            target.mkdir(parents=True)
        elif (target / "label.json").exists():
            runs = json.loads((target / "label.json").read_text())["runs"]
        else:
            continue
        for mode, keep in forms.items():
            with tempfile.TemporaryDirectory() as tmp:
                work = Path(tmp)
                argv = [str(python), str(HERE / "program.py"), scenario, mode, str(work)]
                os.environ["PHOENIX_PROJECT"] = f"{release}-{scenario}-{time.time_ns()}"
                code, stopped = run_program(argv, work, schedule, stdin)
                if mode == "phoenix":
                    keep_run_trace(work)
                runs[mode] = {"exit_code": code, "stopped_by": stopped}
                if (work / "unsupported.txt").exists():
                    runs[mode]["unsupported"] = (work / "unsupported.txt").read_text()
                for name in keep:
                    if (work / name).exists() and (work / name).stat().st_size:
                        shutil.copy(work / name, target / name)
        label = {
            "scenario": scenario,
            "framework": requirement,
            "half": half,
            "truth": truth,
            "runs": runs,
        }
        if forms is not FORMS:
            (target / "label.json").write_text(json.dumps({**label, "runs": runs}, indent=2) + "\n")
            print(f"{release:18s} {scenario:28s} {[(m, runs[m]) for m in forms]}")
            continue
        if all("unsupported" in run for run in runs.values()):
            shutil.rmtree(target)
            print(f"{release:18s} {scenario:28s} not in this release: {runs}")
            continue
        (target / "label.json").write_text(json.dumps(label, indent=2) + "\n")
        print(f"{release:18s} {scenario:28s} {runs}")


def main() -> None:
    releases = [a for a in sys.argv[1:] if a in RELEASES] or list(RELEASES)
    only = {a for a in sys.argv[1:] if a in SCENARIOS}
    forms = FORMS
    if "--forms" in sys.argv:  # --forms ag2-traces,openinference: add span recordings
        names = sys.argv[sys.argv.index("--forms") + 1].split(",")
        forms = {name: TRACE_FORMS[name] for name in names}
    for release in releases:
        requirement, half = RELEASES[release]
        record(release, requirement, half, only, forms)


if __name__ == "__main__":
    main()
