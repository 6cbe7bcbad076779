"""Findings -> one verdict. Works on findings only, never on raw events.

Each stall class scores the best of its findings, plus ``CORROBORATION`` for every further
distinct detector agreeing. The best class wins if it reaches ``verdict_min_score``, except
that a class earlier in ``PRECEDENCE`` within ``PRECEDENCE_MARGIN`` of it wins instead: the
cause that ends a run (context limit, re-entry, input wait, blocked tool) explains the
repetition it produces, not the other way round. With no stall: ``healthy`` if the run terminated, otherwise ``unknown``.
Confidence is the winner's score less a quarter of the runner-up's (a tenth when the
runner-up comes later in ``PRECEDENCE``, i.e. is explained by the winner).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from .config import Thresholds
from .ending import RunEnding
from .findings import PROBLEM_CLASSES, Diagnosis, Evidence, Finding, Verdict
from .formats.base import Coverage

PRECEDENCE = (
    "context_explosion",
    "recursive_reentry",
    "input_wait",
    "blocking_tool",
    "blocking_model",
    "loop",
    "error",
)
THRESHOLDS = ("verdict_min_score", "coverage_confident")  # of config.Thresholds, read here
CORROBORATION = 0.05
UNKNOWN_CEILING = 0.5
PRECEDENCE_MARGIN = 0.1
_CITED = 4

HEALTHY_FIX = "Nothing to fix: the run terminated on its own."
LABELS = {
    "loop": "Loop",
    "blocking_tool": "Blocking tool",
    "blocking_model": "Blocking model call",
    "input_wait": "Waiting for human input",
    "context_explosion": "Context explosion",
    "recursive_reentry": "Recursive re-entry",
    "error": "Error",
    "healthy": "Healthy",
    "unknown": "Unknown",
}


def class_scores(findings: Sequence[Finding]) -> dict[Verdict, float]:
    scores: dict[Verdict, float] = {}
    for cls in PROBLEM_CLASSES:
        mine = sorted((f.score for f in findings if f.stall_class == cls), reverse=True)
        if mine:
            scores[cls] = min(
                0.97,
                mine[0]
                + CORROBORATION * (len({f.code for f in findings if f.stall_class == cls}) - 1),
            )
    return scores


def classify(
    findings: Sequence[Finding],
    source: str,
    cfg: Thresholds,
    coverage: Coverage | None = None,
    ending: RunEnding | None = None,
) -> Diagnosis:
    """The verdict, no more confident than the share of the file that was understood.
    ``ending``: how the run ended (the ending stage); without it, RUN01's finding says."""
    return _as_read(_classify(findings, source, cfg, ending), coverage, cfg)


def _as_read(diagnosis: Diagnosis, coverage: Coverage | None, cfg: Thresholds) -> Diagnosis:
    """A verdict from a file mostly not understood says so, and is that much less sure."""
    if coverage is None or coverage.fraction >= cfg.coverage_confident:
        return diagnosis
    share = coverage.fraction / cfg.coverage_confident
    return replace(
        diagnosis,
        confidence=round(diagnosis.confidence * share, 2),
        summary=f"{diagnosis.summary} Only part of the file was understood: {coverage.describe()}.",
    )


def _classify(
    findings: Sequence[Finding], source: str, cfg: Thresholds, ending: RunEnding | None
) -> Diagnosis:
    every = class_scores(findings)
    scores = dict(every)
    if ending is not None and ending.finished and ending.condition in OWN_ENDS:
        # It ended on its own success condition: repetition on the way (a long batch job's
        # progress messages) did not stall it. It lowers the healthy verdict's confidence.
        scores.pop("loop", None)
    ranked = sorted(scores.items(), key=lambda kv: (-kv[1], PRECEDENCE.index(kv[0])))
    if ranked:
        near = [kv for kv in ranked if kv[1] >= ranked[0][1] - PRECEDENCE_MARGIN]
        first = min(near, key=lambda kv: PRECEDENCE.index(kv[0]))
        ranked.remove(first)
        ranked.insert(0, first)
    end = next((f for f in findings if f.code == "RUN01"), None)
    if ranked and ranked[0][1] >= cfg.verdict_min_score:
        label, score = ranked[0]
        confidence = score
        for other, other_score in ranked[1:]:
            # A class later in PRECEDENCE is a consequence (re-entry produces loops): it barely
            # competes. An earlier one that lost on score does.
            explained = PRECEDENCE.index(other) > PRECEDENCE.index(label)
            confidence -= (0.1 if explained else 0.25) * other_score
            break
        confidence = max(0.0, min(1.0, confidence))
        mine = sorted((f for f in findings if f.stall_class == label), key=lambda f: -f.score)
        top = mine[0]
        because = tuple(f.code for f in mine)
        text = f"{LABELS[label]}: {top.summary}." + "".join(
            f" Also: {f.summary}." for f in mine[1:3]
        )
        if ending is not None and not ending.finished and label != "error":
            text += f" The log ends there: {ending.summary}."
        elif ending is None and end is not None and end.stall_class == "unknown":
            text += f" The log ends there: {end.summary}."
        cited = [e for f in mine for e in f.evidence]
        return Diagnosis(
            label, top.phase, round(confidence, 2), _cite(text, cited, source), top.fix, because
        )
    best = max(every.values(), default=0.0)  # the set-aside loop included
    if end is not None and end.stall_class == "healthy":  # RUN01 reads the ending stage
        text = f"Healthy: {end.summary}; no stall signal reached the threshold."
        repeats = [
            f for f in findings if f.stall_class == "loop" and f.score >= cfg.verdict_min_score
        ]
        if repeats:
            text = (
                f"Healthy: {end.summary}. It repeated itself on the way ({repeats[0].summary}), "
                "but ended on its own condition, not a limit."
            )
        return Diagnosis(
            "healthy",
            "none",
            round(max(0.0, end.score - 0.5 * best), 2),
            _cite(text, list(end.evidence), source),
            HEALTHY_FIX,
            (end.code,),
        )
    text = "Unknown: no stall signal reached the threshold"
    text += f", and {end.summary}." if end else "."
    # Nothing proves how the run ended: "no stall was found" is never stated above 0.5.
    return Diagnosis(
        "unknown",
        end.phase if end else "none",
        round(min(UNKNOWN_CEILING, 1.0 - best), 2),
        _cite(text, list(end.evidence) if end else [], source),
        end.fix if end else "",
        (end.code,) if end else (),
    )


# Conditions a run meets by finishing its work (not a safety limit): a loop cannot end on them.
OWN_ENDS = ("text_mention", "human_exit", "handoff", "function_call", "source_match")
LIMITS = ("max_turns", "max_round", "max_messages", "max_consecutive_auto_reply", "token_limit")


def limit_worked(diagnosis: Diagnosis, ending: RunEnding, turns: int, tokens: int) -> Diagnosis:
    """A loop its own limit ended: say the limit worked and what the loop cost, before the fix."""
    if diagnosis.label != "loop" or not ending.finished or ending.condition not in LIMITS:
        return diagnosis
    cost = f"{turns} agent turns" + (f" and {tokens:,} tokens" if tokens else "")
    note = (
        f"The {ending.condition} limit ended this loop, as it is meant to; the loop cost {cost}. "
    )
    return replace(diagnosis, fix=note + diagnosis.fix)


def _cite(text: str, evidence: list[Evidence], source: str) -> str:
    seen: list[str] = []
    for ev in evidence:
        ref = ev.cite(source)
        if ref not in seen:
            seen.append(ref)
        if len(seen) == _CITED:
            break
    return f"{text} Evidence: {', '.join(seen)}." if seen else text
