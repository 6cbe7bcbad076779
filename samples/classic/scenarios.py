"""Real classic-AutoGen (autogen 0.14.x) programs, one per stall class plus healthy runs.

Run as ``python scenarios.py SCENARIO MODE WORKDIR`` with MODE ``file`` (console, runtime
file log, IOStream JSON events, chat-history JSON) or ``sqlite`` (runtime sqlite database).
``record.py`` runs each one and stops the stuck ones the way production does.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import sys
import time
from collections.abc import Callable
from typing import Any

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import autogen
from autogen import runtime_logging
from autogen.io import IOConsole, IOStream
from scripted_client import SCRIPTS, Reply, ScriptedClient, llm_config

History = dict[str, Callable[[], Any]]


class JsonEventTee(IOConsole):
    """What users install to keep a machine-readable copy: every IOStream event as one JSON line."""

    def __init__(self, path: str) -> None:
        self._file = open(path, "a", encoding="utf-8")  # noqa: SIM115

    def send(self, message: Any) -> None:
        self._file.write(message.model_dump_json() + "\n")
        self._file.flush()
        super().send(message)


def is_terminate(message: dict[str, Any]) -> bool:
    return "TERMINATE" in (message.get("content") or "")


def assistant(name: str, system: str = "You are a helpful assistant.") -> autogen.AssistantAgent:
    agent = autogen.AssistantAgent(name, system_message=system, llm_config=llm_config(name))
    agent.register_model_client(ScriptedClient)
    return agent


def proxy(name: str, mode: str = "NEVER", **kwargs: Any) -> autogen.UserProxyAgent:
    kwargs.setdefault("is_termination_msg", is_terminate)
    return autogen.UserProxyAgent(
        name, human_input_mode=mode, code_execution_config=False, **kwargs
    )


def tool(func: Callable[..., str], caller: Any, executor: Any, description: str) -> None:
    """Register a tool; this rebuilds the caller's client, so re-register the scripted one."""
    autogen.register_function(func, caller=caller, executor=executor, description=description)
    caller.register_model_client(ScriptedClient)


def count_role(messages: list[dict[str, Any]], role: str) -> int:
    return sum(1 for m in messages if m.get("role") == role)


def group(agents: list[Any], method: Any = "round_robin", max_round: int = 1000, **kw: Any):
    extra: dict[str, Any] = {}
    if method == "auto":
        extra = {
            "select_speaker_auto_llm_config": llm_config("selector"),
            "select_speaker_auto_model_client_cls": ScriptedClient,
        }
    chat = autogen.GroupChat(
        agents=agents,
        messages=[],
        max_round=max_round,
        speaker_selection_method=method,
        **extra,
        **kw,
    )
    manager = autogen.GroupChatManager(
        groupchat=chat, llm_config=False, is_termination_msg=is_terminate
    )
    return chat, manager


# --- healthy runs -------------------------------------------------------------------------


def healthy_tool_terminate(history: History) -> None:
    """A tool-using assistant that answers and says TERMINATE."""
    helper = assistant("weather_bot")
    user = proxy("user")

    def get_weather(city: str) -> str:
        return {"Paris": "12°C, light rain", "Berlin": "7°C, overcast"}.get(city, "unknown")

    tool(get_weather, helper, user, "Weather")

    def script(messages: list[dict[str, Any]], tools: list[Any]) -> Reply:
        done = count_role(messages, "tool")
        if done == 0:
            return Reply(tool_calls=[("get_weather", {"city": "Paris"})])
        if done == 1:
            return Reply("Paris checked, now Berlin.", [("get_weather", {"city": "Berlin"})])
        return Reply("Paris is 12°C with light rain; Berlin is 7°C and overcast. TERMINATE")

    SCRIPTS["weather_bot"] = script
    history["chat"] = lambda: helper.chat_messages[user]
    result = user.initiate_chat(helper, message="Compare the weather in Paris and Berlin.")
    history["chat"] = lambda: result.chat_history


def healthy_groupchat_maxround(history: History) -> None:
    """Round-robin group chat that ends at max_round with distinct contributions."""
    lines = {
        "planner": ["Plan: 1) parse the CSV, 2) compute monthly totals, 3) chart them."],
        "coder": ["```python\nimport csv\nrows = list(csv.DictReader(open('sales.csv')))\n```"],
        "reviewer": ["Looks right; consider grouping by month with itertools.groupby."],
    }
    agents = [proxy("user", max_consecutive_auto_reply=0)]
    for name, texts in lines.items():
        agents.append(assistant(name))
        SCRIPTS[name] = lambda m, t, texts=texts, name=name: Reply(
            texts[0] + f" (round {len(m)})" if name != "coder" else texts[0]
        )
    chat, manager = group(agents, max_round=4)
    history["chat"] = lambda: chat.messages
    agents[0].initiate_chat(manager, message="Summarise monthly sales from sales.csv.")


def healthy_groupchat_auto(history: History) -> None:
    """'auto' speaker selection that visits every member and ends on TERMINATE."""
    order = iter(["planner", "coder", "reviewer", "planner"])
    SCRIPTS["selector"] = lambda m, t: Reply(next(order, "planner"))
    SCRIPTS["planner"] = lambda m, t: (
        Reply("Plan: split the report into intro, method, results.")
        if count_role(m, "assistant") == 0 or len(m) < 4
        else Reply("All three parts are done and reviewed. TERMINATE")
    )
    SCRIPTS["coder"] = lambda m, t: Reply("Drafted the method section with the benchmark table.")
    SCRIPTS["reviewer"] = lambda m, t: Reply("Reviewed: the results section cites the right runs.")
    agents = [proxy("user", max_consecutive_auto_reply=0)] + [
        assistant(n) for n in ("planner", "coder", "reviewer")
    ]
    chat, manager = group(agents, method="auto", max_round=12)
    history["chat"] = lambda: chat.messages
    agents[0].initiate_chat(manager, message="Write the quarterly report.")


# --- loops --------------------------------------------------------------------------------


def loop_groupchat_auto(history: History) -> None:
    """The selector keeps alternating two members who paraphrase each other; nobody ends it."""
    turn = {"n": 0}

    def selector(messages: list[dict[str, Any]], tools: list[Any]) -> Reply:
        turn["n"] += 1
        return Reply("planner" if turn["n"] % 2 else "coder")

    planner_lines = [
        "Let's revisit the plan: step {n} needs the parser fixed before we continue.",
        "Before moving on, the parser from step {n} must be fixed; let's revisit the plan.",
        "We should go back to the plan. Step {n} depends on fixing the parser first.",
    ]
    coder_lines = [
        "I can implement step {n} once the plan is final; please confirm the parser approach.",
        "Please confirm the parser approach and I'll implement step {n} after the plan is final.",
        "Once you confirm how the parser works, step {n} is ready to implement.",
    ]
    SCRIPTS["selector"] = selector
    SCRIPTS["planner"] = lambda m, t: Reply(planner_lines[len(m) % 3].format(n=2 + len(m) % 2))
    SCRIPTS["coder"] = lambda m, t: Reply(coder_lines[len(m) % 3].format(n=2 + len(m) % 2))
    SCRIPTS["reviewer"] = lambda m, t: Reply("Reviewed.")
    agents = [proxy("user", max_consecutive_auto_reply=0)] + [
        assistant(n) for n in ("planner", "coder", "reviewer")
    ]
    chat, manager = group(agents, method="auto")
    history["chat"] = lambda: chat.messages
    agents[0].initiate_chat(manager, message="Build the CSV importer.")


def loop_tool_repeat(history: History) -> None:
    """The assistant polls the same tool with the same arguments until auto-replies run out."""
    helper = assistant("ops_bot")
    runner = proxy("runner", max_consecutive_auto_reply=8)

    def check_status(job: str) -> str:
        return f"job {job}: status=pending, queued_at=2026-11-24T20:{int(time.time()) % 60:02d}:00Z"

    tool(check_status, helper, runner, "Status")
    SCRIPTS["ops_bot"] = lambda m, t: Reply(
        "Still pending, checking again.", [("check_status", {"job": "build-42"})]
    )
    history["chat"] = lambda: helper.chat_messages[runner]
    result = runner.initiate_chat(helper, message="Tell me when build-42 is finished.")
    history["chat"] = lambda: {
        "task": "build-42",
        "result": {
            "chat_history": result.chat_history,
            "summary": result.summary,
            "cost": result.cost,
        },
    }


def loop_twoagent_sigint(history: History) -> None:
    """Writer and critic hand the same draft back and forth forever."""
    writer, critic = assistant("writer"), assistant("critic")
    critic._is_termination_msg = is_terminate  # type: ignore[attr-defined]
    drafts = [
        "Revised intro (v{n}): Our tool reads saved logs and explains why a run stalled.",
        "Intro, revision {n}: the tool reads the saved logs and explains why runs stall.",
    ]
    critiques = [
        "Close, but tighten the intro again (pass {n}).",
        "Almost there; the intro still needs tightening (pass {n}).",
    ]
    SCRIPTS["writer"] = lambda m, t: Reply(drafts[len(m) % 2].format(n=len(m)))
    SCRIPTS["critic"] = lambda m, t: Reply(critiques[len(m) % 2].format(n=len(m)))
    history["chat"] = lambda: writer.chat_messages[critic]
    critic.initiate_chat(writer, message="Write a two-sentence intro for the README.")


# --- blocking tools -----------------------------------------------------------------------


def blocking_tool_sigint(history: History) -> None:
    """A synchronous tool that sleeps (a hung HTTP call, in production)."""
    helper = assistant("analyst")
    user = proxy("user")

    def fetch_report(url: str) -> str:
        time.sleep(600)
        return "report"

    tool(fetch_report, helper, user, "Fetch")
    SCRIPTS["analyst"] = lambda m, t: Reply(
        "Fetching the report.", [("fetch_report", {"url": "https://intranet/reports/q3.pdf"})]
    )
    history["chat"] = lambda: helper.chat_messages[user]
    user.initiate_chat(helper, message="Summarise the Q3 report.")


def blocking_tool_groupchat_sigkill(history: History) -> None:
    """A group-chat tool blocked on a socket read that never returns; the run is SIGKILLed."""
    reader, _writer = socket.socketpair()

    def query_db(sql: str) -> str:
        return reader.recv(1024).decode()

    planner = assistant("planner")
    executor = proxy("executor")
    reviewer = assistant("reviewer")
    tool(query_db, planner, executor, "SQL")
    SCRIPTS["planner"] = lambda m, t: Reply(
        "I'll pull the numbers.", [("query_db", {"sql": "SELECT region, SUM(total) FROM sales"})]
    )
    SCRIPTS["reviewer"] = lambda m, t: Reply("Numbers look fine.")
    chat, manager = group(
        [proxy("user", max_consecutive_auto_reply=0), planner, executor, reviewer]
    )
    history["chat"] = lambda: chat.messages
    chat.agents[0].initiate_chat(manager, message="Sales by region, please.")


# --- human input --------------------------------------------------------------------------


def input_wait_always(history: History) -> None:
    """human_input_mode='ALWAYS' in a service whose stdin never answers."""
    helper = assistant("assistant")
    user = proxy("user_proxy", mode="ALWAYS")
    SCRIPTS["assistant"] = lambda m, t: Reply("Here is the outline. Shall I write section 2?")
    history["chat"] = lambda: helper.chat_messages[user]
    user.initiate_chat(helper, message="Outline a blog post on log analysis.")


def input_wait_eof(history: History) -> None:
    """human_input_mode='TERMINATE' run as a batch job: stdin is at EOF."""
    helper = assistant("assistant")
    user = proxy("user_proxy", mode="TERMINATE")
    SCRIPTS["assistant"] = lambda m, t: Reply("The summary is ready. TERMINATE")
    history["chat"] = lambda: helper.chat_messages[user]
    user.initiate_chat(helper, message="Summarise yesterday's incidents.")


# --- context explosion --------------------------------------------------------------------


def context_explosion_tool(history: History) -> None:
    """A paging tool whose pages double in size until the prompt exceeds the model limit."""
    helper = assistant("log_reader")
    user = proxy("user")
    pages = {"n": 0}

    def read_log(page: int) -> str:
        pages["n"] += 1
        line = "2026-11-24 03:12:07 WARN worker-7 retrying upstream call after timeout\n"
        return line * (20 * 2 ** pages["n"])

    tool(read_log, helper, user, "Read logs")
    SCRIPTS["log_reader"] = lambda m, t: Reply(
        f"Reading page {count_role(m, 'tool') + 1}.",
        [("read_log", {"page": count_role(m, "tool") + 1})],
    )
    history["chat"] = lambda: helper.chat_messages[user]
    user.initiate_chat(helper, message="Find the root cause in last night's worker logs.")


# --- recursive re-entry -------------------------------------------------------------------


def reentry_sync(history: History) -> None:
    """A tool whose executing agent posts a sub-task to the manager of the chat it runs in."""
    planner = assistant("planner")
    tool_agent = proxy("tool_agent")

    def next_speaker(last: Any, chat: Any) -> Any:
        return tool_agent if last is planner else planner

    chat, manager = group(
        [proxy("user", max_consecutive_auto_reply=0), planner, tool_agent], method=next_speaker
    )

    def run_subtask(task: str) -> str:
        tool_agent.send(f"Sub-task: {task}", manager, request_reply=True)
        return "sub-task done"

    tool(run_subtask, planner, tool_agent, "Sub")
    SCRIPTS["planner"] = lambda m, t: Reply(
        "Delegating.", [("run_subtask", {"task": "collect the failing test names"})]
    )
    history["chat"] = lambda: chat.messages
    chat.agents[0].initiate_chat(manager, message="Fix the flaky tests.")


SCENARIOS: dict[str, Callable[[History], None]] = {
    f.__name__: f
    for f in (
        healthy_tool_terminate,
        healthy_groupchat_maxround,
        healthy_groupchat_auto,
        loop_groupchat_auto,
        loop_tool_repeat,
        loop_twoagent_sigint,
        blocking_tool_sigint,
        blocking_tool_groupchat_sigkill,
        input_wait_always,
        input_wait_eof,
        context_explosion_tool,
        reentry_sync,
    )
}


def main() -> None:
    scenario, mode, workdir = sys.argv[1:4]
    # Background jobs start with SIGINT ignored; restore Ctrl-C as at a terminal.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    os.chdir(workdir)
    if mode == "file":
        runtime_logging.start(logger_type="file", config={"filename": "runtime.log"})
        IOStream.set_global_default(JsonEventTee("events.jsonl"))
    else:
        runtime_logging.start(logger_type="sqlite", config={"dbname": "logs.db"})
    history: History = {}
    try:
        SCENARIOS[scenario](history)
    finally:
        if mode == "file" and "chat" in history:
            with open("chat_history.json", "w", encoding="utf-8") as out:
                json.dump(history["chat"](), out, indent=2, default=str)
        runtime_logging.stop()


if __name__ == "__main__":
    main()
