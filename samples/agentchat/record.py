"""Run every agentchat scenario for real; store its logs under sample_logs/agentchat/<scenario>/.

Each run keeps console.txt, events.log (Python logging, a different format string per scenario)
and otel.json (spans). Stuck runs are stopped as production stops them. Some scenarios are run
once more with the logging written as JSON lines by python-json-logger; those runs keep only
events.jsonl, under sample_logs/agentchat-json/<scenario>/. Some are run once more with
Console's defaults (no output_stats: no token lines, no Summary block, so a finished run's end
is not recorded); those keep only console.txt, under sample_logs/agentchat-console-default/.
Run under autogen-agentchat 0.4.x with --agentchat-0.4, some scenarios are recorded in all three
forms under sample_logs/agentchat-0.4/ (Console then printed only the source in its headers).
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import tempfile
import time
from importlib.metadata import version
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
from phoenix_export import keep_run_trace  # noqa: E402
from runner import INT, KILL, TERM, run_program  # noqa: E402

OUT = HERE.parent.parent / "sample_logs" / "agentchat"
OUT_JSON = HERE.parent.parent / "sample_logs" / "agentchat-json"
OUT_DEFAULT_CONSOLE = HERE.parent.parent / "sample_logs" / "agentchat-console-default"
OUT_04 = HERE.parent.parent / "sample_logs" / "agentchat-0.4"
# --traces MODE: the spans again, written by the official OTLP JSON file exporter (otlp), or with
# OpenInference's instrumentation on as well (openinference); only traces.jsonl is kept
OUT_TRACES = {
    "otlp": HERE.parent.parent / "sample_logs" / "agentchat-otlp",
    "openinference": HERE.parent.parent / "sample_logs" / "agentchat-openinference",
    # OpenInference's spans sent to a Phoenix server ($PHOENIX_HOST, `phoenix serve`), then
    # exported as `px traces` writes them; the run's own trace (its most spans) is kept
    "phoenix": HERE.parent.parent / "sample_logs" / "agentchat-phoenix",
    # Langfuse's SDK with a file exporter: what it would send to a Langfuse server
    "langfuse": HERE.parent.parent / "sample_logs" / "agentchat-langfuse",
}
TRACE_FILES = {
    "otlp": "traces.jsonl",
    "openinference": "traces.jsonl",
    "phoenix": "phoenix-trace.json",
    "langfuse": "langfuse.jsonl",
}
TRACE_RUNS = (
    "healthy_roundrobin_tool",
    "healthy_swarm_handoffs",
    "healthy_graphflow",
    "healthy_parallel_tools",
    "loop_swarm_pingpong",
    "loop_selector_same_agent",
    "loop_graphflow_cycle",
    "blocking_tool_sync",
    "input_wait_userproxy",
    "reentry_team_run",
    "context_explosion_tool",
    "error_auth",
)
# (mode, scenario) -> the verdict of its traces where it differs from otel.json's: autogen-core
# 0.7 writes each delivered message on its process span (the input request is there)
TRACE_EXPECTED: dict[tuple[str, str], tuple[str, str, str]] = {
    (mode, "input_wait_userproxy"): ("input_wait", "human_input", "UserInputRequestedEvent")
    for mode in ("otlp", "openinference", "phoenix")
} | {
    # Langfuse's export keeps GenAI and OpenInference spans only: the runtime's messaging
    # spans, where 0.7 writes the input request, are filtered out
    ("langfuse", "input_wait_userproxy"): ("unknown", "*", ""),
}
RUNS_04 = (
    "healthy_roundrobin_tool",
    "loop_swarm_pingpong",
    "blocking_tool_sync",
    "input_wait_userproxy",
    "reentry_team_run",
)
FMT_A = "%(asctime)s - %(name)s - %(levelname)s - %(message)s"
FMT_B = "%(asctime)s %(levelname)-8s [%(name)s] %(message)s"
FMT_C = "[%(asctime)s] {%(name)s:%(lineno)d} %(levelname)s - %(message)s"
FMT_D = "%(levelname)s:%(name)s:%(message)s"  # logging's default shape: no time at all
STOP_HARD = [(4.0, INT), (7.0, INT), (11.0, KILL)]

# scenario -> (format, stop schedule, stdin, {form: (verdict, phase, evidence substring)})
SPECS: dict[str, tuple[str, list[tuple[float, int]], str, dict[str, tuple[str, str, str]]]] = {
    "healthy_roundrobin_tool": (FMT_A, [], "none", {"*": ("healthy", "none", "")}),
    "healthy_selector_streaming": (FMT_B, [], "none", {"*": ("healthy", "none", "")}),
    "loop_roundrobin_no_termination": (
        FMT_C,
        STOP_HARD,
        "none",
        {
            "*": ("loop", "*", ""),
            # spans carry no text and no tool arguments; two agents alternating is round robin's norm
            "otel.json": ("unknown", "*", ""),
        },
    ),
    "loop_swarm_pingpong": (FMT_A, [(5.0, TERM)], "none", {"*": ("loop", "*", "")}),
    "loop_selector_same_agent": (FMT_B, [(5.0, KILL)], "none", {"*": ("loop", "*", "")}),
    "blocking_tool_async": (
        FMT_C,
        STOP_HARD,
        "none",
        {
            "*": ("blocking_tool", "tool_execution", "fetch_report"),
            # the async tool blocked the loop before Console printed the request; spans never end
            "console.txt": ("unknown", "*", ""),
            "otel.json": ("unknown", "*", ""),
        },
    ),
    "blocking_tool_sync": (
        FMT_A,
        STOP_HARD,
        "none",
        {"*": ("blocking_tool", "tool_execution", "query_db")},
    ),
    "input_wait_userproxy": (
        FMT_B,
        STOP_HARD,
        "fifo",
        {
            "*": ("input_wait", "human_input", ""),
            "otel.json": ("unknown", "*", ""),
        },
    ),
    "input_wait_custom_async": (
        FMT_D,
        [(4.0, TERM)],
        "none",
        {
            "*": ("input_wait", "human_input", ""),
            # a custom input_func prints no prompt: the console just ends on the question
            "console.txt": ("unknown", "*", ""),
            "otel.json": ("unknown", "*", ""),
        },
    ),
    "context_explosion_tool": (
        FMT_C,
        [],
        "none",
        {
            "*": ("context_explosion", "*", ""),
        },
    ),
    "reentry_team_run": (
        FMT_A,
        [],
        "none",
        {
            "*": ("recursive_reentry", "*", "already running"),
            "otel.json": ("recursive_reentry", "*", "already running"),
        },
    ),
    "healthy_code_execution": (
        FMT_B,
        [],
        "none",
        {"*": ("healthy", "none", "")},
    ),
    "blocking_code_execution": (
        FMT_A,
        [(4.0, INT), (7.0, INT), (10.0, KILL)],
        "none",
        {
            "*": ("blocking_tool", "tool_execution", "code_execution"),
            # Ctrl-C reaches the code's own process too: the log shows it exit on the signal
            # (-2), the agent retry, and the run stop after a message
            "events.log": ("unknown", "*", ""),
            "otel.json": ("unknown", "*", ""),
        },
    ),
    "blocking_model_hang": (
        FMT_C,
        STOP_HARD,
        "none",
        {
            "*": ("blocking_model", "model_call", ""),
            # the handler's CancelledError (in the HTTP read) is logged; Console shows only the
            # task and an interrupt in the event loop, spans only an agent that never ended
            "console.txt": ("unknown", "*", ""),
            "otel.json": ("unknown", "*", ""),
        },
    ),
    "blocking_model_rate_limited": (
        FMT_A,
        [(5.0, INT), (8.0, INT), (11.0, KILL)],
        "none",
        {
            "*": ("blocking_model", "model_call", "Retrying request"),
            # the async client sleeps in the event loop: the Console's interrupt shows only the
            # idle loop, the spans only an agent's turn cut by the stop
            "console.txt": ("unknown", "*", ""),
            "otel.json": ("unknown", "*", ""),
        },
    ),
    "error_auth": (FMT_A, [(30.0, KILL)], "none", {"*": ("error", "*", "AuthenticationError")}),
    # team kinds (team_kinds.py): healthy runs of each, and the stalls a kind has
    **{
        name: (FMT_B, [(60.0, KILL)], "none", {"*": ("healthy", "none", "")})
        for name in (
            "healthy_magentic_one",
            "healthy_graphflow",
            "healthy_society_of_mind",
            "healthy_selector_function",
            "healthy_swarm_handoffs",
            "healthy_parallel_tools",
            "healthy_slow_tool",
            "healthy_long_conversation",
        )
    },
    "loop_magentic_one_stalls": (FMT_A, [(60.0, KILL)], "none", {"*": ("loop", "*", "")}),
    # autogen-core agents talking by direct messages (core_programs.py): no Console output
    # a finished exchange of bare agents logs no end (only teams do): honestly unknown
    "healthy_rpc_roundtrip": (FMT_A, [(60.0, KILL)], "none", {"*": ("unknown", "*", "")}),
    "reentry_rpc_deadlock": (
        FMT_C,
        STOP_HARD,
        "none",
        {
            "*": ("recursive_reentry", "tool_execution", "planner"),
            # the transcript shows only the program's own send_message interrupted
            "console.txt": ("unknown", "*", ""),
        },
    ),
    "loop_graphflow_cycle": (FMT_C, [(5.0, TERM), (8.0, KILL)], "none", {"*": ("loop", "*", "")}),
}
LOG_FORMS = ("console.txt", "events.log", "otel.json")
# scenario -> {form: runs} where a log holds more than one team: SocietyOfMind's inner team
# logs under its own id
RUN_COUNTS = {"healthy_society_of_mind": {"events.log": 2}}
# scenario -> JSON field names: python-json-logger's own, or renamed as many platforms want them
JSON_RUNS = {
    "loop_swarm_pingpong": "json",
    "loop_roundrobin_no_termination": "json-renamed",
    "blocking_tool_sync": "json-renamed",
    "input_wait_userproxy": "json",
    "context_explosion_tool": "json",
    "reentry_team_run": "json-renamed",
    "healthy_selector_streaming": "json",
}


# scenario -> the verdict of its transcript when Console runs with its defaults
DEFAULT_CONSOLE_RUNS = {
    "healthy_roundrobin_tool": ("unknown", "*", ""),  # RUN01 names output_stats=True
    "loop_swarm_pingpong": ("loop", "*", ""),
    "blocking_tool_sync": ("blocking_tool", "tool_execution", "query_db"),
    "reentry_team_run": ("recursive_reentry", "*", "already running"),
}


def record(
    scenario: str,
    json_fmt: str | None = None,
    default_console: bool = False,
    out: Path = OUT,
    traces: str | None = None,
) -> None:
    fmt, schedule, stdin_kind, expected = SPECS[scenario]
    forms_kept, extra = LOG_FORMS, []
    if out == OUT_04:  # 0.4.x exports only runtime messaging spans: nothing of the chat in them
        forms_kept = ("console.txt", "events.log")
    if json_fmt:  # the same scenario again, logging as JSON lines; only that log is kept
        fmt, out, forms_kept = json_fmt, OUT_JSON, ("events.jsonl",)
        expected = {"*": expected.get("events.log", expected["*"])}
    if default_console:  # again, with Console's defaults; only the transcript is kept
        out, forms_kept, extra = OUT_DEFAULT_CONSOLE, ("console.txt",), ["default-console"]
        expected = {"*": DEFAULT_CONSOLE_RUNS[scenario]}
    if traces:  # again, exporting spans another way; only the trace file is kept
        out, forms_kept, extra = OUT_TRACES[traces], (TRACE_FILES[traces],), [traces]
        os.environ["PHOENIX_PROJECT"] = f"{scenario}-{time.time_ns()}"
        same = expected.get("otel.json", expected["*"])
        expected = {"*": TRACE_EXPECTED.get((traces, scenario), same)}
    dest = out / scenario
    shutil.rmtree(dest, ignore_errors=True)
    dest.mkdir(parents=True)
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        argv = [sys.executable, str(HERE / "scenarios.py"), scenario, str(work), fmt, *extra]
        code, how = run_program(argv, work, schedule, stdin_kind)
        if traces == "phoenix":
            keep_run_trace(work)
        for name in forms_kept:
            if (work / name).exists() and (work / name).stat().st_size:
                shutil.copy(work / name, dest / name)
    forms = {
        form: dict(
            zip(("verdict", "phase", "evidence"), expected.get(form, expected["*"]), strict=True)
        )
        for form in forms_kept
        if (dest / form).exists()
    }
    for form, runs in RUN_COUNTS.get(scenario, {}).items():
        if form in forms:
            forms[form]["runs"] = runs
    label = {
        "scenario": scenario,
        "framework": f"autogen-agentchat=={version('autogen-agentchat')}, openai=={version('openai')}, "
        "real OpenAI client against a scripted local stub"
        + (f", python-json-logger=={version('python-json-logger')}" if json_fmt else "")
        + (", Console with its defaults (output_stats=False)" if default_console else "")
        + (_trace_packages(traces) if traces else ""),
        "logging_format": fmt,
        "runs": {"run": {"exit_code": code, "stopped_by": how}},
        "expected": forms,
    }
    (dest / "label.json").write_text(json.dumps(label, indent=2) + "\n")
    print(f"{scenario}: {how} -> exit {code}")


def _trace_packages(mode: str) -> str:
    names = ["opentelemetry-sdk"]
    names.append(
        "opentelemetry-exporter-otlp-proto-http"
        if mode == "phoenix"
        else "opentelemetry-exporter-otlp-json-file"
    )
    if mode in ("openinference", "phoenix", "langfuse"):
        names.append("openinference-instrumentation-autogen-agentchat")
    if mode == "langfuse":
        names.append("langfuse")
    if mode == "phoenix":
        return (
            ", "
            + ", ".join(f"{n}=={version(n)}" for n in names)
            + ", arize-phoenix==20.26.1 (px traces layout)"
        )
    return ", " + ", ".join(f"{n}=={version(n)}" for n in names)


if __name__ == "__main__":
    # record.py [--variants-only | --agentchat-0.4 | --corpus DIR] [SCENARIO...]: by default
    # all scenarios and their variant runs, with the autogen-agentchat of the running
    # interpreter; --corpus records the main runs of another release into DIR (corpus/)
    if sys.argv[1:2] == ["--corpus"]:
        for name in sys.argv[3:] or list(SPECS):
            record(name, out=Path(sys.argv[2]))
        sys.exit(0)
    if sys.argv[1:2] == ["--traces"]:  # --traces MODE [--corpus DIR] [SCENARIO...]
        mode, rest = sys.argv[2], sys.argv[3:]
        if rest[:1] == ["--corpus"]:
            OUT_TRACES[mode], rest = Path(rest[1]), rest[2:]
        for name in rest or TRACE_RUNS:
            record(name, traces=mode)
        sys.exit(0)
    if sys.argv[1:2] == ["--agentchat-0.4"]:
        for name in sys.argv[2:] or RUNS_04:
            record(name, out=OUT_04)
        sys.exit(0)
    variants_only = sys.argv[1:2] == ["--variants-only"]
    names = sys.argv[2 if variants_only else 1 :]
    for name in [] if variants_only else names or list(SPECS):
        record(name)
    for name in names or list(JSON_RUNS):
        if name in JSON_RUNS:
            record(name, JSON_RUNS[name])
    for name in names or list(DEFAULT_CONSOLE_RUNS):
        if name in DEFAULT_CONSOLE_RUNS:
            record(name, default_console=True)
