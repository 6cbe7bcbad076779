"""AgentChat team kinds beyond round robin: Magentic-One, GraphFlow, SocietyOfMind, a selector
function, Swarm handoffs, parallel and slow tools, a long conversation. Healthy runs of each,
and the stalls that belong to a kind (Magentic-One's stall re-plans, a GraphFlow cycle).

Each function returns ``(team, task)`` as the scenarios in ``scenarios.py`` do; the model is the
scripted stub, addressed per agent (``client(name)``).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

from autogen_agentchat.agents import SocietyOfMindAgent
from autogen_agentchat.conditions import MaxMessageTermination, TextMentionTermination
from autogen_agentchat.teams import (
    DiGraphBuilder,
    GraphFlow,
    MagenticOneGroupChat,
    RoundRobinGroupChat,
    SelectorGroupChat,
    Swarm,
)
from stub import SCRIPTS, Reply, count_role

Make = Callable[..., Any]


def _last(messages: list[dict[str, Any]]) -> str:
    return str(messages[-1].get("content") or "") if messages else ""


def orchestrator(ledgers: Callable[[int], dict[str, Any]], final: str) -> Callable[..., Reply]:
    """Magentic-One's orchestrator model: facts, plan, a progress ledger per round (from
    ``ledgers(round)``), and the final answer; told apart by the orchestrator's own prompts."""
    rounds = {"n": 0}

    def respond(m: list[dict[str, Any]], t: list[Any]) -> Reply:
        prompt = _last(m)
        if "pre-survey" in prompt or "fact sheet" in prompt:
            return Reply("1. GIVEN OR VERIFIED FACTS\n- the sales export is in sales.csv")
        if "bullet-point plan" in prompt or "what went wrong" in prompt:
            return Reply("- analyst: compute totals per region\n- writer: summarise them")
        if "pure JSON" in prompt:
            rounds["n"] += 1
            return Reply(json.dumps(ledgers(rounds["n"])))
        return Reply(final)

    return respond


def ledger(satisfied: bool, loop: bool, progress: bool, speaker: str, ask: str) -> dict[str, Any]:
    return {
        "is_request_satisfied": {"reason": "checked the thread", "answer": satisfied},
        "is_in_loop": {"reason": "compared recent turns", "answer": loop},
        "is_progress_being_made": {"reason": "compared recent turns", "answer": progress},
        "next_speaker": {"reason": "their expertise", "answer": speaker},
        "instruction_or_question": {"reason": "next step", "answer": ask},
    }


async def healthy_magentic_one(agent: Make, client: Make) -> Any:
    steps = [
        ("analyst", "Compute the totals per region from sales.csv."),
        ("writer", "Summarise the totals in two sentences."),
    ]

    def ledgers(n: int) -> dict[str, Any]:
        if n > len(steps):
            return ledger(True, False, True, "writer", "done")
        who, ask = steps[n - 1]
        return ledger(False, False, True, who, ask)

    SCRIPTS["orchestrator"] = orchestrator(ledgers, "North 1.2M, South 0.9M; North leads by 33%.")
    SCRIPTS["analyst"] = lambda m, t: Reply("Totals: North 1.2M, South 0.9M.")
    SCRIPTS["writer"] = lambda m, t: Reply("North sold 1.2M and South 0.9M; North leads.")
    team = MagenticOneGroupChat(
        [agent("analyst"), agent("writer")], model_client=client("orchestrator"), max_turns=20
    )
    return team, "Summarise sales per region."


async def loop_magentic_one_stalls(agent: Make, client: Make) -> Any:
    """The orchestrator's own ledger says the team loops; it re-plans past max_stalls, again
    and again, until max_turns ends it."""
    SCRIPTS["orchestrator"] = orchestrator(
        lambda n: ledger(False, True, False, "browser", "Open the sales dashboard again."),
        "I could not get the numbers: the dashboard never loaded.",
    )
    SCRIPTS["browser"] = lambda m, t: Reply("The dashboard is still loading; no numbers yet.")
    SCRIPTS["analyst"] = lambda m, t: Reply("I need the dashboard numbers first.")
    team = MagenticOneGroupChat(
        [agent("browser"), agent("analyst")],
        model_client=client("orchestrator"),
        max_turns=14,
        max_stalls=2,
    )
    return team, "Read this quarter's sales from the dashboard."


async def healthy_graphflow(agent: Make, client: Make) -> Any:
    """A sequential graph: drafter -> checker -> publisher; it ends when the graph does."""
    SCRIPTS["drafter"] = lambda m, t: Reply("Draft: release 2.3 adds CSV export.")
    SCRIPTS["checker"] = lambda m, t: Reply("Checked: the draft is accurate.")
    SCRIPTS["publisher"] = lambda m, t: Reply("Published the release note.")
    drafter, checker, publisher = agent("drafter"), agent("checker"), agent("publisher")
    builder = DiGraphBuilder()
    builder.add_node(drafter).add_node(checker).add_node(publisher)
    builder.add_edge(drafter, checker).add_edge(checker, publisher)
    return GraphFlow([drafter, checker, publisher], graph=builder.build()), "Write the note."


async def loop_graphflow_cycle(agent: Make, client: Make) -> Any:
    """A writer/reviewer cycle whose exit edge needs APPROVE, which the reviewer never says."""
    SCRIPTS["writer"] = lambda m, t: Reply(f"Revised the summary (version {len(m)}).")
    SCRIPTS["reviewer"] = lambda m, t: Reply("REVISE: the numbers still do not match the table.")
    SCRIPTS["editor"] = lambda m, t: Reply("Final edit done.")
    writer, reviewer, editor = agent("writer"), agent("reviewer"), agent("editor")
    builder = DiGraphBuilder()
    builder.add_node(writer).add_node(reviewer).add_node(editor)
    builder.add_edge(writer, reviewer)
    builder.add_edge(reviewer, editor, condition=lambda msg: "APPROVE" in msg.to_model_text())
    builder.add_edge(reviewer, writer, condition=lambda msg: "APPROVE" not in msg.to_model_text())
    builder.set_entry_point(writer)
    # A cycle needs a bound (GraphFlow refuses one without): a generous one, as in production.
    flow = GraphFlow(
        [writer, reviewer, editor],
        graph=builder.build(),
        termination_condition=MaxMessageTermination(500),
    )
    return flow, "Summarise the quarter."


async def healthy_society_of_mind(agent: Make, client: Make) -> Any:
    """An inner round-robin team wrapped as one agent, then a reviewer outside it."""
    SCRIPTS["researcher"] = lambda m, t: Reply("Found: churn fell from 4% to 3%.")
    SCRIPTS["critic"] = lambda m, t: Reply("Looks right. DONE")
    SCRIPTS["society"] = lambda m, t: Reply("Churn fell from 4% to 3% this quarter.")
    SCRIPTS["approver"] = lambda m, t: Reply("APPROVE")
    inner = RoundRobinGroupChat(
        [agent("researcher"), agent("critic")], termination_condition=TextMentionTermination("DONE")
    )
    society = SocietyOfMindAgent("society", team=inner, model_client=client("society"))
    team = RoundRobinGroupChat(
        [society, agent("approver")], termination_condition=TextMentionTermination("APPROVE")
    )
    return team, "What happened to churn?"


async def healthy_selector_function(agent: Make, client: Make) -> Any:
    """A selector function picks the planner first and returns None afterwards (the model
    selects): a custom speaker function in a healthy run."""
    order = iter(["coder", "reviewer"])
    SCRIPTS["selector"] = lambda m, t: Reply(next(order, "reviewer"))
    SCRIPTS["planner"] = lambda m, t: Reply("Plan: add retries to the uploader.")
    SCRIPTS["coder"] = lambda m, t: Reply("Added retries with back-off to upload().")
    SCRIPTS["reviewer"] = lambda m, t: Reply("APPROVE: retries are bounded.")

    def first_planner(messages: Any) -> str | None:
        return "planner" if len(messages) == 1 else None

    team = SelectorGroupChat(
        [agent(n) for n in ("planner", "coder", "reviewer")],
        model_client=client("selector"),
        selector_func=first_planner,
        termination_condition=TextMentionTermination("APPROVE") | MaxMessageTermination(10),
    )
    return team, "Make uploads survive flaky networks."


async def healthy_swarm_handoffs(agent: Make, client: Make) -> Any:
    """triage hands to billing, billing answers and hands back, triage ends the chat."""

    def script(reply: Callable[[list[dict[str, Any]]], Reply]) -> Callable[..., Reply]:
        return lambda m, t: reply(m)

    SCRIPTS["triage"] = script(
        lambda m: (
            Reply("Handing over to billing.", [("transfer_to_billing", {})])
            if count_role(m, "tool") == 0
            else Reply("Your refund is on its way. TERMINATE")
        )
    )
    SCRIPTS["billing"] = script(
        lambda m: Reply("Refund issued; back to triage.", [("transfer_to_triage", {})])
    )
    team = Swarm(
        [
            agent("triage", handoffs=["billing"]),
            agent("billing", handoffs=["triage"]),
        ],
        termination_condition=TextMentionTermination("TERMINATE"),
    )
    return team, "I was charged twice."


async def healthy_parallel_tools(agent: Make, client: Make) -> Any:
    """One model reply asks for two tools at once; both run, then the agent answers."""

    def weather(city: str) -> str:
        return f"{city}: 18C, clear"

    def population(city: str) -> str:
        return f"{city}: 2.1 million"

    SCRIPTS["guide"] = lambda m, t: (
        Reply(None, [("weather", {"city": "Paris"}), ("population", {"city": "Paris"})])
        if count_role(m, "tool") == 0
        else Reply("Paris: 18C and clear, 2.1 million people. TERMINATE")
    )
    team = RoundRobinGroupChat(
        [agent("guide", [weather, population], reflect_on_tool_use=True)],
        termination_condition=TextMentionTermination("TERMINATE"),
    )
    return team, "Tell me about Paris."


async def healthy_slow_tool(agent: Make, client: Make) -> Any:
    """A tool that takes 3 s and returns: slow, not stuck."""

    def export_report(quarter: str) -> str:
        time.sleep(3)
        return f"report for {quarter}: 42 pages"

    SCRIPTS["reporter"] = lambda m, t: (
        Reply(None, [("export_report", {"quarter": "Q3"})])
        if count_role(m, "tool") == 0
        else Reply("The Q3 report is ready (42 pages). TERMINATE")
    )
    team = RoundRobinGroupChat(
        [agent("reporter", [export_report], reflect_on_tool_use=True)],
        termination_condition=TextMentionTermination("TERMINATE"),
    )
    return team, "Export the Q3 report."


async def healthy_long_conversation(agent: Make, client: Make) -> Any:
    """Forty turns of real work that finish: progress messages share a template and differ in
    their numbers (a batch job reporting each batch)."""
    SCRIPTS["loader"] = lambda m, t: Reply(
        f"Loaded batch {len(m) // 2} of 20: {1000 + 37 * len(m)} rows, 0 rejected."
    )
    SCRIPTS["validator"] = lambda m, t: Reply(
        "All 20 batches validated. DONE"
        if len(m) >= 40
        else f"Batch {len(m) // 2} validated: checksums match ({len(m) * 7 % 97} ms)."
    )
    team = RoundRobinGroupChat(
        [agent("loader"), agent("validator")],
        termination_condition=TextMentionTermination("DONE") | MaxMessageTermination(60),
    )
    return team, "Load the 20 batches and validate each."


TEAM_KINDS = {
    f.__name__: f
    for f in (
        healthy_magentic_one,
        loop_magentic_one_stalls,
        healthy_graphflow,
        loop_graphflow_cycle,
        healthy_society_of_mind,
        healthy_selector_function,
        healthy_swarm_handoffs,
        healthy_parallel_tools,
        healthy_slow_tool,
        healthy_long_conversation,
    )
}
