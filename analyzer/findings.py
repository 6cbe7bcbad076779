"""The result records: evidence rows, findings and the verdict. Frozen, so they can be shared."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, fields
from typing import Any, Literal, get_args

# The verdict vocabulary as types mypy checks (a misspelt class is a type error), and as
# tuples for code that iterates them.
StallClass = Literal[
    "loop",
    "blocking_tool",
    "blocking_model",
    "input_wait",
    "context_explosion",
    "recursive_reentry",
]
ProblemClass = Literal[StallClass, "error"]
"""What a run can be found to suffer from: a stall, or an exception that killed it."""
Verdict = Literal[ProblemClass, "healthy", "unknown"]
Phase = Literal["model_call", "tool_execution", "speaker_selection", "human_input", "none"]
STALL_CLASSES: tuple[StallClass, ...] = get_args(StallClass)
PROBLEM_CLASSES: tuple[ProblemClass, ...] = get_args(ProblemClass)
VERDICTS: tuple[Verdict, ...] = get_args(Verdict)
PHASES: tuple[Phase, ...] = get_args(Phase)


@dataclass(frozen=True, slots=True)
class Evidence:
    """One cited event."""

    seq: int
    """Row key in the run's event table."""
    source_line: int
    """1-based line (or SQLite row id) in the input file."""
    agent: str | None
    """Who produced the event, if known."""
    excerpt: str
    """Short, secret-redacted excerpt of the event."""
    note: str
    """Why this event is evidence."""
    ref: str | None = None
    """Where it is when a line number is not enough (SQLite: ``table#rowid``)."""

    def cite(self, source: str) -> str:
        """``file:line`` (or ``file:table#rowid``) for reports."""
        return f"{source}:{self.ref or self.source_line}"


SUMMARY_LIMIT = 1000


@dataclass(frozen=True, slots=True)
class Finding:
    """One detector's conclusion about one run."""

    code: str
    """Stable detector code, e.g. ``LOOP01``."""
    detector: str
    """Kebab-case detector name (``--select``/``--ignore`` take codes or names)."""
    stall_class: Verdict
    """A member of ``VERDICTS``: the class this finding argues for."""
    phase: Phase
    """A member of ``PHASES``: where the run was when this happened."""
    score: float
    """Strength of the signal in [0, 1]."""
    summary: str
    """One sentence a person can read."""
    evidence: tuple[Evidence, ...]
    """The events that show it, in order."""
    metrics: Mapping[str, float] = field(default_factory=dict)
    """Numbers behind the score (``repeat_count``, ``growth_ratio``, ``gap_s``...)."""
    fix: str = ""
    """The concrete remedy for this cause, for the run's framework."""
    subject: str | None = None
    """What the finding is about when that is one name (the repeated tool), for aggregation."""

    def __post_init__(self) -> None:
        # A summary names agents and tools from the log, which can be megabytes long: every
        # renderer and the verdict's paragraph carry it, so it is bounded here, once.
        if len(self.summary) > SUMMARY_LIMIT:
            object.__setattr__(self, "summary", self.summary[: SUMMARY_LIMIT - 1] + "…")


@dataclass(frozen=True, slots=True)
class Diagnosis:
    """The verdict for one run."""

    label: Verdict
    """A member of ``VERDICTS``."""
    phase: Phase
    """A member of ``PHASES``."""
    confidence: float
    """In [0, 1]."""
    summary: str
    """One paragraph, citing evidence as ``file:line``."""
    fix: str
    """What to change."""
    because: tuple[str, ...]
    """Codes of the findings the verdict rests on."""

    def rests_on(self, findings: Iterable[Finding]) -> list[Finding]:
        """The findings the verdict rests on, in their order."""
        return [f for f in findings if f.code in self.because]


@dataclass(frozen=True, slots=True)
class RunStats:
    """A run's counts and totals, for the reports and the batch summary. ``as_dict`` is what
    the JSON output's ``stats`` holds, its keys in this order."""

    events: int
    turns: int
    agents: tuple[str, ...]
    messages: int
    tool_calls: int
    tool_results: int
    llm_calls: int
    input_requests: int
    errors: int
    context_chars: int
    """The characters of every turn's content, added up: the context the run built."""
    prompt_tokens: int | None
    completion_tokens: int | None
    duration_s: float | None
    """From the first to the last event with a time (None: the log has no clock)."""
    terminated: bool
    termination_reason: str | None
    first_line: int | None
    last_line: int | None
    cost: Mapping[str, Any] | None = None
    """``cost.run_costs``' record for the run."""
    coverage: Mapping[str, Any] | None = None
    """How much of the file the parser understood (``pipeline.coverage_stats``)."""

    def as_dict(self) -> dict[str, Any]:
        """Plain JSON types."""
        out = {f.name: getattr(self, f.name) for f in fields(self)}
        out["agents"] = list(self.agents)
        return out
