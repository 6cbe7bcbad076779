"""Console transcript of ``autogen_agentchat.ui.Console(team.run_stream(...))`` (AutoGen 0.4+).

No clock. ``---------- <Class> (<source>) ----------`` headers (0.5+; 0.4.x printed only
``---------- <source> ----------``, and the class is told from the text), the message text (tool
calls and results as Python reprs), ``[Prompt tokens: N, Completion tokens: M]`` after a message with
usage, a ``---------- Summary ----------`` block only when the run finished, tracebacks, and
``Enter your response: `` from ``input()`` in a worker thread, glued to whatever printed next.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import ClassVar

from ._tracebacks import FRAME, TRACEBACK_START, PythonWarnings, TracebackCollector
from .agentchat_logging.messages import (
    CODE_KINDS,
    TOOL_REPR_KINDS,
    emit_code_step,
    emit_tool_reprs,
    text_subkind,
)
from .base import EventSink, ParsedLog, Sniff, require_events
from .io.files import iter_lines

HEADER = re.compile(r"^-{10} (\S+?) \((.+)\) -{10}\s*$")
SOURCE_HEADER = re.compile(r"^-{10} (\S+) -{10}\s*$")  # 0.4.x: no class (Summary is matched first)
SUMMARY = re.compile(r"^-{10} Summary -{10}\s*$")
TOKENS = re.compile(r"^\[Prompt tokens: (\d+), Completion tokens: (\d+)\]\s*$")
PROMPT = "Enter your response:"
_RULE = "-" * 10  # what headers and the Summary line open with
HANDOFF_TARGET = re.compile(r"Transferred to (\S+?)[,.]")
_TEXT_CLASSES = frozenset(
    {
        "TextMessage",
        "ToolCallSummaryMessage",
        "ThoughtEvent",
        "ModelClientStreamingChunkEvent",
        "MultiModalMessage",
        "StructuredMessage",
        "HandoffMessage",
        "CodeGenerationEvent",
    }
)


AGENTCHAT_FRAME = re.compile(r'(?m)^\s*File "[^"]*[/\\]autogen_(?:agentchat|core|ext)[/\\]')


class AgentchatConsole:
    name: ClassVar[str] = "agentchat-console"
    family: ClassVar[str] = "agentchat"
    description: ClassVar[str] = "Console(team.run_stream(...)) output of autogen-agentchat 0.4+"

    @staticmethod
    def sniff(head: str) -> float:
        headers = re.findall(r"(?m)^-{10} (?:\S+ \(.+\)|(?!Summary )\S+) -{10}\s*$", head)
        if headers:  # a message header: as sure as a fragment, surer with each more
            return Sniff.graded(len(headers), Sniff.FRAGMENT, 0.1)
        # A pasted traceback of an AgentChat run: what it is, though not a transcript.
        return Sniff.TRACE if AGENTCHAT_FRAME.search(head) else Sniff.NONE

    @staticmethod
    def parse(path: Path) -> ParsedLog:
        return _Parser(path).run()


class _Parser:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.sink = EventSink(AgentchatConsole.name)
        self.block: dict | None = None
        self.prompts: list[tuple[int, str]] = []
        self.tb: TracebackCollector | None = None
        self.runs = 1
        self.in_summary = False
        self.warnings = PythonWarnings()

    def run(self) -> ParsedLog:
        number = 0
        for number, text in iter_lines(self.path):
            self.line(number, text)
        self.flush()
        if self.tb is not None:
            self.flush_traceback()
        self.sink.counted(number, "lines")
        require_events(self.path, self.sink, "AgentChat console blocks")
        return self.sink.result()

    def line(self, number: int, text: str) -> None:
        if self.tb is not None:
            if self.tb.feed(text):
                return
            self.flush_traceback()
        held = None
        if PROMPT in text:  # input() from another thread: the prompt belongs after this block
            text = text.replace(PROMPT, "", 1).lstrip()
            header = text.startswith(_RULE) and (HEADER.match(text) or SOURCE_HEADER.match(text))
            if header:
                held = (number, PROMPT)
            else:
                self.prompts.append((number, PROMPT))
            if not text:
                return
        if "Traceback (" in text and TRACEBACK_START.search(text):
            self.flush()
            self.tb = TracebackCollector(number)
            return
        if self.block is None and not self.in_summary and FRAME.match(text):
            self.tb = TracebackCollector(number, text)  # pasted without its header
            return
        rule = text.startswith(_RULE)  # a cheap test before the patterns
        if rule and SUMMARY.match(text):
            self.flush()
            self.in_summary = True
            return
        if rule and ((m := HEADER.match(text)) or (m := SOURCE_HEADER.match(text))):
            self.flush()
            if held:  # printed before the block it follows (0.5.x): it belongs after that one
                self.prompts.append(held)
            if self.in_summary:  # a new team run after a finished one
                self.in_summary = False
                self.runs += 1
                self.sink.run_id = f"run-{self.runs}"
            cls, source = (m[1], m[2]) if m.re is HEADER else (None, m[1])
            self.block = {"line": number, "cls": cls, "source": source, "text": [], "tokens": None}
            return
        if self.in_summary:
            if text.startswith("Finish reason:"):
                self.sink.add("termination", number, content=text.split(":", 1)[1].strip())
            return
        if self.block is not None:
            tokens = text.startswith("[Prompt") and TOKENS.match(text)
            if tokens and self.block["tokens"] is None:
                self.block["tokens"] = (number, int(tokens[1]), int(tokens[2]))
            elif not self.warnings.claims(number, text):  # stderr's warnings land anywhere
                self.block["text"].append(text)
        elif self.warnings.claims(number, text):
            pass
        elif text.strip():
            self.sink.unread(number, "line outside any Console message block")

    def flush(self) -> None:
        block, self.block = self.block, None
        if block is not None:
            self.emit(block)
        for number, prompt in self.prompts:
            self.sink.add("input_request", number, content=prompt)
        self.prompts = []

    def emit(self, b: dict) -> None:
        add, line, source = self.sink.add, b["line"], b["source"]
        body = "\n".join(b["text"]).strip()
        cls = b["cls"] or _class_of(body)
        if b["tokens"]:
            at, prompt, completion = b["tokens"]
            add(
                "llm_call",
                at,
                agent=source,
                prompt_tokens=prompt,
                completion_tokens=completion,
                content=f"[Prompt tokens: {prompt}, Completion tokens: {completion}]",
            )
        if cls in TOOL_REPR_KINDS:
            emit_tool_reprs(self.sink, cls, body, line, None, source)
        elif cls in CODE_KINDS:  # Console prints the code (or its output) as the block's text
            step = {"content": body, "result": {"output": body}}
            emit_code_step(self.sink, cls, source, step, line, None)
        elif cls == "HandoffMessage":
            target = HANDOFF_TARGET.search(body)
            add(
                "message",
                line,
                agent=source,
                recipient=target[1] if target else None,
                subkind="handoff",
                content=body,
            )
        elif cls == "UserInputRequestedEvent":
            add("input_request", line, agent=source, content=body or cls)
        elif cls == "StopMessage":
            add("termination", line, agent=source, content=body)
        elif cls in _TEXT_CLASSES or not cls.endswith("Event"):
            add("message", line, agent=source, content=body, subkind=text_subkind(body))
        else:
            add("other", line, agent=source, content=f"{cls}: {body}"[:2000])

    def flush_traceback(self) -> None:
        tb, self.tb = self.tb, None
        if tb is not None:
            tb.emit(self.sink)


def _class_of(body: str) -> str:
    """The message class of a 0.4.x block, whose header names only the source: told from the
    text Console printed (``str(message.content)``)."""
    if body.startswith("[FunctionCall("):
        return "ToolCallRequestEvent"
    if body.startswith("[FunctionExecutionResult("):
        return "ToolCallExecutionEvent"
    if body.startswith("Transferred to ") and HANDOFF_TARGET.match(body):
        return "HandoffMessage"
    return "TextMessage"
