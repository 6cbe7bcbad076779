"""Rewrites of real logs that must not change what the analyzer finds in them.

Each takes a recorded log's text and returns it as another setup would have written the same
run: another logging format string (re-rendered by ``logging.Formatter`` itself), other agent
names, CRLF line ends, a container runtime's wrapper, a cut after a turn.
"""

from __future__ import annotations

import calendar
import json
import logging
from collections.abc import Iterator
from datetime import UTC, datetime

from analyzer.formats.agentchat_logging.format_strings import compile_format

# Format strings real applications use; each one is a row of the metamorphic suite.
LOG_FORMATS = {
    "time-after-name": "%(name)s %(asctime)s %(levelname)s %(message)s",
    "thread-bracketed": "%(asctime)s [%(threadName)s] %(levelname)s %(name)s: %(message)s",
    "module-lineno": (
        "%(asctime)s %(process)d %(module)s:%(lineno)d %(levelname)s %(name)s %(message)s"
    ),
    "level-first-funcname": "%(levelname)-8s %(asctime)s %(name)s.%(funcName)s: %(message)s",
    "all-bracketed": "[%(levelname)s] [%(name)s] [%(asctime)s] %(message)s",
    "no-time": "%(name)s - %(levelname)s - %(message)s",
    "pipes-padded": "%(asctime)s|%(name)-24s|%(levelname)-5s|%(message)s",
    "brace-style": "{asctime} {levelname:<8} {name} {message}",
    "iso-datefmt-msecs": "%(asctime)s.%(msecs)03dZ %(name)s[%(process)d] %(levelname)s %(message)s",
    "time-after-level": "%(levelname)s %(name)s %(asctime)s - %(message)s",
}
_DATEFMT = {"iso-datefmt-msecs": "%Y-%m-%dT%H:%M:%S"}
_STYLE = {"brace-style": "{"}


def records(text: str, fmt: str) -> Iterator[tuple[str, str, str | None, str]]:
    """(logger, level, time, message with its continuation lines) of each record."""
    split = compile_format(fmt).split
    current: list | None = None
    for line in text.removesuffix("\n").split("\n"):
        found = split(line)
        if found is not None:
            if current:
                yield current[0], current[1], current[2], "\n".join(current[3])
            current = [found[0], found[1], found[2], [found[3]]]
        elif current is not None:
            current[3].append(line)
    if current:
        yield current[0], current[1], current[2], "\n".join(current[3])


def reformat(text: str, source_fmt: str, key: str) -> str:
    """``text`` (written with ``source_fmt``) as the handler of format ``key`` writes it."""
    formatter = logging.Formatter(
        LOG_FORMATS[key],
        datefmt=_DATEFMT.get(key),
        style=_STYLE.get(key, "%"),  # type: ignore[arg-type]
    )
    formatter.converter = _utc
    out = []
    for number, (logger, level, when, message) in enumerate(records(text, source_fmt), 1):
        record = logging.LogRecord(
            logger,
            getattr(logging, level, logging.INFO),
            "/app/run.py",
            40 + number,
            message,
            None,
            None,
            func="handle",
        )
        if when:
            stamp = datetime.fromisoformat(when.replace(",", ".")).replace(tzinfo=UTC)
            record.created = calendar.timegm(stamp.timetuple()) + stamp.microsecond / 1e6
            record.msecs = stamp.microsecond // 1000
        record.threadName, record.process = "MainThread", 4242
        out.append(formatter.format(record))
    return "\n".join(out) + "\n"


def _utc(seconds: float | None) -> object:
    import time

    return time.gmtime(seconds)


def with_crlf(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\n", "\r\n")


def _output_lines(text: str) -> list[tuple[str, str]]:
    """(line, its end) of the program's output; the last may have none (a prompt at EOF)."""
    pieces = text.split("\n")
    ends = ["\n"] * (len(pieces) - 1) + [""]
    return [(p, e) for p, e in zip(pieces, ends, strict=True) if p or e]


def docker_wrapped(text: str) -> str:
    """Docker's json-file driver: one JSON object per output line."""
    return "".join(
        json.dumps(
            {"log": line + end, "stream": "stdout", "time": "2026-01-01T00:00:00.000000001Z"},
            ensure_ascii=False,
            separators=(",", ":"),
        )
        + "\n"
        for line, end in _output_lines(text)
    )


def cri_wrapped(text: str) -> str:
    """Kubernetes CRI: ``<time> <stream> F <line>``."""
    return "".join(
        f"2026-01-01T00:00:00.000000001Z stdout F {line}\n" for line, _ in _output_lines(text)
    )


# Agent names the API allows and older parsers lost: spaces, dots, dashes, accents, CJK.
NEW_NAMES = ("Data Analyst", "Prüfer-2", "agent.v2", "日本語 エージェント", "Ops Lead (EU)", "x")


def renamed_console(text: str, names: list[str]) -> tuple[str, dict[str, str]]:
    """A classic console transcript with its agents renamed where the framework prints names
    (message headers, ``Next speaker:``, human-input prompts); message text is left alone."""
    import re

    mapping = dict(zip(sorted(names, key=len, reverse=True), NEW_NAMES, strict=False))
    alternatives = "|".join(re.escape(n) for n in mapping)
    header = re.compile(
        rf"^(\x1b\[\d+m)?({alternatives})(\x1b\[0m)? \(to ({alternatives})\):(\s*)$"
    )
    speaker = re.compile(rf"^(Next speaker: )({alternatives})(\s*)$")
    prompt = re.compile(rf"(Replying as |feedback to )({alternatives})(\. )")
    out = []
    for line in text.split("\n"):
        line = header.sub(
            lambda m: f"{m[1] or ''}{mapping[m[2]]}{m[3] or ''} (to {mapping[m[4]]}):{m[5]}", line
        )
        line = speaker.sub(lambda m: f"{m[1]}{mapping[m[2]]}{m[3]}", line)
        line = prompt.sub(lambda m: f"{m[1]}{mapping[m[2]]}{m[3]}", line)
        out.append(line)
    return "\n".join(out), mapping


def cuts_after_turns(text: str) -> list[str]:
    """The transcript cut after each message (at the rule that closes it)."""
    rule = "-" * 80
    lines, cuts = text.split("\n"), []
    for i, line in enumerate(lines):
        if line.rstrip("\r") == rule:
            cuts.append("\n".join(lines[: i + 1]) + "\n")
    return cuts[:-1]  # the last cut is (nearly) the whole file
