"""LOOP03: group-chat speaker selection cycles between one or two members, starving the rest.

**Symptom**: ``Next speaker: planner``, ``Next speaker: coder``, ``planner``, ``coder``... for
dozens of rounds while a third member is never picked; or one agent re-selected every round.

**Signal**: the sequence of ``speaker_selected`` recipients (or, without them, the senders of
messages addressed to a manager). The longest tail using at most two speakers, when other
members exist. Weak alone (``speaker_cycle_min`` rounds score below the verdict threshold);
it grows with length, more for a single agent re-selected every time, and corroborates
LOOP01/LOOP02.

In a two-member team, one member re-selected turn after turn while the other starves is the
sign (a selector that keeps picking the same agent). SelectorGroupChat's warning that its model
named no valid speaker and the previous one was used strengthens it.

**False positives**: two members alternating (as two-agent chats do by construction) are never
flagged; a group where the same two members legitimately trade a few turns stays below the
verdict threshold.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from typing import ClassVar

import polars as pl

from ..config import Thresholds
from ..findings import Finding
from .base import Detector, RunFinding, by_run, evidence, is_manager, spread

# The remedy by AgentChat team kind, where the run names its manager (logging's and the spans'
# runtime traffic do; the Console does not): else the general text, which covers both.
_MANAGERS = {
    "GraphManager": "graphflow",  # the runtime agent type of GraphFlow's GraphFlowManager
    "GraphFlowManager": "graphflow",
    "SelectorGroupChatManager": "selector",
}
_TEAM_FIX = {
    "graphflow": "The graph keeps running its cycle without taking the exit: give the cycle's "
    "exit edge a condition the messages really meet (DiGraphBuilder.add_edge(source, target, "
    "condition=...)), and bound the team with a termination condition (MaxMessageTermination).",
    "selector": "The selector keeps choosing the same members: give the SelectorGroupChat a "
    "selector_func or candidate_func (or allow_repeated_speaker=False), and a termination "
    "condition (MaxMessageTermination, TextMentionTermination).",
}


def _team_kinds(events: pl.DataFrame) -> dict[str, str]:
    """Run -> its AgentChat team kind, from the manager its runtime traffic names."""
    names = pl.col("agent").is_in(list(_MANAGERS)) | pl.col("recipient").is_in(list(_MANAGERS))
    named = (
        events.filter(names)
        .select(
            "run_id",
            manager=pl.coalesce(
                pl.when(pl.col("agent").is_in(list(_MANAGERS))).then(pl.col("agent")),
                pl.col("recipient"),
            ),
        )
        .unique(subset="run_id", keep="first", maintain_order=True)
    )
    return {r: _MANAGERS[m] for r, m in named.iter_rows() if m in _MANAGERS}


class SpeakerCycle(Detector):
    code = "LOOP03"
    name = "speaker-cycle"
    stall_class = "loop"
    thresholds = ("speaker_cycle_min",)
    fix: ClassVar[dict[str, str]] = {
        "classic": "Speaker selection is stuck on the same members: use deterministic selection "
        "(speaker_selection_method='round_robin' or a custom function, or "
        "allowed_or_disallowed_speaker_transitions), set max_round, and make the manager "
        "recognise the end (is_termination_msg on the GroupChatManager).",
        "agentchat": "Speaker selection is stuck on the same members: add a termination "
        "condition (MaxMessageTermination, TextMentionTermination); in a SelectorGroupChat give "
        "it a selector_func / candidate_func (or allow_repeated_speaker=False); in a GraphFlow "
        "give the cycle's exit edge a condition the messages really meet.",
        "agent_framework": (
            "Speaker selection is stuck on the same members: give the group chat a "
            "termination_condition and max_rounds, and make the selection_func (or "
            "orchestrator agent) move on once a member has answered."
        ),
    }

    def check(self, events: pl.DataFrame, cfg: Thresholds) -> Iterator[RunFinding]:
        selected = events.filter(pl.col("subkind") == "speaker_selected").rename(
            {"recipient": "speaker"}
        )
        # Logs without selection records: a message to the manager means its sender had the turn.
        to_manager = events.filter(
            (pl.col("kind") == "message")
            & ~pl.col("run_id").is_in(selected["run_id"].unique().implode())
            & pl.col("recipient").str.to_lowercase().str.contains("manager")
        ).with_columns(speaker=pl.col("agent"))
        turns = (
            pl.concat([to_manager, selected], how="diagonal")
            .filter(pl.col("speaker").is_not_null() & (pl.col("speaker") != ""))
            .with_row_index("_row")
        )
        # Only the speaker names cross into Python; rows are built for the evidence alone (a
        # 100 MB transcript has 260,000 turns).
        per_run = turns.group_by("run_id", maintain_order=True).agg("speaker", "_row")
        agents = (
            events.filter(pl.col("agent").is_not_null())
            .group_by("run_id")
            .agg(pl.col("agent").unique())
        )
        members = dict(zip(agents["run_id"].to_list(), agents["agent"].to_list(), strict=True))
        fallbacks = by_run(events.filter(pl.col("subkind") == "selector_fallback"))
        kinds = _team_kinds(events) if self.family == "agentchat" else {}
        for run_id, speakers, at in zip(
            *(per_run[c].to_list() for c in per_run.columns), strict=True
        ):
            roster = set(speakers) | {a for a in members.get(run_id, []) if not is_manager(a)}
            if len(roster) < 3:
                # Two members: both must have had turns. An agent seen only as the sender of
                # the task (AgentChat's "user") is no member the selector could pick.
                roster = set(speakers)
            fell_back = fallbacks.get(run_id, [])
            enough = (len(roster) >= 2 or fell_back) and len(speakers) >= cfg.speaker_cycle_min
            if enough and (finding := self._cycle(turns, speakers, at, roster, fell_back, cfg)):
                yield run_id, replace(finding, fix=_TEAM_FIX.get(kinds.get(run_id, ""), ""))

    def _cycle(
        self,
        turns: pl.DataFrame,
        speakers: list[str],
        at: list[int],
        roster: set[str],
        fell_back: list[dict],
        cfg: Thresholds,
    ) -> Finding | None:
        # With three or more members, two trading turns starve the rest; with two, only one
        # member re-selected starves the other.
        start, names = (
            _two_member_tail(speakers) if len(roster) >= 3 else _one_member_tail(speakers)
        )
        tail = at[start:]
        if len(tail) < cfg.speaker_cycle_min:
            return None
        # A fallback is logged just before the selection it made: count those after the turn
        # before the stretch.
        before = turns.row(at[start - 1], named=True)["seq"] if start else -1
        fell_back = [r for r in fell_back if r["seq"] > before]
        # Nobody starved that the log names; a selector that kept falling back still is a sign.
        if len(roster - names) == 0 and len(fell_back) < 2:
            return None
        # One agent re-selected turn after turn is stronger than two trading turns; a selector
        # whose model named nobody valid and fell back to the previous speaker, stronger still.
        score = min(
            0.85,
            0.3
            + 0.015 * len(tail)
            + (0.1 if len(names) == 1 else 0.0)
            + min(0.15, 0.05 * len(fell_back)),
        )
        starved = sorted(roster - names)
        why = (
            f"; the selector's model named no valid speaker {len(fell_back)} time(s) and the "
            "previous one was used"
            if fell_back
            else ""
        )
        return self.finding(
            phase="speaker_selection",
            score=round(score, 3),
            summary=f"the last {len(tail)} speaker turns went to {' and '.join(sorted(names))} only"
            + (f"; {', '.join(starved[:4])} never spoke in that stretch" if starved else "")
            + why,
            evidence=(
                *(
                    evidence(turns.row(row, named=True), f"turn {i + 1} of the cycle")
                    for i, row in spread(list(enumerate(tail)))
                ),
                *(evidence(r, "selector fell back") for r in spread(fell_back, keep=2)),
            ),
            metrics={
                "cycle_length": len(tail),
                "speakers": len(names),
                "roster": len(roster),
                **({"fallbacks": len(fell_back)} if fell_back else {}),
            },
        )


def _two_member_tail(speakers: list[str]) -> tuple[int, set[str]]:
    """Where the longest tail of ``speakers`` naming at most two members starts, and those
    names: the last speaker, the last other one, then back to the first of a third. Polars
    finds them (a loop left all night has 250,000 turns; walking them took 0.1 s)."""
    turns = pl.Series(speakers, dtype=pl.String)
    names = {speakers[-1]}
    start = _run_start(turns, names)
    if start:
        names.add(speakers[start - 1])
        start = _run_start(turns, names)
    return start, names


def _one_member_tail(speakers: list[str]) -> tuple[int, set[str]]:
    """Where the last speaker's unbroken run of turns starts, and that speaker."""
    names = {speakers[-1]}
    return _run_start(pl.Series(speakers, dtype=pl.String), names), names


def _run_start(turns: pl.Series, names: set[str]) -> int:
    """Where the tail of ``turns`` that names only ``names`` starts."""
    outside = (~turns.is_in(list(names))).arg_true()
    return outside[-1] + 1 if outside.len() else 0
