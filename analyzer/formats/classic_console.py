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

import polars as pl

from ..fastpaths import declare, take
from ..schema import CODE_TOOL
from ._console_lanes import ANSI, FRAMEWORK_LOG, LANE, NAME_LIMIT, Batch, tables
from ._tracebacks import FRAME, TRACEBACK_START, PythonWarnings, TracebackCollector
from .base import EventSink, ParsedLog, Sniff, canonical_json, require_events
from .io.files import iter_lines
from .io.line_batches import BLOCK_BYTES, Span, line_tables

CONSOLE_BLOCKS = declare("console-blocks", 0, "lines", "marked lines only through the parser")
# Agent names may hold spaces, dots, dashes and any letter: the API allows them.
RULE = re.compile(r"^-{80}\s*$")
NEXT_SPEAKER = re.compile(r"^Next speaker: (\S.*?)\s*$")
# Banners by era (read in each release's conversable_agent.py): 0.2.0-0.2.20 print "Call"
# and the response's id (0.2.0: the function's name) in double quotes; 0.2.21 on, "call" and
# the id in parentheses.
SUGGESTED_TOOL = re.compile(r"^\*{5} Suggested tool [Cc]all \((\S+)\): (\S+) \*{5}\s*$")
SUGGESTED_FUNC = re.compile(r"^\*{5} Suggested function [Cc]all: (\S+) \*{5}\s*$")
TOOL_RESPONSE = re.compile(
    r'^\*{5} Response from calling (?:tool|function) (?:\((\S+)\)|"([^"]*)") \*{5}\s*$'
)
STAR_ROW = re.compile(r"^\*{10,}\s*$")
EXECUTION = re.compile(r"^>>>>>>>> (EXECUTING|EXECUTED) (?:ASYNC )?FUNCTION (\S+?)\.\.\.")
CODE_BLOCK = re.compile(r"^>>>>>>>> EXECUTING CODE BLOCK")
TERMINATING = re.compile(r"^>>>>>>>> TERMINATING RUN \(([0-9a-f-]+)\): (.*)$")
AUTO_REPLY = re.compile(r"^>>>>>>>> (USING AUTO REPLY|NO HUMAN INPUT RECEIVED)")
NESTED = re.compile(r"^Starting a new chat\.\.\.\.\s*$")
NESTED_BANNER = re.compile(r"(?m)^Starting a new chat\.\.\.\.\s*$")
PROMPT = re.compile(
    r"(Replying as (.+?)\. Provide feedback to (.+?)\.|(?:Provide|Please give) feedback to "
    r"(.+?)\.)(?= Press enter)[^:]*?(?:conversation|stop|skip)[^:]*: ?"
)
# What an application printed itself: an SDK's HTTP error (outside any traceback), a
# TaskResult with its stop reason.
SDK_ERROR = re.compile(r"\bError code: ([45]\d\d) - (.*)$")
TASK_RESULT = re.compile(r"^TaskResult\(.*\bstop_reason=(?:'([^']*)'|\"([^\"]*)\"|None)")
CALL_ID = re.compile(r"^Call ID: (\S+)")
INPUT_ARGS = re.compile(r"^Input arguments: (.*)$")
# A lane shorter than this many marked lines is read line by line: taking one costs a polars
# slice (~50 us), what the state machine spends on a few messages.
_MIN_LANE = 32
_FETCH_ALL = 4096  # lines of a batch fetched one piece at a time before all are
# Every top-level event line but a header starts with one of these.
_TOP_EVENT_STARTS = ("Next speaker: ", ">>>>>>>> ", "Starting a new chat")


CLASSIC_FRAME = re.compile(r'(?m)^\s*File "[^"]*[/\\]autogen[/\\](?:agentchat|oai|io)[/\\]')


def _is_star_row(text: str) -> bool:
    """The row of 80 ``*`` around a nested chat's "Starting a new chat...." banner."""
    return text.startswith("*****") and text.strip() == "*" * 80


def _header(text: str) -> tuple[str, str] | None:
    """(sender, recipient) of a ``sender (to recipient):`` line, names of 1-200 characters,
    the sender's not starting with a space. String methods: a lazy pattern over names that
    may hold spaces cost 0.3 s per 100,000 headers."""
    if " (to " not in text:  # nearly every line: one test
        return None
    at = text.find(" (to ")
    if at <= 0 or at > NAME_LIMIT or text[0].isspace():
        return None
    end = len(text.rstrip())
    if not text.endswith("):", 0, end) or end - at - 7 > NAME_LIMIT or end - at - 7 < 1:
        return None
    return text[:at], text[at + 5 : end - 2]


# The first line of a code executor's reply, on every release line.
EXEC_REPORT = re.compile(r"exitcode: -?\d+ \(execution (?:failed|succeeded)\)")


# What a transcript shows, each sign adding to the sniff (the sum capped at certainty): a
# message header is most of it, the 80-dash rule and a speaker or banner line the rest.
_SIGNS = (
    (re.compile(r"(?m)^\S+ \(to \S+\):\s*$"), 0.5),
    (re.compile(r"(?m)^-{80}\s*$"), 0.3),
    (re.compile(r"(?m)^(Next speaker: |>>>>>>>> )"), 0.2),
    (NESTED_BANNER, 0.3),  # a nested or sequential chat's banner
)


class ClassicConsole:
    name: ClassVar[str] = "classic-console"
    family: ClassVar[str] = "classic"
    description: ClassVar[str] = "stdout/stderr of a classic AutoGen / AG2 run"
    # ``>>>>>>>> EXECUTING FUNCTION`` is printed before every tool runs, 0.2.0 to 0.14.
    logs_tool_starts: ClassVar[bool] = True

    @staticmethod
    def sniff(head: str) -> float:
        text = ANSI.sub("", head)
        score = sum(weight for sign, weight in _SIGNS if sign.search(text))
        if score:
            return min(Sniff.SIGNATURE, score)
        # A pasted traceback of a classic run: what it is, though not a transcript.
        return Sniff.TRACE if CLASSIC_FRAME.search(text) else Sniff.NONE

    @staticmethod
    def parse(path: Path) -> ParsedLog:
        return _ConsoleParser(path).run()


class _ConsoleParser:
    def __init__(self, path: Path, block_bytes: int = BLOCK_BYTES) -> None:
        self.path = path
        self.block_bytes = block_bytes  # of a batch (tests make it small, to cross batches)
        self.sink = EventSink(ClassicConsole.name)
        self.state = "top"  # top | body | block | exec | traceback
        self.msg: dict | None = None  # the message being read
        self.block: dict | None = None  # tool call / response block inside a body
        self.exec: dict | None = None  # an EXECUTED FUNCTION output being read
        self.tb: TracebackCollector | None = None
        self.calls: dict[str, tuple[str, str | None]] = {}  # call id -> (tool, executor)
        self.selected: str | None = None  # group chat: speaker picked since the last tool call
        self.warnings = PythonWarnings()
        self.lines = pl.DataFrame()  # the batch being read (``run``)
        self.texts: list[str] = []  # its lines' text, once many of them are read one by one
        self.fetched = 0  # lines of it fetched from polars one piece at a time
        self.lane_events = 0  # events taken in lanes (tests check the lanes were used)

    def run(self) -> ParsedLog:
        """Block by block (``_console_lanes``): only the marked lines go through ``line``, the
        plain lines between them join what is being read in one step, and a lane's events
        are taken as polars built them. Equal to ``run_by_line``, at a fraction of the calls."""
        if not take(CONSOLE_BLOCKS, 0):
            return self.run_by_line()
        span = Span()
        batches = line_tables(self.path, tables, self.block_bytes, span, universal_newlines=True)
        for tabled in batches:
            self.batch(Batch.of(*tabled))
        return self.finish(span.lines)

    def batch(self, batch: Batch) -> None:
        self.texts, self.fetched = [], 0
        self.lines = batch.lines
        base = batch.lines["line"][0] if batch.lines.height else 0
        lanes = [m.span() for m in LANE.finditer(batch.codes) if m.end() - m.start() >= _MIN_LANE]
        lane, done, k, marked = 0, 0, 0, batch.marked
        while k < len(marked):
            at = marked[k]
            if at > done:
                self.plain(base, done, at)
            while lane < len(lanes) and lanes[lane][1] - k < _MIN_LANE:
                lane += 1  # lanes behind (or too little of one left): none can start here
            if (
                self.state == "top"
                and lane < len(lanes)
                and lanes[lane][0] <= k
                and batch.codes[k] in "HNn"  # a unit starts here
            ):
                end = lanes[lane][1]
                self.take_lane(batch, k, end)
                done, k = marked[end - 1] + 1, end
                continue
            self.line(base + at, self.rows(at, at + 1)[0])
            done, k = at + 1, k + 1
        if done < batch.lines.height:
            self.plain(base, done, batch.lines.height)

    def take_lane(self, batch: Batch, start: int, end: int) -> None:
        """Marked lines ``start:end`` of a batch, a lane: its events as polars built them."""
        first = batch.events_before[start]
        last = batch.events_before[end] if end < len(batch.marked) else batch.events.height
        self.sink.add_rows(batch.events.slice(first, last - first))
        self.lane_events += last - first
        picked = batch.speakers.slice(first, last - first).drop_nulls()
        if picked.len():
            self.selected = picked[-1]

    def rows(self, start: int, end: int) -> list[str]:
        """The text of the batch's rows ``start:end``: taken from polars piece by piece while
        few are (a batch read as lanes needs a handful), then all at once."""
        if not self.texts and self.fetched + end - start > _FETCH_ALL:
            self.texts = self.lines["text"].to_list()
        if self.texts:
            return self.texts[start:end]
        self.fetched += end - start
        return self.lines["text"].slice(start, end - start).to_list()

    def run_by_line(self) -> ParsedLog:
        """Every line through ``line``: the reference the block path is tested equal to."""
        number = 0
        for number, raw in iter_lines(self.path):
            self.line(number, ANSI.sub("", raw) if "\x1b" in raw else raw)
        return self.finish(number)

    def finish(self, lines: int) -> ParsedLog:
        self.flush_all()
        self.sink.counted(lines, "lines")
        require_events(self.path, self.sink, "AutoGen console output")
        return self.sink.result()

    def plain(self, base: int, start: int, end: int) -> None:
        """Rows ``start:end`` of the batch, none of them marked: inside a message, a block or
        a tool's output they are its text; elsewhere (blank lines between messages, stray
        output, tracebacks) each goes through ``line``."""
        if self.state == "top":
            loud = self.lines["loud"]
            if loud[end - 1] == (loud[start - 1] if start else 0):
                return  # blank lines and the framework's logging: nothing to read
        texts = self.rows(start, end)
        base += start  # the line number of texts[0]
        for at, text in enumerate(texts):
            state = self.state
            if state == "body":
                assert self.msg is not None
                self.msg["text"].extend(texts[at:])
                return
            if state == "exec":
                assert self.exec is not None
                self.exec["out"].extend(texts[at:])
                return
            if state == "block":
                assert self.block is not None
                self.block["lines"].extend(texts[at:])
                return
            if state != "top" or (text and not text.isspace()):  # a blank line at top: nothing
                self.line(base + at, text)

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
            if not rest.strip():
                return
            if self.starts_event(rest) or PROMPT.search(rest) or "Traceback (" in rest:
                self.line(number, rest)  # output printed after an unechoed answer
            else:
                self.typed(number, rest.strip(), prompt)
            return
        if (
            "Traceback (" in text
            and TRACEBACK_START.search(text)
            and self.state != "block"
            and not self.running_code_output()
        ):
            self.flush_all()
            self.tb = TracebackCollector(number)
            self.state = "traceback"
            return
        if self.state == "top" and text.startswith(" ") and FRAME.match(text):
            self.tb = TracebackCollector(number, text)  # pasted without its header
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
        if self.state == "banner":  # a nested chat's banner, up to its closing star row
            if _is_star_row(text):
                self.state = "top"
                return
            if not _header(text):
                return  # 0.2.2x print the chat's message and carryover inside it
            self.state = "top"
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
            self.msg = {"line": number, "agent": header[0], "to": header[1], "text": []}
            self.state = "body"
            return
        if not text.startswith(_TOP_EVENT_STARTS):  # a cheap test before the patterns
            if text and not text.isspace() and not _is_star_row(text):  # the banner's opening row
                self.unread_or_printed(number, text)
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
                tool_name=CODE_TOOL,
            )
        elif m := AUTO_REPLY.match(text):
            self.sink.add("input_reply", number, subkind="auto_reply", content=m[1])
        elif NESTED.match(text):
            self.sink.add("other", number, subkind="nested_chat", content="Starting a new chat")
            self.state = "banner"
        else:
            self.unread_or_printed(number, text)

    def unread_or_printed(self, number: int, text: str) -> None:
        """A top-level line no banner explains: the framework's own logging, an SDK error or
        a TaskResult the application printed itself, a Python warning, or a line not
        understood. Cheap tests first: a loop's console has one logging line per message."""
        if text.startswith("[") and FRAMEWORK_LOG.match(text):
            return
        if "Error code: " in text and (m := SDK_ERROR.search(text)):
            self.sink.add("error", number, content=text.strip(), is_error=True)
        elif text.startswith("TaskResult(") and (m := TASK_RESULT.match(text)):
            self.sink.add("termination", number, content=m[1] or m[2] or "TaskResult")
        elif self.warnings.claims(number, text):
            pass
        elif not (text.startswith("-") and RULE.match(text)):
            self.sink.unread(number, "line outside any message or banner")

    # --- message bodies ---------------------------------------------------------------------

    def running_code_output(self) -> bool:
        """The message being read is a code executor's report ("exitcode: 1 (execution
        failed)" then "Code output:"): a traceback in it is the failed code's, not a crash."""
        if self.state != "body" or self.msg is None:
            return False
        first = next((line for line in self.msg["text"] if line.strip()), "")
        return EXEC_REPORT.match(first.lstrip()) is not None

    def body_line(self, number: int, text: str) -> None:
        assert self.msg is not None
        if text.startswith("-") and RULE.match(text):
            self.flush_message()
            self.state = "top"
            return
        header = _header(text)
        if header and not "".join(self.msg["text"]).strip():
            # pyautogen 0.2 prints a tool-result header twice; keep the second one.
            self.msg = {"line": number, "agent": header[0], "to": header[1], "text": []}
            return
        if not text.startswith("*****"):  # what all three blocks open with
            self.msg["text"].append(text)
            return
        if m := SUGGESTED_TOOL.match(text):
            self.block = {"kind": "call", "line": number, "id": m[1], "tool": m[2], "lines": []}
        elif m := SUGGESTED_FUNC.match(text):
            self.block = {"kind": "call", "line": number, "id": None, "tool": m[1], "lines": []}
        elif m := TOOL_RESPONSE.match(text):
            self.block = {"kind": "response", "line": number, "id": m[1] or m[2], "lines": []}
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
                block["id"] = self.answered(block["id"])
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

    def answered(self, said: str) -> str:
        """The call a response answers: its id, or (0.2.0 names the function, not the call)
        the latest call of the function it names."""
        return said if said in self.calls else self.latest_call(said) or said

    def latest_call(self, tool: str) -> str | None:
        """The id of the latest call of ``tool``."""
        return next((cid for cid, (name, _) in reversed(self.calls.items()) if name == tool), None)

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
        call_id = ex["id"] or self.latest_call(ex["tool"])
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

    def typed(self, number: int, reply: str, prompt: re.Match[str]) -> None:
        """What a person typed at the prompt, echoed on its line: the prompt was answered;
        ``exit`` ends the chat (``check_termination_and_human_reply``)."""
        agent = prompt[2] or None
        self.sink.add("input_reply", number, agent=agent, content=reply)
        if reply == "exit":
            self.sink.add("termination", number, agent=agent, content="a person typed exit")

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
