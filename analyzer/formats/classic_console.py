"""Console transcript of a classic AutoGen / AG2 (0.2 API) run: what the process printed.

No clock. Shapes (autogen 0.14.x, pyautogen 0.2.x): ``sender (to recipient):`` headers and an
80-dash rule around each message, ``Next speaker: X``, ``***** Suggested tool call (id): name``,
``>>>>>>>> EXECUTING FUNCTION name...``, ``***** Response from calling tool (id)``,
``>>>>>>>> TERMINATING RUN (uuid): reason``, human-input prompts without a newline, tracebacks.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import ClassVar

from ._tracebacks import TRACEBACK_START, TracebackCollector
from .base import EventSink, ParsedLog, canonical_json, iter_lines, require_events

ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
HEADER = re.compile(r"^(\S+) \(to (\S+)\):\s*$")
RULE = re.compile(r"^-{80}\s*$")
NEXT_SPEAKER = re.compile(r"^Next speaker: (\S+)\s*$")
SUGGESTED_TOOL = re.compile(r"^\*{5} Suggested tool call \((\S+)\): (\S+) \*{5}\s*$")
SUGGESTED_FUNC = re.compile(r"^\*{5} Suggested function call: (\S+) \*{5}\s*$")
TOOL_RESPONSE = re.compile(r"^\*{5} Response from calling (?:tool|function) \((\S+)\) \*{5}\s*$")
STAR_ROW = re.compile(r"^\*{10,}\s*$")
EXECUTION = re.compile(r"^>>>>>>>> (EXECUTING|EXECUTED) FUNCTION (\S+?)\.\.\.")
CODE_BLOCK = re.compile(r"^>>>>>>>> EXECUTING CODE BLOCK")
TERMINATING = re.compile(r"^>>>>>>>> TERMINATING RUN \(([0-9a-f-]+)\): (.*)$")
AUTO_REPLY = re.compile(r"^>>>>>>>> (USING AUTO REPLY|NO HUMAN INPUT RECEIVED)")
NESTED = re.compile(r"^Starting a new chat\.\.\.\.\s*$")
PROMPT = re.compile(
    r"(Replying as (\S+)\. Provide feedback to (\S+)\.|Please give feedback to (\S+)\.)"
    r"[^:]*?(?:conversation|stop|skip)[^:]*: ?"
)
CALL_ID = re.compile(r"^Call ID: (\S+)")
# The framework's own logging records on the console (``[autogen.oai.client: 11-24 20:45:27]``).
FRAMEWORK_LOG = re.compile(r"^\[(?:autogen|ag2)[\w.]*: ")
INPUT_ARGS = re.compile(r"^Input arguments: (.*)$")
# Every top-level event line but a header starts with one of these.
_TOP_EVENT_STARTS = ("Next speaker: ", ">>>>>>>> ", "Starting a new chat")


def _header(text: str) -> re.Match[str] | None:
    return HEADER.match(text) if " (to " in text else None


class ClassicConsole:
    name: ClassVar[str] = "classic-console"
    family: ClassVar[str] = "classic"
    description: ClassVar[str] = "stdout/stderr of a classic AutoGen / AG2 run"

    @staticmethod
    def sniff(head: str) -> float:
        text = ANSI.sub("", head)
        score = 0.0
        if re.search(r"(?m)^\S+ \(to \S+\):\s*$", text):
            score += 0.5
        if re.search(r"(?m)^-{80}\s*$", text):
            score += 0.3
        if re.search(r"(?m)^(Next speaker: |>>>>>>>> )", text):
            score += 0.2
        return min(score, 1.0)

    @staticmethod
    def parse(path: Path) -> ParsedLog:
        return _ConsoleParser(path).run()


class _ConsoleParser:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.sink = EventSink(ClassicConsole.name)
        self.state = "top"  # top | body | block | exec | traceback
        self.msg: dict | None = None  # the message being read
        self.block: dict | None = None  # tool call / response block inside a body
        self.exec: dict | None = None  # an EXECUTED FUNCTION output being read
        self.tb: TracebackCollector | None = None
        self.calls: dict[str, tuple[str, str | None]] = {}  # call id -> (tool, executor)
        self.selected: str | None = None  # group chat: speaker picked since the last tool call

    def run(self) -> ParsedLog:
        number = 0
        for number, raw in iter_lines(self.path):
            self.line(number, ANSI.sub("", raw) if "\x1b" in raw else raw)
        self.flush_all()
        self.sink.counted(number, "lines")
        require_events(self.path, self.sink, "AutoGen console output", self.sink)
        return self.sink.result()

    # --- dispatch -------------------------------------------------------------------------

    def line(self, number: int, text: str) -> None:
        if self.state == "traceback":
            assert self.tb is not None
            if self.tb.feed(text):
                return
            self.flush_traceback()
        prompt = PROMPT.search(text) if "eedback to" in text else None
        if prompt:
            self.prompt(number, prompt)
            rest = text[prompt.end() :]
            if rest.strip():
                self.line(number, rest)  # what was printed after the prompt, on its line
            return
        if "Traceback (" in text and TRACEBACK_START.search(text) and self.state != "block":
            self.flush_all()
            self.tb = TracebackCollector(number)
            self.state = "traceback"
            return
        if self.state == "exec_head":
            if self.exec_line(number, text):
                return
            self.flush_exec()
        if self.state == "exec" and not self.starts_event(text):
            assert self.exec is not None
            self.exec["out"].append(text)
            return
        if self.state == "block":
            self.block_line(number, text)
            return
        if self.state == "body":
            self.body_line(number, text)
            return
        self.top_line(number, text)

    def starts_event(self, text: str) -> bool:
        return bool(
            _header(text)
            or text.startswith(">>>>>>>> ")
            or (text.startswith("Next speaker: ") and NEXT_SPEAKER.match(text))
        )

    def top_line(self, number: int, text: str) -> None:
        if self.state == "exec":
            self.flush_exec()
        header = _header(text)
        if header:
            self.msg = {"line": number, "agent": header[1], "to": header[2], "text": []}
            self.state = "body"
            return
        if not text.startswith(_TOP_EVENT_STARTS):  # a cheap test before the patterns
            if text.strip() and not RULE.match(text) and not FRAMEWORK_LOG.match(text):
                self.sink.unread(number, "line outside any message or banner")
            return
        if m := NEXT_SPEAKER.match(text):
            self.selected = m[1]
            self.sink.add(
                "other", number, subkind="speaker_selected", recipient=m[1], content=text.strip()
            )
        elif m := EXECUTION.match(text):
            self.exec = {"line": number, "tool": m[2], "id": None, "args": None, "out": []}
            self.exec["started"] = m[1] == "EXECUTING"
            self.state = "exec_head"
        elif m := TERMINATING.match(text):
            self.sink.add("termination", number, content=m[2].strip())
        elif CODE_BLOCK.match(text):
            self.sink.add(
                "tool_call",
                number,
                subkind="code_exec_start",
                content=text[9:].strip(),
                tool_name="code_execution",
            )
        elif m := AUTO_REPLY.match(text):
            self.sink.add("input_reply", number, subkind="auto_reply", content=m[1])
        elif NESTED.match(text):
            self.sink.add("other", number, subkind="nested_chat", content="Starting a new chat")

    # --- message bodies ---------------------------------------------------------------------

    def body_line(self, number: int, text: str) -> None:
        assert self.msg is not None
        if text.startswith("-") and RULE.match(text):
            self.flush_message()
            self.state = "top"
            return
        header = _header(text)
        if header and not "".join(self.msg["text"]).strip():
            # pyautogen 0.2 prints a tool-result header twice; keep the second one.
            self.msg = {"line": number, "agent": header[1], "to": header[2], "text": []}
            return
        if not text.startswith("*****"):  # what all three blocks open with
            self.msg["text"].append(text)
            return
        if m := SUGGESTED_TOOL.match(text):
            self.block = {"kind": "call", "line": number, "id": m[1], "tool": m[2], "lines": []}
        elif m := SUGGESTED_FUNC.match(text):
            self.block = {"kind": "call", "line": number, "id": None, "tool": m[1], "lines": []}
        elif m := TOOL_RESPONSE.match(text):
            self.block = {"kind": "response", "line": number, "id": m[1], "lines": []}
        else:
            self.msg["text"].append(text)
            return
        self.msg.setdefault("blocks", []).append(self.block)
        self.state = "block"

    def block_line(self, number: int, text: str) -> None:
        assert self.block is not None
        if text.startswith("*") and STAR_ROW.match(text):
            self.state = "body"
            return
        if (
            self.block["kind"] == "call"
            and not self.block["lines"]
            and text.startswith("Arguments:")
        ):
            text = text[len("Arguments:") :].strip()
            if not text:
                return
        self.block["lines"].append(text)

    def flush_message(self) -> None:
        msg, self.msg = self.msg, None
        if msg is None:
            return
        text = "\n".join(msg["text"]).strip()
        blocks = msg.get("blocks", [])
        agent, to = msg["agent"], msg["to"]
        if text or not blocks:
            self.sink.add("message", msg["line"], agent=agent, recipient=to, content=text)
        for block in blocks:
            body = "\n".join(block["lines"]).strip()
            if block["kind"] == "call":
                call_id = block["id"] or f"{block['tool']}@{block['line']}"
                self.calls[call_id] = (block["tool"], to)
                self.selected = None
                self.sink.add(
                    "tool_call",
                    block["line"],
                    agent=agent,
                    recipient=to,
                    tool_name=block["tool"],
                    tool_call_id=call_id,
                    tool_args=canonical_json(body),
                    content=body,
                )
            else:
                tool = self.calls.get(block["id"], (None, None))[0]
                self.sink.add(
                    "tool_result",
                    block["line"],
                    agent=agent,
                    recipient=to,
                    tool_name=tool,
                    tool_call_id=block["id"],
                    content=body,
                    is_error=body.startswith("Error:"),
                )

    # --- function execution -------------------------------------------------------------------

    def exec_line(self, number: int, text: str) -> bool:
        """Header lines of an EXECUTING/EXECUTED block; False once its output begins."""
        assert self.exec is not None
        if m := CALL_ID.match(text):
            self.exec["id"] = m[1]
        elif m := INPUT_ARGS.match(text):
            self.exec["args"] = m[1]
        elif text.startswith("Output:"):
            self.state = "exec"
        else:
            return False
        return True

    def flush_exec(self) -> None:
        ex, self.exec = self.exec, None
        self.state = "top"
        if ex is None:
            return
        call_id = ex["id"] or next(
            (cid for cid, (tool, _) in reversed(self.calls.items()) if tool == ex["tool"]), None
        )
        # In a group chat the call goes to the manager; the executor is whoever it picked next.
        executor = self.selected or self.calls.get(call_id or "", (None, None))[1]
        args = _repr_args(ex["args"])
        out = "\n".join(ex["out"]).strip()
        self.sink.add(
            "other",
            ex["line"],
            subkind="tool_exec_start" if ex["started"] else "tool_exec_end",
            agent=executor,
            tool_name=ex["tool"],
            tool_call_id=call_id,
            tool_args=args,
            content=f"EXECUTING FUNCTION {ex['tool']}" if ex["started"] else out,
            is_error=not ex["started"] and out.startswith("Error:"),
        )

    # --- prompts, tracebacks, end of file ---------------------------------------------------------

    def prompt(self, number: int, m: re.Match[str]) -> None:
        self.flush_all()
        agent = m[2] or None
        target = m[3] or m[4]
        self.sink.add("input_request", number, agent=agent, recipient=target, content=m[0].strip())

    def flush_traceback(self) -> None:
        tb, self.tb = self.tb, None
        self.state = "top"
        if tb is not None:
            tb.emit(self.sink)

    def flush_all(self) -> None:
        if self.state in ("exec", "exec_head"):
            self.flush_exec()
        if self.state == "traceback":
            self.flush_traceback()
        if self.msg is not None:
            self.flush_message()  # cut off mid-message: keep what was printed
        self.state = "top"


def _repr_args(text: str | None) -> str | None:
    """``Input arguments:`` is a Python dict repr; normalise it to canonical JSON if we can."""
    if text is None:
        return None
    import ast

    try:
        return canonical_json(ast.literal_eval(text))
    except (ValueError, SyntaxError, MemoryError, RecursionError):
        return text
