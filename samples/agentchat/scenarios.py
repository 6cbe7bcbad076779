"""Real autogen-agentchat 0.7.5 programs, one per stall class plus healthy runs.

Run as ``python scenarios.py SCENARIO WORKDIR FORMAT``. Each writes what a user would keep:
the Console transcript (stdout/stderr), a Python logging file ``events.log`` of the
autogen_core/autogen_agentchat loggers with the given format string, and OpenTelemetry spans
``otel.json`` (ConsoleSpanExporter, pretty-printed). The model is the real OpenAI client talking
to ``stub.py`` on 127.0.0.1.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import os
import signal
import sys
import time
from collections.abc import Callable
from typing import Any

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from autogen_agentchat.agents import AssistantAgent, UserProxyAgent
from autogen_agentchat.conditions import MaxMessageTermination, TextMentionTermination
from autogen_agentchat.teams import RoundRobinGroupChat, SelectorGroupChat, Swarm
from autogen_agentchat.ui import Console
from autogen_ext.models.openai import OpenAIChatCompletionClient
from core_programs import CORE_PROGRAMS
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import ConsoleSpanExporter, SimpleSpanProcessor
from stub import SCRIPTS, Reply, count_role, start
from team_kinds import TEAM_KINDS

PORT = 0
WORKDIR = "."  # the run's own directory, for code the agents execute
LOGGERS = (
    "autogen_core",
    "autogen_core.events",
    "autogen_core.trace",
    "autogen_agentchat",
    "autogen_agentchat.events",
)


def client(
    agent: str, model: str = "gpt-4o-mini", stream: bool = False
) -> OpenAIChatCompletionClient:
    extra: dict[str, Any] = {"stream_options": {"include_usage": True}} if stream else {}
    return OpenAIChatCompletionClient(
        model=model,
        base_url=f"http://127.0.0.1:{PORT}/{agent}/v1",
        api_key="sk-test-not-a-real-key",
        **extra,
    )


def agent(
    name: str,
    tools: list[Any] | None = None,
    stream: bool = False,
    model: str = "gpt-4o-mini",
    **kw: Any,
) -> AssistantAgent:
    return AssistantAgent(
        name,
        model_client=client(name, model, stream),
        tools=tools,
        model_client_stream=stream,
        description=f"the {name}",
        **kw,
    )


def rotating(lines: list[str]) -> Callable[[list[dict[str, Any]], list[Any]], str]:
    return lambda m, t: lines[len(m) % len(lines)].format(n=2 + len(m) % 2)


# --- healthy ------------------------------------------------------------------------------


async def healthy_roundrobin_tool() -> Any:
    def search_docs(query: str) -> str:
        return "Found 3 sections: goals, architecture, risks."

    SCRIPTS["planner"] = lambda m, t: (
        Reply(tool_calls=[("search_docs", {"query": "design doc"})])
        if count_role(m, "tool") == 0
        else Reply(
            "Draft: the design doc sets three goals, describes the architecture and lists open risks."
        )
    )
    SCRIPTS["reviewer"] = lambda m, t: Reply(
        "APPROVE - the summary covers goals, architecture and risks."
    )
    team = RoundRobinGroupChat(
        [agent("planner", [search_docs], reflect_on_tool_use=True), agent("reviewer")],
        termination_condition=TextMentionTermination("APPROVE"),
    )
    return team, "Summarize the design doc."


async def healthy_selector_streaming() -> Any:
    order = iter(["planner", "coder", "reviewer"])
    SCRIPTS["selector"] = lambda m, t: Reply(next(order, "reviewer"))
    SCRIPTS["planner"] = lambda m, t: Reply(
        "Plan: add a --json flag that prints one document per run."
    )
    SCRIPTS["coder"] = lambda m, t: Reply(
        "Implemented --json in cli.py with a test for the schema."
    )
    SCRIPTS["reviewer"] = lambda m, t: Reply(
        "APPROVE: the flag works and the test covers the contract."
    )
    team = SelectorGroupChat(
        [agent(n, stream=True) for n in ("planner", "coder", "reviewer")],
        model_client=client("selector"),
        termination_condition=TextMentionTermination("APPROVE") | MaxMessageTermination(12),
    )
    return team, "Add a --json flag to the CLI."


# --- loops --------------------------------------------------------------------------------


async def loop_roundrobin_no_termination() -> Any:
    def run_tests(suite: str) -> str:
        return f"suite={suite}: 41 passed, 1 failed (test_parser_edge) in 0.{int(time.time()) % 9}s"

    tester_lines = [
        "The {n} failing test is still there; re-running the unit suite.",
        "Still one failure ({n}); let me run the unit suite again.",
        "Re-running the unit suite, the parser edge case keeps failing ({n}).",
    ]
    fixer_lines = [
        "I adjusted the parser edge case again (attempt {n}); please re-run the tests.",
        "Another tweak to the parser edge handling (try {n}); run the tests once more.",
        "Patched the edge case in the parser (round {n}); please run the suite again.",
    ]
    say_tester, say_fixer = rotating(tester_lines), rotating(fixer_lines)
    SCRIPTS["tester"] = lambda m, t: (
        Reply(say_tester(m, t))
        if m and m[-1].get("role") == "tool"
        else Reply(None, [("run_tests", {"suite": "unit"})])
    )
    SCRIPTS["fixer"] = lambda m, t: Reply(say_fixer(m, t))
    team = RoundRobinGroupChat(
        [agent("tester", [run_tests], reflect_on_tool_use=True), agent("fixer")]
    )
    return team, "Make the unit tests pass."


async def loop_swarm_pingpong() -> Any:
    def lookup(topic: str) -> str:
        return f"{topic}: owned by the platform team"

    def script(me: str, other: str) -> Callable[..., Reply]:
        def respond(m: list[dict[str, Any]], t: list[Any]) -> Reply:
            if m and m[-1].get("role") == "tool" and "Transferred" not in str(m[-1].get("content")):
                return Reply(
                    f"This is really for the {other}; handing over.", [(f"transfer_to_{other}", {})]
                )
            return Reply(None, [("lookup", {"topic": "billing export"})])

        return respond

    SCRIPTS["planner"], SCRIPTS["coder"] = script("planner", "coder"), script("coder", "planner")
    team = Swarm(
        [
            agent("planner", [lookup], handoffs=["coder"]),
            agent("coder", [lookup], handoffs=["planner"]),
        ]
    )
    return team, "Who should fix the billing export?"


async def loop_selector_same_agent() -> Any:
    def apply_patch(file: str) -> str:
        return f"patched {file} (1 hunk)"

    SCRIPTS["selector"] = lambda m, t: Reply("coder")
    SCRIPTS["coder"] = lambda m, t: (
        Reply("Patched parser.py; please re-run the checks.")
        if m and m[-1].get("role") == "tool"
        else Reply(None, [("apply_patch", {"file": "parser.py"})])
    )
    SCRIPTS["planner"] = SCRIPTS["reviewer"] = lambda m, t: Reply("Looks fine.")
    team = SelectorGroupChat(
        [
            agent("planner"),
            agent("coder", [apply_patch], reflect_on_tool_use=True),
            agent("reviewer"),
        ],
        model_client=client("selector"),
    )
    return team, "Fix the parser bug."


# --- blocking tools -----------------------------------------------------------------------


async def blocking_tool_async() -> Any:
    async def fetch_report(url: str) -> str:
        time.sleep(600)  # a blocking call inside an async tool: the event loop stops
        return "report"

    SCRIPTS["analyst"] = lambda m, t: Reply(
        None, [("fetch_report", {"url": "https://intranet/q3.pdf"})]
    )
    SCRIPTS["reviewer"] = lambda m, t: Reply("Reviewed.")
    team = RoundRobinGroupChat([agent("analyst", [fetch_report]), agent("reviewer")])
    return team, "Summarise the Q3 report."


async def blocking_tool_sync() -> Any:
    def query_db(sql: str) -> str:
        time.sleep(600)  # runs in an executor thread; the loop stays idle
        return "rows"

    SCRIPTS["analyst"] = lambda m, t: Reply(
        None, [("query_db", {"sql": "SELECT region, SUM(total) FROM sales"})]
    )
    SCRIPTS["reviewer"] = lambda m, t: Reply("Reviewed.")
    team = RoundRobinGroupChat([agent("analyst", [query_db]), agent("reviewer")])
    return team, "Sales by region, please."


# --- model calls that never return, or fail ------------------------------------------------


async def blocking_model_hang() -> Any:
    """The endpoint accepts the request and never answers (the client's default timeout is
    600 s, so the run is stopped first)."""
    SCRIPTS["analyst"] = lambda m, t: Reply(hang=True)
    SCRIPTS["reviewer"] = lambda m, t: Reply("Reviewed.")
    team = RoundRobinGroupChat(
        [agent("analyst"), agent("reviewer")], termination_condition=MaxMessageTermination(6)
    )
    return team, "Summarise last quarter's sales."


async def blocking_model_rate_limited() -> Any:
    """Every call is refused with 429 and ``retry-after: 30``: the client sleeps between its
    retries (max_retries 2) until the run is stopped. The app logs at INFO, as many do, so
    openai's "Retrying request" and httpx's "HTTP Request" records are in the file."""
    SCRIPTS["analyst"] = lambda m, t: Reply(status=429)
    SCRIPTS["reviewer"] = lambda m, t: Reply("Reviewed.")
    logging.getLogger().setLevel(logging.INFO)
    team = RoundRobinGroupChat(
        [agent("analyst"), agent("reviewer")], termination_condition=MaxMessageTermination(6)
    )
    return team, "Summarise last quarter's sales."


async def error_auth() -> Any:
    """The key is refused (401): AuthenticationError ends the run."""
    SCRIPTS["analyst"] = lambda m, t: Reply(status=401)
    SCRIPTS["reviewer"] = lambda m, t: Reply("Reviewed.")
    team = RoundRobinGroupChat(
        [agent("analyst"), agent("reviewer")], termination_condition=MaxMessageTermination(6)
    )
    return team, "Summarise last quarter's sales."


# --- code execution -------------------------------------------------------------------------


def coder(name: str, code: str, workdir: str) -> Any:
    """CodeExecutorAgent with a model (0.5+): it writes a code block and runs it locally."""
    from autogen_agentchat.agents import CodeExecutorAgent
    from autogen_ext.code_executors.local import LocalCommandLineCodeExecutor

    SCRIPTS[name] = lambda m, t: Reply(f"Running it:\n```python\n{code}\n```")
    executor = LocalCommandLineCodeExecutor(work_dir=workdir, timeout=900)
    return CodeExecutorAgent(name, executor, model_client=client(name))


async def healthy_code_execution() -> Any:
    run = coder("coder", "print(sum(range(10)))", WORKDIR)
    SCRIPTS["reviewer"] = lambda m, t: Reply("The sum is 45. TERMINATE")
    team = RoundRobinGroupChat(
        [run, agent("reviewer")], termination_condition=TextMentionTermination("TERMINATE")
    )
    return team, "Compute the sum of 0..9 in Python."


async def blocking_code_execution() -> Any:
    run = coder("coder", "import time\ntime.sleep(600)  # waits on a job that never ends", WORKDIR)
    SCRIPTS["reviewer"] = lambda m, t: Reply("Reviewed.")
    team = RoundRobinGroupChat([run, agent("reviewer")])
    return team, "Wait for the nightly export, then report."


# --- human input --------------------------------------------------------------------------


async def input_wait_userproxy() -> Any:
    SCRIPTS["assistant"] = lambda m, t: Reply("Here is the outline. Shall I write section 2?")
    team = RoundRobinGroupChat([agent("assistant"), UserProxyAgent("user_proxy")])
    return team, "Outline a blog post on log analysis."


async def input_wait_custom_async() -> Any:
    never = asyncio.Event()

    async def ask_slack(prompt: str, cancellation_token: Any = None) -> str:
        await never.wait()  # a reply that never comes
        return ""

    SCRIPTS["assistant"] = lambda m, t: Reply("Draft ready. Can a human approve the rollout?")
    SCRIPTS["selector"] = lambda m, t: Reply("approver")
    team = SelectorGroupChat(
        [agent("assistant"), UserProxyAgent("approver", input_func=ask_slack)],
        model_client=client("selector"),
    )
    return team, "Prepare the rollout plan."


# --- context explosion --------------------------------------------------------------------


async def context_explosion_tool() -> Any:
    pages = {"n": 0}

    def read_log(page: int) -> str:
        pages["n"] += 1
        return "2026-11-24 03:12:07 WARN worker-7 retrying upstream call after timeout\n" * (
            20 * 2 ** pages["n"]
        )

    SCRIPTS["log_reader"] = lambda m, t: Reply(
        f"Reading page {count_role(m, 'tool') + 1}.",
        [("read_log", {"page": count_role(m, "tool") + 1})],
    )
    SCRIPTS["reviewer"] = lambda m, t: Reply("Keep reading.")
    team = RoundRobinGroupChat([agent("log_reader", [read_log], model="gpt-4"), agent("reviewer")])
    return team, "Find the root cause in last night's worker logs."


# --- recursive re-entry -------------------------------------------------------------------


async def reentry_team_run() -> Any:
    holder: dict[str, Any] = {}

    async def run_subtask(task: str) -> str:
        result = await holder["team"].run(task=task)  # re-enters the running team
        return str(result.messages[-1].content)

    SCRIPTS["planner"] = lambda m, t: Reply(
        "The sub-task failed; retrying it.",
        [("run_subtask", {"task": "collect the failing test names"})],
    )
    SCRIPTS["reviewer"] = lambda m, t: Reply("Waiting for the sub-task result.")
    team = RoundRobinGroupChat(
        [agent("planner", [run_subtask]), agent("reviewer")],
        termination_condition=MaxMessageTermination(16),
    )
    holder["team"] = team
    return team, "Fix the flaky tests."


SCENARIOS = {
    f.__name__: f
    for f in (
        healthy_roundrobin_tool,
        healthy_selector_streaming,
        loop_roundrobin_no_termination,
        loop_swarm_pingpong,
        loop_selector_same_agent,
        blocking_tool_async,
        blocking_tool_sync,
        input_wait_userproxy,
        input_wait_custom_async,
        context_explosion_tool,
        reentry_team_run,
        healthy_code_execution,
        blocking_code_execution,
        blocking_model_hang,
        blocking_model_rate_limited,
        error_auth,
    )
}
# Team kinds beyond round robin (team_kinds.py), given this module's agent and client makers.
SCENARIOS |= {name: functools.partial(make, agent, client) for name, make in TEAM_KINDS.items()}


async def amain(scenario: str, output_stats: bool) -> None:
    if scenario in CORE_PROGRAMS:  # agents without a team, talking by direct messages
        await CORE_PROGRAMS[scenario]()
        return
    team, task = await SCENARIOS[scenario]()
    await Console(team.run_stream(task=task), output_stats=output_stats)


def log_handler(workdir: str, fmt: str) -> logging.Handler:
    """events.log with a format string, or events.jsonl written by python-json-logger (what
    teams that ship logs to a log platform use); "json-renamed" renames the standard fields."""
    if not fmt.startswith("json"):
        handler = logging.FileHandler(os.path.join(workdir, "events.log"))
        handler.setFormatter(logging.Formatter(fmt))
        return handler
    from pythonjsonlogger.json import JsonFormatter

    renamed = {"asctime": "timestamp", "name": "logger", "levelname": "level"}
    handler = logging.FileHandler(os.path.join(workdir, "events.jsonl"))
    handler.setFormatter(
        JsonFormatter(
            "%(asctime)s %(name)s %(levelname)s %(message)s",
            rename_fields=renamed if fmt == "json-renamed" else {},
        )
    )
    return handler


def tracer_provider(workdir: str, mode: list[str]) -> TracerProvider:
    """ConsoleSpanExporter to otel.json by default. ``otlp``: the official OTLP JSON file
    exporter behind a BatchSpanProcessor, as a production setup batches (traces.jsonl).
    ``openinference``: the same exporter, with OpenInference's autogen-agentchat
    instrumentation on as Phoenix's guide sets it up. ``phoenix``: OpenInference's spans sent
    over OTLP/HTTP to a Phoenix server (project ``$PHOENIX_PROJECT``). ``langfuse``: Langfuse's
    SDK (its span processor, filter and transforms) with OpenInference's instrumentation, as
    Langfuse's AutoGen guide sets it up, exporting to langfuse.jsonl (OTLP JSON) instead of
    its server."""
    provider = TracerProvider()
    if mode == ["langfuse"]:  # Langfuse's SDK writing what it would send, to a file
        from langfuse import Langfuse
        from openinference.instrumentation.autogen_agentchat import AutogenAgentChatInstrumentor
        from opentelemetry.exporter.otlp.json.file import FileSpanExporter

        Langfuse(
            public_key="pk-lf-offline",
            secret_key="sk-lf-offline",
            base_url="http://127.0.0.1:9",  # never reached: the exporter below replaces it
            tracer_provider=provider,
            span_exporter=FileSpanExporter(os.path.join(workdir, "langfuse.jsonl")),
            flush_interval=1,  # as the other recordings batch: a kill loses the last second
        )
        AutogenAgentChatInstrumentor().instrument(tracer_provider=provider)
        return provider
    if mode == ["phoenix"]:  # OpenInference spans sent to a Phoenix server, as its guide does
        from openinference.instrumentation.autogen_agentchat import AutogenAgentChatInstrumentor
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
        from opentelemetry.sdk.resources import Resource
        from opentelemetry.sdk.trace.export import BatchSpanProcessor

        project = {"openinference.project.name": os.environ["PHOENIX_PROJECT"]}
        provider = TracerProvider(resource=Resource.create(project))
        endpoint = os.environ.get("PHOENIX_COLLECTOR_ENDPOINT", "http://127.0.0.1:6006/v1/traces")
        exporter = OTLPSpanExporter(endpoint=endpoint)
        provider.add_span_processor(BatchSpanProcessor(exporter, schedule_delay_millis=1000))
        AutogenAgentChatInstrumentor().instrument(tracer_provider=provider)
        return provider
    if mode in (["otlp"], ["openinference"]):
        from opentelemetry.exporter.otlp.json.file import FileSpanExporter
        from opentelemetry.sdk.trace.export import BatchSpanProcessor

        exporter = FileSpanExporter(os.path.join(workdir, "traces.jsonl"))
        provider.add_span_processor(BatchSpanProcessor(exporter, schedule_delay_millis=1000))
        if mode == ["openinference"]:
            from openinference.instrumentation.autogen_agentchat import (
                AutogenAgentChatInstrumentor,
            )

            AutogenAgentChatInstrumentor().instrument(tracer_provider=provider)
        return provider
    span_file = open(os.path.join(workdir, "otel.json"), "w")  # noqa: SIM115
    provider.add_span_processor(SimpleSpanProcessor(ConsoleSpanExporter(out=span_file)))
    return provider


def main() -> None:
    global PORT, WORKDIR
    scenario, workdir, fmt = sys.argv[1:4]
    WORKDIR = os.path.join(workdir, "code")
    output_stats = sys.argv[4:5] != ["default-console"]  # Console's own default is False
    signal.signal(signal.SIGINT, signal.default_int_handler)
    logging.basicConfig(handlers=[log_handler(workdir, fmt)], level=logging.WARNING)
    for name in LOGGERS:
        logging.getLogger(name).setLevel(logging.DEBUG)
    trace.set_tracer_provider(tracer_provider(workdir, sys.argv[4:5]))
    PORT = start()
    asyncio.run(amain(scenario, output_stats))


if __name__ == "__main__":
    main()
