"""What happened to one input, for ``analyze`` and ``batch`` alike: analysed, skipped (found
while walking a directory, and not an AutoGen log), or failed (a one-line reason that starts
with the file). One type and one ``judge``, so both commands say the same of the same file."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from .errors import AnalyzerError, UnknownFormatError

if TYPE_CHECKING:
    from .inputs import Inputs
    from .pipeline import AnalysisResult

Status = Literal["analysed", "skipped", "failed"]


@dataclass(frozen=True, slots=True)
class Outcome:
    source: str
    """The input as the user named it (display form)."""
    status: Status
    reason: str = ""
    """Skipped: why the file is not read. Failed: the error line, starting with the file."""
    result: AnalysisResult | None = None
    """Analysed in this process: the analysis (``batch`` ships rows between processes)."""
    rows: tuple[dict[str, Any], ...] = ()
    """Analysed by ``batch``: its summary rows, one per run."""
    cached: bool = False
    """``batch``: answered from the cache."""

    @property
    def error(self) -> str | None:
        return self.reason if self.status == "failed" else None

    @property
    def skipped(self) -> str | None:
        return self.reason if self.status == "skipped" else None


def failed(source: str, reason: str) -> Outcome:
    return Outcome(source, "failed", reason)


def judge(source: str, result: AnalysisResult | Exception, named: bool) -> Outcome:
    """The outcome of analysing ``source``: ``result`` is the analysis or what it raised.
    ``named``: the user named the file (or its format), so a file no format claims is an
    error; found while walking a directory, it is skipped, with the reason said."""
    if isinstance(result, UnknownFormatError):
        return failed(source, str(result)) if named else Outcome(source, "skipped", result.reason)
    if isinstance(result, AnalyzerError):
        return failed(source, str(result))
    if isinstance(result, Exception):
        return failed(source, f"{source}: internal error: {result!r}")
    return Outcome(source, "analysed", result=result)


def failures(outcomes: Iterable[Outcome]) -> list[tuple[str, str]]:
    """(source, error line) of each failed outcome, in order."""
    return [(o.source, o.reason) for o in outcomes if o.error]


def skips(outcomes: Iterable[Outcome]) -> list[tuple[str, str]]:
    """(source, why) of each skipped outcome, in order."""
    return [(o.source, o.reason) for o in outcomes if o.skipped]


def walked(found: Inputs) -> list[Outcome]:
    """The inputs the file walker could not use: unreadable (failed) or not ours (skipped)."""
    return [failed(src, f"{src}: {why}") for src, why in found.errors] + [
        Outcome(src, "skipped", why) for src, why in found.skipped
    ]
