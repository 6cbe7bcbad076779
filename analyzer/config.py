"""Every threshold the detectors and the classifier use, in one documented, frozen object.

Defaults come from the AutoGen runtime behaviour documented in shared/formats, not from the
sample logs: e.g. a tool loop is "the same call 3+ times", the minimum a person would call a
repeat rather than a retry.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Thresholds:
    similarity: float = 88.0
    """rapidfuzz ratio (0-100) on masked text at which two messages count as near-identical."""
    dup_window: int = 40
    """Each message is fuzzy-compared with at most this many earlier messages of the same agent.
    Exact repeats (after masking) are found at any distance through hashing."""
    dup_min_repeats: int = 3
    """Near-identical repeats (beyond the first occurrence) before a message loop is reported."""
    dup_min_share: float = 0.5
    """Share of the messages after the first repeat that must be repeats for a loop."""
    tool_repeat_min: int = 3
    """Invocations of one tool with the same (masked, fuzzy) arguments that make a tool loop."""
    tool_args_similarity: float = 92.0
    """rapidfuzz ratio on masked canonical JSON at which two tool argument sets are the same."""
    speaker_cycle_min: int = 6
    """Consecutive speaker selections cycling through <=2 agents (of a larger roster) for a loop."""
    empty_reply_min: int = 3
    """Consecutive empty messages bouncing between agents that make a loop."""
    slow_tool_s: float = 60.0
    """A tool result this many seconds after its call is slow (only where the log has times)."""
    slow_tool_factor: float = 10.0
    """...and it must also exceed this multiple of the run's median tool latency."""
    growth_ratio: float = 1.3
    """Per-step growth of prompt size that counts as geometric (linear growth decays to 1)."""
    growth_min_steps: int = 3
    """Consecutive geometric steps needed for a context-growth finding."""
    context_floor_tokens: int = 2000
    """Growth below this prompt size (tokens) is never an explosion."""
    context_floor_chars: int = 8000
    """The same floor in characters, for logs without token usage."""
    verdict_min_score: float = 0.5
    """A stall class needs a finding scoring at least this to become the verdict."""
    coverage_confident: float = 0.9
    """A verdict from a file of which the parser understood a smaller share than this has its
    confidence scaled down by the share (over this), and says how little was read."""


DEFAULT = Thresholds()

CHARTED_RUNS = 10
"""Charts cost ~0.45 s a run: by default only a file's this many worst runs get them."""
