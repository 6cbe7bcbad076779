"""REENT03: agents awaiting each other's direct messages: an RPC deadlock.

**Symptom**: in autogen-core, ``planner`` handles a request by awaiting
``send_message(..., worker)``; ``worker``'s handler awaits ``send_message(..., planner)``; the
planner's second handler cannot run while its first holds it (an ``asyncio.Lock``, AgentChat's
``SequentialRoutedAgent`` FIFO lock), so nobody answers. The log shows direct messages
(``MessageKind.DIRECT ... DeliveryStage.SEND``) going round and no response coming back; a Ctrl-C
then cancels every waiting handler at once (``MessageHandlerException``).

**Forms**: logging's ``Message`` records (DIRECT/RESPOND); spans' ``autogen send`` and
``autogen process`` (the handler's message context names the sender). A handler span a stop
cancelled ends as an answered one does: the span reader reads it as cut, not as an answer,
only when the stop came after a silence (1 s with nothing started).

**Signal**: the run's unanswered direct messages (``rpc_send`` rows that no ``rpc_respond`` from
the receiver to the sender answers, matched last-in first-out per pair) whose senders wait on
their receivers in a cycle (A waits on B, B on A), with nothing answered or said after the cycle
closed. Where a later stop (an interrupt, a cancelled handler) has a clock, it must come at least
``slow_tool_factor`` times the run's median gap (and 1 s) after; else the score is 0.7, as a log
cut in the middle of a quick exchange looks the same.

**False positives**: the same exchange that completes (each question answered, then the job) is
answered LIFO and leaves nothing open; a request whose sender is unknown (the program's own
``runtime.send_message``) starts no wait edge; a single open request is a slow handler, not a
cycle.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any, ClassVar

import polars as pl

from ..config import Thresholds
from ..findings import Finding
from .base import (
    CLOCKED,
    NO_CLOCK,
    PROGRESS,
    Detector,
    RunFinding,
    by_run,
    caught_in_flight,
    evidence,
    max_seq_by_run,
    pace_by_run,
    seconds_between,
)

RPC = pl.col("subkind").is_in(["rpc_send", "rpc_respond"])


class RpcWaitCycle(Detector):
    code = "REENT03"
    name = "rpc-wait-cycle"
    stall_class = "recursive_reentry"
    thresholds = ("slow_tool_factor",)
    fix: ClassVar[dict[str, str]] = {
        "classic": "Agents are waiting on each other's replies: a reply function (or tool) that "
        "awaits another agent (a_initiate_chat, a_send with request_reply) whose answer needs "
        "a reply back from the waiting agent never returns. Let the first reply finish and "
        "ask in the next turn, or pass what the other agent needs in the request, and bound "
        "the await with asyncio.wait_for.",
        "agentchat": "Agents are waiting on each other's direct messages: a handler that awaits "
        "send_message() to an agent whose answer needs a message back from it deadlocks as "
        "soon as handlers are serialised (an asyncio.Lock, SequentialRoutedAgent). Do not hold "
        "the lock across the await (release it, or answer questions in a handler that takes "
        "none), publish the question instead of sending it, or pass what the callee needs in "
        "the request; and bound each send_message with asyncio.wait_for so a cycle fails "
        "loudly.",
        "agent_framework": (
            "Executors are waiting on each other: a handler that awaits a message whose "
            "answer needs a message back from it deadlocks. Send the request and "
            "return, handle the answer in its own handler, and bound the run with "
            "asyncio.wait_for."
        ),
    }

    def check(self, events: pl.DataFrame, cfg: Thresholds) -> Iterator[RunFinding]:
        traffic = by_run(events.filter(RPC), "ts")
        if not traffic:
            return
        scope = pl.col("run_id").is_in(list(traffic))
        moves = events.filter(scope & PROGRESS)
        last_move = max_seq_by_run(moves)
        stops = by_run(events.filter(scope & (pl.col("kind") == "error")), "ts")
        pace = pace_by_run(events.filter(scope & (PROGRESS | RPC)))
        for run_id, rows in traffic.items():
            cycle = _wait_cycle(_unanswered(rows))
            if not cycle:
                continue
            closed = cycle[-1]
            answered_after = any(
                r["seq"] > closed["seq"] for r in rows if r["subkind"] == "rpc_respond"
            )
            if answered_after or last_move.get(run_id, -1) > closed["seq"]:
                continue  # the exchange went on: not stuck there
            stop = next((e for e in stops.get(run_id, []) if e["seq"] > closed["seq"]), None)
            wait = seconds_between(closed["ts"], stop["ts"] if stop else None)
            if caught_in_flight(wait, pace.get(run_id), cfg):
                continue  # stopped as quickly as its messages usually go: caught in flight
            yield run_id, self._finding(cycle, stop, wait)

    def _finding(
        self, cycle: Sequence[Mapping[str, Any]], stop: Mapping[str, Any] | None, wait: float | None
    ) -> Finding:
        names = [str(r["agent"]) for r in cycle]
        loop = " -> ".join([*names, names[0]])
        summary = (
            f"direct messages wait on each other in a cycle ({loop}): each agent awaits an "
            "answer from the next, and none came"
        )
        if wait is not None:
            summary += f"; the run was stopped {wait:,.1f} s after the cycle closed"
        items = [evidence(r, f"{r['agent']} awaits {r['recipient']}") for r in cycle]
        if stop is not None:
            items.append(evidence(stop, "stopped while they waited"))
        return self.finding(
            phase="tool_execution",
            score=CLOCKED if wait is not None else NO_CLOCK,
            summary=summary,
            evidence=items,
            metrics={"agents": float(len(cycle)), **({"wait_s": wait} if wait is not None else {})},
            subject=names[0],
        )


def _unanswered(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Direct messages no response answered: a response from R to S closes S's latest open
    request to R (handlers answer their own requests, innermost first)."""
    open_: list[dict[str, Any]] = []
    for row in rows:
        if row["subkind"] == "rpc_send":
            open_.append(row)
            continue
        match = next(
            (
                i
                for i in range(len(open_) - 1, -1, -1)
                if open_[i]["recipient"] == row["agent"] and open_[i]["agent"] == row["recipient"]
            ),
            None,
        )
        if match is not None:
            del open_[match]
    return open_


def _wait_cycle(pending: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The requests forming a cycle of waits (S awaits R, R awaits ... S), in the order they
    were sent; [] if none. Each agent's latest open request is what it waits on."""
    waits = {r["agent"]: r for r in pending if r["agent"] and r["recipient"]}
    for start in waits:
        path: list[dict[str, Any]] = []
        seen: set[str] = set()
        agent = start
        while agent in waits and agent not in seen:
            seen.add(agent)
            path.append(waits[agent])
            agent = waits[agent]["recipient"]
        if agent in seen:
            at = next(i for i, r in enumerate(path) if r["agent"] == agent)
            return sorted(path[at:], key=lambda r: r["seq"])
    return []
