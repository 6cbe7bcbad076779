"""The CI gate: which verdicts fail a build (``--fail-on``, ``--min-confidence``).

A run fails the gate when its verdict is one of the named classes (the stalls and ``error``,
a run killed by an exception) and its confidence
reaches the minimum. ``healthy`` and ``unknown`` never fail it: ``unknown`` says the log does
not show a stall, and a gate that failed on it would fail on every log form that records no
end.
"""

from __future__ import annotations

from dataclasses import dataclass

from .findings import PROBLEM_CLASSES

EXIT_GATE = 3
"""A run matched ``--fail-on`` (and every input was analysed): a stall was found."""


@dataclass(frozen=True, slots=True)
class Gate:
    classes: frozenset[str]
    """Stall classes that fail the build."""
    min_confidence: float = 0.0
    """A matching verdict below this confidence passes."""

    def fails(self, verdict: str, confidence: float) -> bool:
        return verdict in self.classes and confidence >= self.min_confidence


def parse_fail_on(spec: str) -> frozenset[str]:
    """``loop,blocking_tool`` or ``any``; ValueError naming what is wrong."""
    names = {part.strip() for part in spec.split(",") if part.strip()}
    if names == {"any"}:
        return frozenset(PROBLEM_CLASSES)
    never = names & {"healthy", "unknown"}
    if never:
        raise ValueError(f"{', '.join(sorted(never))} never fails the gate")
    unknown = names - set(PROBLEM_CLASSES)
    if unknown or not names:
        raise ValueError(
            f"{', '.join(sorted(unknown)) or 'nothing'} is not a stall class or error; "
            f"choose from {', '.join(PROBLEM_CLASSES)} or any"
        )
    return frozenset(names)
