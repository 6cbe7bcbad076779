"""One classic-API (0.2) program for every release line: pyautogen 0.2.0 to 0.2.35, ag2 0.3+.

Run inside a release's own venv as ``python program.py SCENARIO MODE WORKDIR``; MODE is
``file`` (console, runtime file log where the release has one, chat history) or ``sqlite``
(runtime_logging database, where the release has one). The model is the scripted
OpenAI-compatible stub on 127.0.0.1, reached by the release's real OpenAI client. Features are
detected, not assumed: tools where ``register_function`` exists (functions before), runtime
logging where ``autogen.runtime_logging`` exists, the file logger where ``start`` takes it.
"""

from __future__ import annotations

import inspect
import json
import os
import sys
import time
from collections.abc import Callable
from typing import Any

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "agentchat"))

import autogen  # noqa: E402
import stub  # noqa: E402
from stub import SCRIPTS, Reply  # noqa: E402

PORT = stub.start()
History = dict[str, Callable[[], Any]]
# ag2 0.9+ (and autogen 0.9+) validate base_url into a pydantic Url that their SQLite logger
# cannot serialise (log_new_wrapper raises TypeError): there the stub is reached through
# OPENAI_BASE_URL and told the agent by the model name (``_sqlite_takes_base_url``).
BY_MODEL = False


def slug(name: str) -> str:
    return "".join(c if c.isalnum() else "_" for c in name.encode("ascii", "replace").decode())


def llm_config(
    name: str, functions: list[dict[str, Any]] | None = None, retries: int | None = None
) -> dict[str, Any]:
    endpoint = (
        {"model": f"gpt-4o-mini@{slug(name)}"}
        if BY_MODEL
        else {"model": "gpt-4o-mini", "base_url": f"http://127.0.0.1:{PORT}/{slug(name)}/v1"}
    )
    config: dict[str, Any] = {
        "config_list": [
            {**endpoint, "api_key": "sk-stub", **({"max_retries": retries} if retries else {})}
        ],
        "cache_seed": None,  # a cached reply would replay across runs
        "timeout": 30,
    }
    if functions:
        config["functions"] = functions
    return config


def script(name: str, fn: Callable[[list[dict[str, Any]], list[Any]], Reply]) -> None:
    SCRIPTS[slug(name)] = fn


def is_terminate(message: dict[str, Any]) -> bool:
    return "TERMINATE" in (message.get("content") or "")


def named(preferred: str, plain: str) -> str:
    """``preferred`` (spaces, unicode) where the release accepts it as an agent name."""
    try:
        autogen.AssistantAgent(preferred, llm_config=llm_config(preferred))
        return preferred
    except Exception:  # a release that validates names
        return plain


def assistant(name: str, **kw: Any) -> Any:
    config = llm_config(name, kw.pop("functions", None), kw.pop("retries", None))
    return autogen.AssistantAgent(name, llm_config=config, **kw)


def proxy(name: str, mode: str = "NEVER", **kw: Any) -> Any:
    kw.setdefault("is_termination_msg", is_terminate)
    return autogen.UserProxyAgent(name, human_input_mode=mode, code_execution_config=False, **kw)


def code_runner(**kw: Any) -> Any:
    """A user proxy that runs the code blocks it receives, locally, in the run's directory."""
    work = os.path.join(sys.argv[3], "code")
    return autogen.UserProxyAgent(
        "user",
        human_input_mode="NEVER",
        is_termination_msg=is_terminate,
        code_execution_config={"work_dir": work, "use_docker": False},
        **kw,
    )


def add_tool(fn: Callable[..., str], caller: Any, executor: Any, schema: dict[str, Any]) -> Any:
    """A tool (``register_function``) where the release has one; else a function in
    ``llm_config`` and the executor's ``function_map``, as 0.2.0-0.2.x did."""
    if hasattr(autogen, "register_function"):
        autogen.register_function(
            fn, caller=caller, executor=executor, description=schema["description"]
        )
        return caller
    executor.register_function(function_map={fn.__name__: fn})
    caller.llm_config["functions"] = [{"name": fn.__name__, **schema}]
    caller.client = autogen.OpenAIWrapper(**caller.llm_config)
    return caller


def one_string(description: str, param: str) -> dict[str, Any]:
    """A tool schema with one required string parameter."""
    properties = {param: {"type": "string"}}
    return {
        "description": description,
        "parameters": {"type": "object", "properties": properties, "required": [param]},
    }


def converse(history: History, initiator: Any, partner: Any, task: str) -> None:
    """A two-agent chat; its history (what a user would save) kept as it grows."""
    history["chat"] = lambda: partner.chat_messages[initiator]
    initiator.initiate_chat(partner, message=task)


def count_role(messages: list[dict[str, Any]], *roles: str) -> int:
    return sum(1 for m in messages if m.get("role") in roles)


def group(agents: list[Any], max_round: int, method: Any = "round_robin") -> tuple[Any, Any]:
    chat = autogen.GroupChat(
        agents=agents, messages=[], max_round=max_round, speaker_selection_method=method
    )
    manager = autogen.GroupChatManager(
        groupchat=chat, llm_config=False, is_termination_msg=is_terminate
    )
    return chat, manager


# --- scenarios -------------------------------------------------------------------------------


def healthy_twoagent(history: History) -> None:
    analyst = assistant(named("Data Analyst", "data_analyst"))
    user = proxy("user")
    replies = iter(
        [
            "Monthly revenue grew 4% in March; the April dip follows the price change.",
            "The dip is within the seasonal range of the last three years. TERMINATE",
        ]
    )
    script(analyst.name, lambda m, t: Reply(next(replies, "TERMINATE")))
    converse(history, user, analyst, "Explain the revenue trend.")


def healthy_tool(history: History) -> None:
    helper = assistant("weather_bot")
    user = proxy("user")

    def get_weather(city: str) -> str:
        return {"Paris": "12C, light rain", "Berlin": "7C, overcast"}.get(city, "unknown")

    schema = one_string("Weather of a city", "city")
    add_tool(get_weather, helper, user, schema)

    def reply(messages: list[dict[str, Any]], tools: list[Any]) -> Reply:
        done = count_role(messages, "tool", "function")
        if done == 0:
            return Reply(None, [("get_weather", {"city": "Paris"})])
        if done == 1:
            return Reply(None, [("get_weather", {"city": "Berlin"})])
        return Reply("Paris 12C and rainy; Berlin 7C and overcast. TERMINATE")

    script(helper.name, reply)
    converse(history, user, helper, "Compare the weather in Paris and Berlin.")


def healthy_groupchat_maxround(history: History) -> None:
    names = [named("Planner Ölund", "planner"), "coder", named("code.reviewer", "reviewer")]
    texts = {
        names[0]: "Plan: parse the CSV, total by month, chart it.",
        names[1]: "```python\nrows = list(csv.DictReader(open('sales.csv')))\n```",
        names[2]: "Reviewed: group by month with itertools.groupby.",
    }
    agents = [proxy("user", max_consecutive_auto_reply=0)] + [assistant(n) for n in names]
    for name, text in texts.items():
        script(name, lambda m, t, text=text: Reply(text))
    chat, manager = group(agents, max_round=4)
    history["chat"] = lambda: chat.messages
    agents[0].initiate_chat(manager, message="Summarise monthly sales from sales.csv.")


def loop_groupchat(history: History) -> None:
    lines = {
        "planner": [
            "Let's revisit the plan: step {n} needs the parser fixed before we continue.",
            "Before moving on, the parser from step {n} must be fixed; let's revisit the plan.",
        ],
        "coder": [
            "I can implement step {n} once the plan is final; please confirm the parser approach.",
            "Please confirm the parser approach and I'll implement step {n} after the plan is final.",
        ],
    }
    # The user's turn in the round robin is an empty auto-reply: nobody ends the chat.
    agents = [proxy("user", max_consecutive_auto_reply=10_000)] + [assistant(n) for n in lines]
    for name, texts in lines.items():
        script(name, lambda m, t, texts=texts: Reply(texts[len(m) % 2].format(n=2 + len(m) % 2)))
    chat, manager = group(agents, max_round=10_000)
    history["chat"] = lambda: chat.messages
    agents[0].initiate_chat(manager, message="Build the CSV importer.")


def loop_tool_repeat(history: History) -> None:
    helper = assistant("ops_bot")
    runner = proxy("runner", max_consecutive_auto_reply=10_000)

    def check_status(job: str) -> str:
        return f"job {job}: status=pending"

    schema = one_string("Status of a build job", "job")
    add_tool(check_status, helper, runner, schema)
    script(helper.name, lambda m, t: Reply(None, [("check_status", {"job": "build-42"})]))
    converse(history, runner, helper, "Tell me when build-42 is finished.")


def blocking_tool(history: History) -> None:
    helper = assistant("analyst")
    user = proxy("user")

    def query_db(sql: str) -> str:
        time.sleep(600)  # a query that never comes back
        return "rows"

    schema = one_string("Run SQL", "sql")
    add_tool(query_db, helper, user, schema)
    script(
        helper.name,
        lambda m, t: Reply(None, [("query_db", {"sql": "SELECT region, SUM(total) FROM sales"})]),
    )
    converse(history, user, helper, "Sales by region, please.")


def input_wait(history: History) -> None:
    helper = assistant("assistant")
    user = proxy(named("Ops Lead", "ops_lead"), mode="ALWAYS")
    script(helper.name, lambda m, t: Reply("Draft ready: rollout in three waves. Approve?"))
    converse(history, user, helper, "Prepare the rollout plan.")


# --- team kinds: healthy runs a stall detector must leave alone ---------------------------------


class Unsupported(Exception):
    """The release has no such feature: the scenario is not recorded for it."""


def healthy_nested_chat(history: History) -> None:
    """The assistant's reply comes from a nested chat (writer -> critic, one turn) that the
    user's message triggers; the outer chat then ends."""
    writer, critic = assistant("writer"), assistant("critic")
    lead = assistant("lead")
    user = proxy("user", max_consecutive_auto_reply=0)  # the lead's one answer ends the chat
    if not hasattr(lead, "register_nested_chats"):
        raise Unsupported("register_nested_chats")
    script(
        writer.name, lambda m, t: Reply("Draft: the outage lasted 40 minutes; DNS was the cause.")
    )
    script(critic.name, lambda m, t: Reply("Accurate; add that TTLs were lowered."))
    script(lead.name, lambda m, t: Reply("TERMINATE"))
    lead.register_nested_chats(
        [
            {
                "recipient": critic,
                "message": lambda *a: "Review the draft.",
                "max_turns": 1,
                "summary_method": "last_msg",
                "sender": writer,
            }
        ],
        trigger=user,
    )
    converse(history, user, lead, "Write the outage summary.")


def healthy_sequential_chats(history: History) -> None:
    """Two chats in sequence (initiate_chats), the first one's summary carried into the second."""
    user = proxy("user")
    researcher, writer = assistant("researcher"), assistant("writer")
    if not hasattr(user, "initiate_chats"):
        raise Unsupported("initiate_chats")
    script(researcher.name, lambda m, t: Reply("Churn fell from 4% to 3% this quarter. TERMINATE"))
    script(writer.name, lambda m, t: Reply("Churn improved by a point, to 3%. TERMINATE"))
    history["chat"] = lambda: writer.chat_messages.get(user, [])
    user.initiate_chats(
        [
            {
                "recipient": researcher,
                "message": "Find this quarter's churn.",
                "max_turns": 1,
                "summary_method": "last_msg",
            },
            {
                "recipient": writer,
                "message": "Write one sentence about it.",
                "max_turns": 1,
                "summary_method": "last_msg",
            },
        ]
    )


def healthy_custom_speaker(history: History) -> None:
    """A group chat whose speaker_selection_method is a function: planner, coder, reviewer."""
    names = ["planner", "coder", "reviewer"]
    agents = [proxy("user", max_consecutive_auto_reply=0)] + [assistant(n) for n in names]
    texts = {
        "planner": "Plan: add a retry to the uploader.",
        "coder": "Added a bounded retry with back-off.",
        "reviewer": "Looks good. TERMINATE",
    }
    for name, text in texts.items():
        script(name, lambda m, t, text=text: Reply(text))

    def next_speaker(last: Any, chat: Any) -> Any:
        order = [a for a in chat.agents if a.name in names]
        if last.name not in names:
            return order[0]
        return order[(names.index(last.name) + 1) % len(order)]

    # Releases before callable speaker selection accept the function and crash on it later
    # (pyautogen 0.2.0-0.2.10: AttributeError 'function' object has no attribute 'lower').
    if "callable(" not in inspect.getsource(autogen.GroupChat):
        raise Unsupported("speaker_selection_method as a function")
    chat, manager = group(agents, max_round=8, method=next_speaker)
    history["chat"] = lambda: chat.messages
    agents[0].initiate_chat(manager, message="Make uploads survive flaky networks.")


def healthy_code_execution(history: History) -> None:
    """The assistant writes a code block, the user proxy runs it locally, then it ends."""
    helper = assistant("coder")
    user = code_runner()

    def reply(messages: list[dict[str, Any]], tools: list[Any]) -> Reply:
        if "exitcode: 0" in str(messages[-1].get("content")):
            return Reply("The script printed the total: 42. TERMINATE")
        return Reply("Run this:\n```python\nprint(sum([10, 12, 20]))\n```")

    script(helper.name, reply)
    converse(history, user, helper, "Add up 10, 12 and 20 with Python.")


def loop_failing_code(history: History) -> None:
    """The coder re-sends the same broken script after every failure, until the user proxy's
    max_consecutive_auto_reply ends the chat: a loop its own limit stopped."""
    helper = assistant("coder")
    user = code_runner(max_consecutive_auto_reply=8)
    broken = "```python\nsales = [10, 12, 20]\nprint(sum(sale))\n```"

    def reply(messages: list[dict[str, Any]], tools: list[Any]) -> Reply:
        if "exitcode: 1" in str(messages[-1].get("content")):
            return Reply(f"Sorry about that, here is the fixed script:\n{broken}")
        return Reply(f"Run this:\n{broken}")

    script(helper.name, reply)
    converse(history, user, helper, "Add up this quarter's sales with Python.")


def context_explosion_quoting(history: History) -> None:
    """Two agents that quote each other's whole message before adding theirs: each message
    carries the one before it, until the prompt passes the model's window (the stub's 400)."""
    writer, critic = assistant("writer"), assistant("critic")

    def quoting(note: str) -> Callable[[list[dict[str, Any]], list[Any]], Reply]:
        def reply(messages: list[dict[str, Any]], tools: list[Any]) -> Reply:
            last = str(messages[-1].get("content") or "")
            return Reply(f"> {last}\n\n{note} Revised draft, round {len(messages)}.\n{last}")

        return reply

    script(writer.name, quoting("Taking the critique into account."))
    script(critic.name, quoting("Critique of the draft above:"))
    writer.max_consecutive_auto_reply = critic.max_consecutive_auto_reply = 100
    history["chat"] = lambda: critic.chat_messages[writer]
    writer.initiate_chat(critic, message="Draft the incident summary for the outage.")


def healthy_growing_pages(history: History) -> None:
    """A reader fetches five unrelated pages that happen to grow in size, then answers."""
    helper = assistant("reader")
    user = proxy("user")
    sizes = {"1": 900, "2": 1400, "3": 2100, "4": 3300, "5": 5000}
    topics = ["billing", "search", "login", "exports", "alerts"]

    def fetch_page(page: str) -> str:
        topic = topics[int(page) - 1]
        line = f"{topic}: page {page} notes on the {topic} service, owners and runbooks. "
        return (line * (sizes[page] // len(line) + 1))[: sizes[page]]

    add_tool(fetch_page, helper, user, one_string("Fetch a wiki page", "page"))

    def reply(messages: list[dict[str, Any]], tools: list[Any]) -> Reply:
        fetched = count_role(messages, "tool", "function")
        if fetched >= 5:
            return Reply("All five pages read: the runbooks are current. TERMINATE")
        return Reply(None, [("fetch_page", {"page": str(fetched + 1)})])

    script(helper.name, reply)
    converse(
        history, user, helper, "Read the five service pages and tell me if runbooks are current."
    )


def healthy_long_conversation(history: History) -> None:
    """Forty turns of varied work that finish: a migration, table by table."""
    helper = assistant("migrator")
    user = proxy("user", max_consecutive_auto_reply=100)
    tables = [
        "users",
        "orders",
        "items",
        "payments",
        "refunds",
        "invoices",
        "carts",
        "reviews",
        "sessions",
        "coupons",
        "addresses",
        "shipments",
        "returns",
        "taxes",
        "prices",
        "stock",
        "vendors",
        "audits",
        "tickets",
        "events",
    ]

    def reply(messages: list[dict[str, Any]], tools: list[Any]) -> Reply:
        done = count_role(messages, "assistant")
        if done >= len(tables):
            return Reply("All 20 tables migrated and verified. TERMINATE")
        name = tables[done]
        return Reply(f"Migrated `{name}`: copied, indexed and checked ({len(name) * 1000} rows).")

    script(helper.name, reply)
    converse(history, user, helper, "Migrate the 20 tables to the new cluster.")


def blocking_model(history: History) -> None:
    """The model endpoint accepts the request and never answers (timeout 30 s, not reached)."""
    helper = assistant("analyst")
    user = proxy("user")
    script(helper.name, lambda m, t: Reply(hang=True))
    converse(history, user, helper, "Summarise last quarter's sales.")


def model_rate_limited(history: History) -> None:
    """Every call is answered 429 with retry-after 30 s: the client sleeps between retries
    (max_retries=8 where the release's config takes it; ag2 0.8's LLMConfig refuses it and
    there the client's default of 2 runs), and the stop lands in a back-off either way."""
    try:
        helper = assistant("analyst", retries=8)
    except Exception:  # pydantic's extra_forbidden
        helper = assistant("analyst")
    user = proxy("user")
    script(helper.name, lambda m, t: Reply(status=429))
    converse(history, user, helper, "Summarise last quarter's sales.")


def error_auth(history: History) -> None:
    """The key is refused (401): the client raises AuthenticationError and the run dies."""
    helper = assistant("analyst")
    user = proxy("user")
    script(helper.name, lambda m, t: Reply(status=401))
    converse(history, user, helper, "Summarise last quarter's sales.")


def human_exit(history: History) -> None:
    """A person answers the first prompt with ``exit``: the chat ends there."""
    helper = assistant("assistant")
    user = proxy("reviewer", mode="ALWAYS")
    script(helper.name, lambda m, t: Reply("Here is the summary you asked for."))
    converse(history, user, helper, "Summarise the incident.")


SCENARIOS: dict[str, Callable[[History], None]] = {
    f.__name__: f
    for f in (
        healthy_twoagent,
        healthy_tool,
        healthy_groupchat_maxround,
        loop_groupchat,
        loop_tool_repeat,
        blocking_tool,
        input_wait,
        human_exit,
        blocking_model,
        model_rate_limited,
        error_auth,
        healthy_nested_chat,
        healthy_sequential_chats,
        healthy_custom_speaker,
        healthy_code_execution,
        healthy_long_conversation,
        loop_failing_code,
        context_explosion_quoting,
        healthy_growing_pages,
    )
}


def _start_logging(mode: str, workdir: str) -> bool:
    logging = getattr(autogen, "runtime_logging", None)
    if logging is None or mode == "none":
        return False
    params = inspect.signature(logging.start).parameters
    if mode == "sqlite":
        global BY_MODEL
        BY_MODEL = not _sqlite_takes_base_url(workdir)
        if BY_MODEL:
            os.environ["OPENAI_BASE_URL"] = f"http://127.0.0.1:{PORT}/v1"
        logging.start(config={"dbname": os.path.join(workdir, "logs.db")})
        return True
    if "logger_type" not in params:
        return False
    try:  # the file logger came after the parameter (0.2.20 takes only "sqlite")
        logging.start(logger_type="file", config={"filename": os.path.join(workdir, "runtime.log")})
    except ValueError:
        return False
    return True


def _sqlite_takes_base_url(workdir: str) -> bool:
    """Whether this release's SQLite logger records a client configured with a base_url."""
    probe = os.path.join(workdir, "probe.db")
    autogen.runtime_logging.start(config={"dbname": probe})
    try:
        config = {"model": "m", "api_key": "k", "base_url": "http://127.0.0.1:1/v1"}
        autogen.AssistantAgent("probe", llm_config={"config_list": [config]})
        return True
    except TypeError:
        return False
    finally:
        autogen.runtime_logging.stop()
        os.remove(probe)


def _start_tracing(mode: str, workdir: str) -> Any:
    """Spans to ``<mode>.jsonl`` through the official OTLP JSON file exporter, batched as in
    production. ``ag2-traces``: AG2's own tracing (``autogen.opentelemetry``, ag2 0.11+),
    every agent and group chat instrumented as its docs say, with messages captured.
    ``openinference``: OpenInference's AG2 instrumentation. ``phoenix``: that one's spans sent
    over OTLP/HTTP to a Phoenix server (project ``$PHOENIX_PROJECT``). None for other modes."""
    if mode not in ("ag2-traces", "openinference", "phoenix"):
        return None
    from opentelemetry import trace
    from opentelemetry.exporter.otlp.json.file import FileSpanExporter
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    provider = TracerProvider()
    if mode == "phoenix":  # OpenInference's spans sent to a Phoenix server, as its guide does
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
        from opentelemetry.sdk.resources import Resource

        project = {"openinference.project.name": os.environ["PHOENIX_PROJECT"]}
        provider = TracerProvider(resource=Resource.create(project))
        exporter: Any = OTLPSpanExporter(endpoint="http://127.0.0.1:6006/v1/traces")
    else:
        exporter = FileSpanExporter(os.path.join(workdir, f"{mode}.jsonl"))
    provider.add_span_processor(BatchSpanProcessor(exporter, schedule_delay_millis=1000))
    trace.set_tracer_provider(provider)
    if mode in ("openinference", "phoenix"):
        from openinference.instrumentation.ag2 import AG2Instrumentor

        # It declares ag2 0.14+ (and autogen/pyautogen 0.5+); on earlier ag2 it instruments
        # nothing unless told to skip that check, as a user on those releases must.
        AG2Instrumentor().instrument(tracer_provider=provider, skip_dep_check=True)
        return provider
    try:
        from autogen import opentelemetry as ag2_otel
        from autogen.opentelemetry.instrumentators.pattern import instrument_groupchat
    except ImportError as exc:
        raise Unsupported(f"no autogen.opentelemetry: {exc}") from exc
    ag2_otel.instrument_llm_wrapper(tracer_provider=provider, capture_messages=True)
    for cls, instrument in (
        (autogen.ConversableAgent, ag2_otel.instrument_agent),
        (autogen.GroupChat, instrument_groupchat),
    ):
        _instrument_on_init(cls, instrument, provider)
    return provider


def _instrument_on_init(cls: Any, instrument: Callable[..., Any], provider: Any) -> None:
    original = cls.__init__

    def init(self: Any, *args: Any, **kwargs: Any) -> None:
        original(self, *args, **kwargs)
        instrument(self, tracer_provider=provider)

    cls.__init__ = init


def main() -> None:
    scenario, mode, workdir = sys.argv[1:4]
    history: History = {}
    try:
        tracing = _start_tracing(mode, workdir)
    except Unsupported as exc:
        with open(os.path.join(workdir, "unsupported.txt"), "w") as fh:
            fh.write(str(exc))
        return
    logging_on = _start_logging(mode, workdir)
    try:
        SCENARIOS[scenario](history)
    except Unsupported as exc:  # record.py leaves the scenario out for this release
        with open(os.path.join(workdir, "unsupported.txt"), "w") as fh:
            fh.write(str(exc))
    finally:
        if logging_on:
            autogen.runtime_logging.stop()
        if tracing is not None:
            tracing.shutdown()
        if mode == "file" and "chat" in history:
            with open(os.path.join(workdir, "chat_history.json"), "w", encoding="utf-8") as fh:
                json.dump(history["chat"](), fh, indent=2, default=str)


if __name__ == "__main__":
    main()
