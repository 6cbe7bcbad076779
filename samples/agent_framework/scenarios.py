"""Real Microsoft Agent Framework programs (``agent-framework-core``), one per stall class plus
healthy runs of each kind of run: a single agent with tools, a group chat, a sequential
workflow, a handoff workflow.

Run as ``python scenarios.py SCENARIO WORKDIR``. Spans go to ``WORKDIR/traces.jsonl`` through
the official OTLP JSON file exporter behind a BatchSpanProcessor (as production batches), with
Agent Framework's own instrumentation on and sensitive data (messages, tool arguments and
results) captured, as its observability guide sets it up. The model is the real OpenAI client
(``agent-framework-openai``) talking to the scripted stub on 127.0.0.1.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
import time
from collections.abc import Awaitable, Callable
from typing import Any

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "agentchat"))

from agent_framework import Agent, tool  # noqa: E402
from agent_framework.observability import enable_instrumentation  # noqa: E402
from agent_framework.openai import OpenAIChatCompletionClient  # noqa: E402
from opentelemetry import trace  # noqa: E402
from opentelemetry.exporter.otlp.json.file import FileSpanExporter  # noqa: E402
from opentelemetry.sdk.trace import TracerProvider  # noqa: E402
from opentelemetry.sdk.trace.export import BatchSpanProcessor  # noqa: E402
from stub import SCRIPTS, Reply, count_role, start  # noqa: E402

PORT = 0


def client(agent: str) -> OpenAIChatCompletionClient:
    return OpenAIChatCompletionClient(
        model="gpt-4o-mini",
        base_url=f"http://127.0.0.1:{PORT}/{agent}/v1",
        api_key="sk-test-not-a-real-key",
    )


def agent(name: str, tools: list[Any] | None = None, instructions: str = "", **kw: Any) -> Agent:
    if "require_per_service_call_history_persistence" in kw and not _takes(kw):
        kw = {}  # releases before the flag did not need it for handoffs
    return Agent(
        client=client(name),
        name=name,
        instructions=instructions or f"You are the {name}.",
        tools=tools or [],
        **kw,
    )


def _takes(kw: dict[str, Any]) -> bool:
    import inspect

    return set(kw) <= set(inspect.signature(Agent.__init__).parameters)


@tool
def get_weather(city: str) -> str:
    """The weather in a city."""
    return {"Paris": "12C, light rain", "Berlin": "7C, overcast"}.get(city, "unknown")


@tool
def lookup(topic: str) -> str:
    """Look a topic up in the wiki."""
    return f"{topic}: owned by the platform team"


@tool
def query_db(sql: str) -> str:
    """Run a query against the warehouse."""
    time.sleep(600)  # the warehouse never answers
    return "no rows"


@tool(approval_mode="always_require")
def refund(order: str) -> str:
    """Refund an order (a person must approve)."""
    return f"refunded {order}"


async def healthy_agent_tool() -> None:
    calls = iter([("get_weather", {"city": "Paris"}), ("get_weather", {"city": "Berlin"})])

    def script(messages: list[dict[str, Any]], tools: list[Any]) -> Reply:
        nxt = next(calls, None)
        if nxt:
            return Reply(tool_calls=[nxt])
        return Reply("Paris 12C and rainy; Berlin 7C and overcast.")

    SCRIPTS["forecaster"] = script
    result = await agent("forecaster", [get_weather]).run("Compare Paris and Berlin weather.")
    print(result.text)


def _writer_reviewer(loop: bool) -> tuple[Agent, Agent]:
    def writer(messages: list[dict[str, Any]], tools: list[Any]) -> Reply:
        if loop:
            return Reply("Here is the draft of the release notes, unchanged.")
        return Reply(f"Draft {count_role(messages, 'assistant') + 1} of the release notes.")

    def reviewer(messages: list[dict[str, Any]], tools: list[Any]) -> Reply:
        if loop:
            return Reply("Please revise the draft of the release notes.")
        return Reply("APPROVE - the notes are ready.")

    SCRIPTS["writer"], SCRIPTS["reviewer"] = writer, reviewer
    return agent("writer"), agent("reviewer")


async def _group_chat(loop: bool) -> None:
    from agent_framework.orchestrations import GroupChatBuilder

    writer, reviewer = _writer_reviewer(loop)
    names = ["writer", "reviewer"]

    def round_robin(state: Any) -> str:
        return names[state.current_round % 2]

    def approved(messages: list[Any]) -> bool:
        return any("APPROVE" in (m.text or "") for m in messages)

    workflow = GroupChatBuilder(
        participants=[writer, reviewer],
        selection_func=round_robin,
        termination_condition=approved,
        max_rounds=None if loop else 6,
    ).build()
    result = await workflow.run("Write the release notes for 2.3.")
    print(result.get_outputs()[-1] if result.get_outputs() else result)


async def healthy_group_chat() -> None:
    await _group_chat(loop=False)


async def loop_group_chat() -> None:
    await _group_chat(loop=True)


async def healthy_sequential() -> None:
    from agent_framework.orchestrations import SequentialBuilder

    writer, reviewer = _writer_reviewer(loop=False)
    workflow = SequentialBuilder(participants=[writer, reviewer]).build()
    result = await workflow.run("Write the release notes for 2.3.")
    print(len(result.get_outputs()), "outputs")


async def healthy_handoff() -> None:
    from agent_framework.orchestrations import HandoffBuilder

    def triage(messages: list[dict[str, Any]], tools: list[Any]) -> Reply:
        names = [t["function"]["name"] for t in tools or [] if "function" in t]
        handoff = next((n for n in names if "billing" in n), None)
        if handoff and not count_role(messages, "tool"):
            return Reply(tool_calls=[(handoff, {})])
        return Reply("Handed to billing.")

    def billing(messages: list[dict[str, Any]], tools: list[Any]) -> Reply:
        return Reply("Your invoice was re-sent. Anything else?")

    SCRIPTS["triage"], SCRIPTS["billing"] = triage, billing
    persist = {"require_per_service_call_history_persistence": True}
    triage_agent = agent("triage", instructions="Route the customer.", **persist)
    billing_agent = agent("billing", instructions="Answer billing questions.", **persist)
    workflow = (
        HandoffBuilder(participants=[triage_agent, billing_agent])
        .with_start_agent(triage_agent)
        .with_termination_condition(lambda conversation: len(conversation) >= 3)
        .build()
    )
    result = await workflow.run("Please re-send my invoice.")
    print(len(result.get_outputs()), "outputs")


def _ledger(satisfied: bool, looping: bool, speaker: str, ask: str) -> str:
    """A progress ledger as the Magentic manager's prompt asks for it (pure JSON)."""
    item = lambda answer: {"reason": "as the conversation shows", "answer": answer}  # noqa: E731
    return json.dumps(
        {
            "is_request_satisfied": item(satisfied),
            "is_in_loop": item(looping),
            "is_progress_being_made": item(not looping),
            "next_speaker": item(speaker),
            "instruction_or_question": item(ask),
        }
    )


def _text_of(message: dict[str, Any]) -> str:
    content = message.get("content")
    if isinstance(content, list):
        return " ".join(str(part.get("text", "")) for part in content if isinstance(part, dict))
    return str(content or "")


async def _magentic(loop: bool) -> None:
    from agent_framework.orchestrations import MagenticBuilder

    def manager(messages: list[dict[str, Any]], tools: list[Any]) -> Reply:
        last = _text_of(messages[-1])
        if "is_request_satisfied" in last:
            answered = any("Q3 revenue was" in _text_of(m) for m in messages)
            if loop:  # the researcher never finds it, and the ledger says so
                return Reply(_ledger(False, True, "researcher", "Find the Q3 revenue figure."))
            return Reply(_ledger(answered, False, "researcher", "Find the Q3 revenue figure."))
        if "We have completed the task" in last:
            return Reply("Q3 revenue was 4.2M.")
        return Reply("Facts: the Q3 report exists. Plan: the researcher looks it up.")

    def researcher(messages: list[dict[str, Any]], tools: list[Any]) -> Reply:
        if loop:
            return Reply("I could not open the Q3 report; please advise.")
        return Reply("Q3 revenue was 4.2M, per the finance report.")

    SCRIPTS["manager"], SCRIPTS["researcher"] = manager, researcher
    workflow = MagenticBuilder(
        participants=[agent("researcher", instructions="Look facts up.")],
        manager_agent=agent("manager", instructions="You coordinate the team."),
        max_round_count=12,
        max_stall_count=2,
        max_reset_count=2,
    ).build()
    result = await workflow.run("What was Q3 revenue?")
    print(len(result.get_outputs()), "outputs")


async def healthy_magentic() -> None:
    await _magentic(loop=False)


async def loop_magentic_stalls() -> None:
    await _magentic(loop=True)


async def loop_tool_repeat() -> None:
    SCRIPTS["researcher"] = lambda m, t: Reply(tool_calls=[("lookup", {"topic": "billing export"})])
    await agent("researcher", [lookup]).run("Who owns the billing export?")


async def blocking_tool() -> None:
    SCRIPTS["analyst"] = lambda m, t: (
        Reply("Sales by region: none.")
        if count_role(m, "tool")
        else Reply(tool_calls=[("query_db", {"sql": "SELECT region, SUM(total) FROM sales"})])
    )
    await agent("analyst", [query_db]).run("Sum the sales by region.")


async def input_wait() -> None:
    """A tool that needs approval: the run returns the request, and the program asks a person
    on stdin, which never answers."""
    SCRIPTS["support"] = lambda m, t: (
        Reply("Refund done.")
        if count_role(m, "tool")
        else Reply(tool_calls=[("refund", {"order": "A-1042"})])
    )
    support = agent("support", [refund])
    result = await support.run("Refund order A-1042.")
    for request in result.user_input_requests:
        answer = await asyncio.to_thread(input, f"Approve {request.function_call.name}? (y/n) ")
        print(answer)


async def error_auth() -> None:
    SCRIPTS["assistant"] = lambda m, t: Reply(status=401)
    await agent("assistant").run("Say hello.")


SCENARIOS: dict[str, Callable[[], Awaitable[None]]] = {
    f.__name__: f
    for f in (
        healthy_agent_tool,
        healthy_group_chat,
        healthy_sequential,
        healthy_handoff,
        healthy_magentic,
        loop_group_chat,
        loop_magentic_stalls,
        loop_tool_repeat,
        blocking_tool,
        input_wait,
        error_auth,
    )
}


def main() -> None:
    global PORT
    scenario, workdir = sys.argv[1:3]
    signal.signal(signal.SIGINT, signal.default_int_handler)
    provider = TracerProvider()
    exporter = FileSpanExporter(os.path.join(workdir, "traces.jsonl"))
    provider.add_span_processor(BatchSpanProcessor(exporter, schedule_delay_millis=1000))
    trace.set_tracer_provider(provider)
    enable_instrumentation(enable_sensitive_data=True)
    PORT = start()
    try:
        asyncio.run(SCENARIOS[scenario]())
    finally:
        provider.shutdown()


if __name__ == "__main__":
    main()
