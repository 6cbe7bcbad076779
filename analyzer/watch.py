"""``watch``: follow growing logs (as ``tail -F`` does) and say when a stall begins and ends,
while the run is still going.

Each poll stats every followed file (and picks up new files in followed directories). A file
that grew, was truncated or was replaced (rotation: a new inode) is analysed again: a
line-record log (AutoGen logging, text or JSON lines; runtime file log; IOStream events) is
parsed by its growth, only the records appended since the last poll (``IncrementalParse``),
any other form whole. The analysis runs at most once per ``2 x`` its own last duration, so a
large log costs at most a third of a core. Between analyses the wall clock keeps counting: a log that ends inside a tool
call or a human-input prompt is only a stall once it has been silent for ``silence_s`` (a live
log always ends inside something), while a loop, a context explosion or a re-entry is one as
soon as the analysis shows it.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .config import Thresholds
from .cost import PRICES, Price
from .errors import AnalyzerError, UnknownFormatError
from .formats import SPANNED, detect_format
from .formats.agentchat_logging import text as agentchat_logging
from .formats.io.files import SNIFF_BYTES, is_plain
from .formats.io.incremental import IncrementalParse
from .gate import Gate
from .inputs import gather
from .pipeline import AnalysisResult, analyze_file, analyze_parsed
from .redact import excerpt
from .report.inert import terminal

# Verdicts that a live log shows by ending inside something: a stall only after a silence.
ENDS_INSIDE = frozenset({"blocking_tool", "input_wait"})
STALLS = frozenset({"loop", "context_explosion", "recursive_reentry"}) | ENDS_INSIDE


@dataclass
class _File:
    path: Path
    inode: int = -1
    size: int = -1
    grew_at: float = 0.0  # wall clock (time.time) of the last change seen
    analysed_at: float = 0.0  # monotonic
    analysis_s: float = 0.0
    pending: bool = True  # changed since the last analysis
    result: AnalysisResult | None = None
    stalled: dict[str, str] = field(default_factory=dict)  # run id -> what was said
    error: str | None = None
    format: str | None = None  # sniffed (again while the file is shorter than a sniff)
    growing: IncrementalParse | None = None  # a line-record log: parsed by its growth


@dataclass(frozen=True, slots=True)
class Notice:
    """One line ``watch`` prints."""

    kind: str  # "stall begins" | "stall ends" | "run ended" | "cannot read"
    path: str
    run_id: str
    label: str
    confidence: float
    text: str
    fails_gate: bool = False

    def line(self, now: float) -> str:
        stamp = time.strftime("%H:%M:%S", time.localtime(now))
        return f"{stamp} {self.kind}: {terminal(self.path)} run {terminal(self.run_id)}: {terminal(self.text)}"


@dataclass
class Watcher:
    """Follows ``paths`` (files and directories); ``poll()`` returns what changed."""

    paths: Sequence[str | Path]
    cfg: Thresholds
    fmt: str | None = None
    select: Sequence[str] = ()
    ignore: Sequence[str] = ()
    prices: Mapping[str, Price] = field(default_factory=lambda: dict(PRICES))
    silence_s: float = 60.0
    gate: Gate | None = None
    log_format: str | None = None
    clock: Callable[[], float] = time.time
    throttle: float = 2.0
    """A file is analysed again at most once per this many times its last analysis took."""
    files: dict[Path, _File] = field(default_factory=dict)

    def poll(self) -> list[Notice]:
        now = self.clock()
        notices: list[Notice] = []
        for path in gather(self.paths).files:  # new files in followed directories too
            followed = self.files.setdefault(path, _File(path, grew_at=now))
            self._stat(followed, now)
        for followed in self.files.values():
            if (
                followed.pending
                and time.monotonic() - followed.analysed_at >= self.throttle * followed.analysis_s
            ):
                notices += self._analyse(followed)
            notices += self._judge(followed, now)
        return notices

    def _stat(self, followed: _File, now: float) -> None:
        try:
            info = followed.path.stat()
        except OSError:
            return  # rotated away for a moment: tail -F waits for it to come back
        if info.st_ino != followed.inode or info.st_size != followed.size:
            if info.st_ino != followed.inode:  # a new file: its format is sniffed anew
                followed.format, followed.growing = None, None
            if followed.inode == -1:  # first sight: its silence counts from its last write
                followed.grew_at = min(now, info.st_mtime)
            else:
                followed.grew_at = now
            followed.inode, followed.size, followed.pending = info.st_ino, info.st_size, True

    def _analyse(self, followed: _File) -> list[Notice]:
        started = time.monotonic()
        followed.pending = False
        try:
            followed.result = self._result(followed)
            followed.error = None
        except UnknownFormatError:
            followed.result = None  # not (yet) a log we read: say nothing
        except AnalyzerError as exc:
            message = str(exc)
            if message != followed.error and "empty file" not in message:
                followed.error = message
                return [Notice("cannot read", str(followed.path), "-", "error", 0.0, message)]
        finally:
            followed.analysed_at = time.monotonic()
            followed.analysis_s = followed.analysed_at - started
        return []

    def _state(self, run: Any, silent: float) -> tuple[str | None, str]:
        """The stall a run is in now (None: none), and the line that says so."""
        d = run.diagnosis
        ends_inside = d.label in ENDS_INSIDE
        if d.label in STALLS and (not ends_inside or silent >= self.silence_s):
            text = f"{d.label}, {d.phase}, confidence {d.confidence:.2f}: {excerpt(d.summary, 200)}"
            return d.label, (f"silent for {silent:.0f} s; " + text) if ends_inside else text
        waiting = _in_model_call(run)
        if waiting and silent >= self.silence_s and not run.stats.terminated:
            return "model_call", f"silent for {silent:.0f} s inside a model call of {waiting}"
        return None, ""

    def _result(self, followed: _File) -> AnalysisResult:
        """The file analysed: a line-record log by the records appended since the last time
        (``IncrementalParse``), any other whole."""
        path = followed.path
        if followed.format is None or path.stat().st_size < SNIFF_BYTES:
            name = self.fmt or (
                "agentchat-logging" if self.log_format else detect_format(path).name
            )
            if name != followed.format:
                followed.format = name
                plain = name in SPANNED and is_plain(path)
                reader = (
                    agentchat_logging.given_format(self.log_format)
                    if self.log_format
                    else SPANNED.get(name)
                )
                followed.growing = IncrementalParse(path, reader) if plain and reader else None
        if followed.growing is None:
            return analyze_file(
                path,
                self.cfg,
                self.fmt,
                self.select,
                self.ignore,
                prices=self.prices,
                log_format=self.log_format,
            )
        parsed = followed.growing.update()
        return analyze_parsed(
            path, str(followed.format), parsed, self.cfg, self.select, self.ignore, self.prices
        )

    def _judge(self, followed: _File, now: float) -> list[Notice]:
        """Stalls that began or ended since the last poll, for each run of the file."""
        result = followed.result
        if result is None or followed.pending:  # judge only what the file now says
            return []
        silent = now - followed.grew_at
        out = []
        for run in result.runs:
            d = run.diagnosis
            state, text = self._state(run, silent)
            said = followed.stalled.get(run.run_id)
            if state is not None:
                if said != state:
                    followed.stalled[run.run_id] = state
                    fails = bool(self.gate and self.gate.fails(state, d.confidence))
                    notice = Notice(
                        "stall begins",
                        str(followed.path),
                        run.run_id,
                        state,
                        d.confidence,
                        text,
                        fails,
                    )
                    out.append(notice)
            elif said is not None and said != "ended":
                if run.stats.terminated:
                    followed.stalled[run.run_id] = "ended"
                else:
                    del followed.stalled[run.run_id]
                why = "the run terminated" if run.stats.terminated else "the log moved on"
                out.append(
                    Notice(
                        "stall ends",
                        str(followed.path),
                        run.run_id,
                        d.label,
                        d.confidence,
                        f"{said} over: {why} ({d.label})",
                    )
                )
            if run.stats.terminated and followed.stalled.get(run.run_id) is None:
                followed.stalled[run.run_id] = "ended"
                reason = excerpt(run.stats.termination_reason or "", 120)
                out.append(
                    Notice(
                        "run ended",
                        str(followed.path),
                        run.run_id,
                        d.label,
                        d.confidence,
                        f"{d.label}: {reason}",
                    )
                )
        return out


def _in_model_call(run: Any) -> str | None:
    """The agent whose model call began (a streamed call's start) and has not ended: the
    run's last event."""
    last = run.events.tail(1).select("subkind", "agent").rows()
    return (last[0][1] or "an agent") if last and last[0][0] == "llm_start" else None


def follow(
    watcher: Watcher,
    echo: Callable[[str], None],
    interval: float = 0.25,
    once: bool = False,
    seconds: float | None = None,
) -> bool:
    """Poll until stopped (or once, or for ``seconds``); True as soon as a stall fails the
    gate (``watch`` then exits with its code)."""
    started = time.monotonic()
    while True:
        for notice in watcher.poll():
            echo(notice.line(watcher.clock()))
            if notice.fails_gate:
                return True
        if once or (seconds is not None and time.monotonic() - started >= seconds):
            return False
        time.sleep(interval)
