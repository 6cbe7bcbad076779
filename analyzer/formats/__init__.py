"""Every supported log format, and picking the right one from a file's content."""

from __future__ import annotations

import re
import stat
import sys
from dataclasses import replace
from pathlib import Path

import polars as pl

from ..errors import AnalyzerError, LogFormatError, UnknownFormatError
from ..inputs import kind_of
from .agentchat_console import AgentchatConsole
from .agentchat_logging.json_lines import AgentchatJsonLogging
from .agentchat_logging.text import AgentchatLogging, given_format
from .base import LogFormat, ParsedLog, parse_stamps
from .chat_history_json import ChatHistoryJson
from .classic_console import ClassicConsole
from .classic_events_json import ClassicEventsJson
from .classic_runtime_file import ClassicRuntimeFile
from .classic_runtime_sqlite import ClassicRuntimeSqlite
from .io.files import read_head, runtime_times
from .io.split_parse import Spanned
from .otel_spans import OtelSpans
from .otlp_json import OtlpJson
from .phoenix_traces import PhoenixTraces

ALL_FORMATS: tuple[type[LogFormat], ...] = (
    ClassicConsole,
    ClassicRuntimeFile,
    ClassicRuntimeSqlite,
    ClassicEventsJson,
    ChatHistoryJson,
    AgentchatConsole,
    AgentchatLogging,
    AgentchatJsonLogging,
    OtelSpans,
    OtlpJson,
    PhoenixTraces,
)
FORMATS_BY_NAME = {fmt.name: fmt for fmt in ALL_FORMATS}
# The line-record formats, which a growing file can be parsed of span by span (``watch``):
# those whose module says how (its ``SPANNED``).
SPANNED: dict[str, Spanned] = {
    fmt.name: spanned
    for fmt in ALL_FORMATS
    if isinstance(spanned := getattr(sys.modules[fmt.__module__], "SPANNED", None), Spanned)
}


def detect_format(path: Path) -> type[LogFormat]:
    """The format whose sniffer is most confident about the file's first 64 KiB."""
    try:
        head = read_head(path)
    except OSError as exc:
        raise AnalyzerError(path, f"cannot read: {exc.strerror or exc}") from exc
    except EOFError as exc:
        raise LogFormatError(path, "truncated gzip file") from exc
    if not head.strip():
        raise LogFormatError(path, "empty file")
    scored = sorted(
        ((_sniff(fmt, head), i, fmt) for i, fmt in enumerate(ALL_FORMATS)),
        key=lambda t: (-t[0], t[1]),
    )
    best_score, _, best = scored[0]
    if best_score <= 0:
        if _NAMES_AGENTCHAT_LOGGER.search(head):
            raise UnknownFormatError(
                path,
                "names AutoGen 0.4+ loggers, but no line has a record layout this tool knows: "
                "give the handler's format string with --log-format",
            )
        raise UnknownFormatError(path, "not a recognised AutoGen log (try --format)")
    return best


_NAMES_AGENTCHAT_LOGGER = re.compile(r"\b(?:autogen_core|autogen_agentchat)\b")


def _sniff(fmt: type[LogFormat], head: str) -> float:
    """A sniffer that fails on what it was shown (JSON nested past the decoder's limit) is
    not sure of it."""
    try:
        return fmt.sniff(head)
    except (ValueError, TypeError, KeyError, AttributeError, RecursionError, MemoryError):
        return 0.0


def parse_log(
    path: Path, fmt: str | None = None, log_format: str | None = None
) -> tuple[type[LogFormat], ParsedLog]:
    """Parse with the named format, or the sniffed one. ``log_format``: the logging format
    string the file was written with (AutoGen 0.4+ text logging; it implies that format)."""
    _require_regular(path)
    if log_format is not None:
        fmt = fmt or AgentchatLogging.name
        if fmt != AgentchatLogging.name:
            raise UnknownFormatError(path, f"--log-format reads {AgentchatLogging.name}, not {fmt}")
    if fmt is not None:
        if fmt not in FORMATS_BY_NAME:
            raise UnknownFormatError(path, f"unknown format {fmt!r}")
        chosen = FORMATS_BY_NAME[fmt]
    else:
        chosen = detect_format(path)
    try:
        if log_format is not None:
            return chosen, given_format(log_format).parse(path)
        return chosen, _with_runtime_times(path, chosen.parse(path))
    except AnalyzerError:
        raise
    except (OSError, EOFError) as exc:
        raise LogFormatError(path, f"cannot read: {exc}") from exc
    except (ValueError, KeyError, TypeError, AttributeError, RecursionError) as exc:
        raise LogFormatError(
            path, f"not valid {chosen.name} content ({type(exc).__name__}: {exc})"
        ) from exc


def _require_regular(path: Path) -> None:
    """Only a regular file has an end: a FIFO without a writer blocks, a device never ends."""
    try:
        mode = path.stat().st_mode
    except OSError as exc:
        raise AnalyzerError(path, f"cannot read: {exc.strerror or exc}") from exc
    if not stat.S_ISREG(mode):
        raise AnalyzerError(path, f"not a regular file ({kind_of(mode)})")


def _with_runtime_times(path: Path, parsed: ParsedLog) -> ParsedLog:
    """Events with no time of their own (console transcripts) take the container runtime's
    time of their line when the log came wrapped by one: silences become evidence."""
    events = parsed.events
    if not events["ts"].null_count() or not (times := runtime_times(path)):  # None or none
        return parsed
    stamps = parse_stamps(times)
    line = events["source_line"].cast(pl.Int64)
    known = (line >= 1) & (line <= len(stamps))
    runtime = stamps.gather((line - 1).clip(0, len(stamps) - 1))
    ts = pl.coalesce(pl.col("ts"), pl.when(pl.lit(known)).then(pl.lit(runtime)))
    return replace(parsed, events=events.with_columns(ts=ts))


__all__ = [
    "ALL_FORMATS",
    "FORMATS_BY_NAME",
    "SPANNED",
    "LogFormat",
    "ParsedLog",
    "detect_format",
    "parse_log",
]
