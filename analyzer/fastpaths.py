"""One switch for every fast path, and one way for a fast path to say it gave up.

A fast path reads the same input as its reference path, only faster, and must give the same
result. Each is declared once, next to the code it speeds up (``declare``), with the size from
which it repays its fixed cost. One setting decides where they are taken:

- ``auto`` (the default): each where its input reaches its limit;
- ``off``: the reference paths only, to rule a fast path out when a result looks wrong;
- ``always``: every fast path on any input, however small: how the test suite runs them on
  the samples and compares the results with ``off``.

The setting is the environment variable ``AUTOGEN_POSTMORTEM_FAST_PATHS`` (so a split parse's
worker processes see it too); ``use(mode)`` sets it for a block of code.

A fast path that fails where it applies falls back to the reference path and reports it
through ``fell_back``: a ``logging`` record on the ``analyzer.fastpaths`` logger (quiet by
default; the CLI's ``-v`` shows it). With ``AUTOGEN_POSTMORTEM_STRICT=1`` (the test suite sets
it) a fallback raises ``FallbackError`` instead, so none goes unnoticed.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from enum import StrEnum

ENV_MODE = "AUTOGEN_POSTMORTEM_FAST_PATHS"
ENV_STRICT = "AUTOGEN_POSTMORTEM_STRICT"
log = logging.getLogger(__name__)


class Mode(StrEnum):
    AUTO = "auto"
    OFF = "off"
    ALWAYS = "always"


class FallbackError(RuntimeError):
    """A fast path gave up where it applies (raised instead of logged in strict mode)."""


@dataclass(frozen=True, slots=True)
class FastPath:
    name: str
    """kebab-case, as logs and the README name it."""
    limit: float
    """The size (in ``unit``) from which ``auto`` takes it: below, its fixed cost is not repaid."""
    unit: str
    what: str
    """What it does instead of the reference path, in a line."""


DECLARED: dict[str, FastPath] = {}


def declare(name: str, limit: float, unit: str, what: str) -> FastPath:
    """A fast path, registered under ``name`` (once: a second declaration is a mistake)."""
    if name in DECLARED:
        raise ValueError(f"fast path {name!r} declared twice")
    DECLARED[name] = path = FastPath(name, limit, unit, what)
    return path


def mode() -> Mode:
    """The current setting; an unknown value is an error naming the variable."""
    value = os.environ.get(ENV_MODE, Mode.AUTO).strip().lower() or Mode.AUTO
    try:
        return Mode(value)
    except ValueError:
        known = ", ".join(m.value for m in Mode)
        raise ValueError(f"{ENV_MODE}={value!r}: expected one of {known}") from None


def take(path: FastPath, size: float) -> bool:
    """Whether ``path`` is taken for an input of ``size`` (in its unit)."""
    current = mode()
    if current is Mode.AUTO:
        return size >= path.limit
    return current is Mode.ALWAYS


@contextmanager
def use(new: Mode | str) -> Iterator[None]:
    """``new`` as the setting inside the block (and in processes started there)."""
    old = os.environ.get(ENV_MODE)
    os.environ[ENV_MODE] = Mode(new).value
    try:
        yield
    finally:
        if old is None:
            os.environ.pop(ENV_MODE, None)
        else:
            os.environ[ENV_MODE] = old


def fell_back(path: FastPath, why: str) -> None:
    """Report that ``path`` gave up and the reference path runs instead."""
    if os.environ.get(ENV_STRICT) == "1":
        raise FallbackError(f"fast path {path.name} fell back: {why}")
    log.info("fast path %s fell back to its reference path: %s", path.name, why)
