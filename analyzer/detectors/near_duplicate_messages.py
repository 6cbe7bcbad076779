"""LOOP02: an agent keeps saying (nearly) the same thing.

**Symptom**: paraphrases that cycle: "Let's revisit the plan: step 3 needs the parser fixed"
and "Before moving on, the parser from step 2 must be fixed" alternating for dozens of turns.

**Signal**: ``message`` rows per agent, masked (ids, numbers, timestamps). A message repeats
if its masked text was seen before (hash, any distance) or if rapidfuzz ``ratio`` against one of
the agent's last ``dup_window`` messages reaches ``similarity``. Reported when there are
``dup_min_repeats`` repeats and they make up ``dup_min_share`` of the messages after the first.
Cost is O(n * dup_window); all pairs are never compared.

**False positives**: short acknowledgements ("OK", "Done") are ignored; a run that repeats one
sentence twice in a long, varied conversation stays below the share threshold; a template
reporting a count towards the same total, advanced ("Loaded batch 3 of 20", then "4 of 20"),
is progress, not a repeat, and so is a message using a word its speaker never used
("Migrated `orders`" after "Migrated `users`"); a repeat whose only news is its numbers (a
bare counter, "v2", "v4": a loop's drafts count too) weighs half, so it needs twice the
repeats; Magentic-One's task ledger (a framework template) is not compared at all; what is
said while a tool pages forward (3+ calls in a row whose number argument rises: page=1, 2, 3)
goes with the reading and is not counted ("Keep reading." between pages).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any, ClassVar

import orjson
import polars as pl

from ..config import Thresholds
from ..findings import Finding
from ..redact import excerpt
from ..repetition import message_rows, scan
from .base import Detector, RunFinding, evidence, rows_of, spread

NEW_NUMBERS = 0.5  # the weight of a repeat whose only news is its numbers
# A code executor's report of a failed run: the classic ``exitcode: 1 (execution failed)`` and
# AgentChat's CodeExecutorAgent ("The script ran, then exited with an error").
FAILED_RUN = r"exitcode: [1-9]\d* \(execution failed\)|exited with an error \(POSIX exit code"
# The error a failed run ended in: its last "SomeError: ..." line.
_ERROR_LINE = re.compile(r"^\s*((?:[\w.]+(?:Error|Exception|Exit|Interrupt))\b.*?)\s*$", re.M)


# Pages read in order: a tool called 3+ times in a row with a number argument that rises each
# time (page=1, 2, 3; offset=0, 50, 100). What is said between such calls ("Keep reading.",
# "Reading page 4.") goes with the reading, which advances; a stuck search repeats its page.
PAGING_STEPS = 3


def _paging_spans(events: pl.DataFrame) -> list[tuple[str, int, int]]:
    """(run, first seq, last seq) of each run of calls of one tool whose arguments hold a
    number that rises from call to call."""
    calls = events.filter((pl.col("kind") == "tool_call") & pl.col("tool_args").is_not_null())
    spans: list[tuple[str, int, int]] = []
    for (run_id, _), group in calls.group_by("run_id", "tool_name", maintain_order=True):
        steps = list(zip(group["seq"], map(_numbers, group["tool_args"]), strict=True))
        start = 0
        for i in range(1, len(steps) + 1):
            rising = i < len(steps) and _rises(steps[i - 1][1], steps[i][1])
            if not rising:
                if i - start >= PAGING_STEPS:
                    spans.append((str(run_id), steps[start][0], steps[i - 1][0]))
                start = i
    return spans


def _numbers(args: str) -> dict[str, float]:
    try:
        parsed = orjson.loads(args)
    except orjson.JSONDecodeError:
        return {}
    if not isinstance(parsed, dict):
        return {}
    return {
        k: float(v)
        for k, v in parsed.items()
        if isinstance(v, int | float) and not isinstance(v, bool)
    }


def _rises(before: dict[str, float], after: dict[str, float]) -> bool:
    """Some number rose, and nothing else changed (the same query, the next page)."""
    if not before or before.keys() != after.keys():
        return False
    return any(after[k] > before[k] for k in before) and all(after[k] >= before[k] for k in before)


def _paced_by_paging(found: pl.DataFrame, events: pl.DataFrame) -> pl.Series:
    """The rows of ``found`` said while their run was paging forward (``_paging_spans``).
    Only runs with a repeat can lose one: the others' tool calls are not read."""
    repeating = found.filter(pl.col("earlier_seq").is_not_null())["run_id"].unique()
    spans = _paging_spans(events.filter(pl.col("run_id").is_in(repeating.implode())))
    if not spans:
        return pl.Series("row", [], pl.UInt32)
    frame = pl.DataFrame(spans, schema=["run_id", "lo", "hi"], orient="row")
    inside = found.join(frame, on="run_id").filter(pl.col("seq").is_between("lo", "hi"))
    return inside["row"].unique()


class NearDuplicateMessages(Detector):
    code = "LOOP02"
    name = "near-duplicate-messages"
    stall_class = "loop"
    thresholds = ("similarity", "dup_window", "dup_min_repeats", "dup_min_share")
    fix: ClassVar[dict[str, str]] = {
        "classic": "Agents are repeating themselves: add a termination condition "
        "(is_termination_msg on every agent and the GroupChatManager), cap max_round / "
        "max_consecutive_auto_reply, and give each agent a concrete exit criterion in its "
        "system message.",
        "agentchat": "Agents are repeating themselves: add a termination condition "
        "(TextMentionTermination | MaxMessageTermination | TimeoutTermination) and give each "
        "agent a concrete exit criterion in its system message.",
        "agent_framework": (
            "Agents are repeating themselves: give the group chat a "
            "termination_condition and max_rounds (GroupChatBuilder(..., "
            "termination_condition=..., max_rounds=...)), and give each agent a "
            "concrete exit criterion in its instructions."
        ),
    }

    def check(self, events: pl.DataFrame, cfg: Thresholds) -> Iterator[RunFinding]:
        msgs = message_rows(events)
        big = msgs.group_by("run_id").len().filter(pl.col("len") > cfg.dup_min_repeats)
        wanted = pl.col("run_id").is_in(big["run_id"].implode())
        msgs = msgs.filter(wanted)  # row for row with ``found``
        # The pipeline's scan of every run, else this one's of the runs long enough to loop.
        found = (
            self.repeats.filter(wanted) if self.repeats is not None else scan(msgs, cfg)
        ).with_row_index("row")
        paced = _paced_by_paging(found, events)
        runs = (
            found.filter(~pl.col("row").is_in(paced.implode()))
            .with_columns(
                index=pl.int_range(pl.len()).over("run_id"), total=pl.len().over("run_id")
            )
            # A repeat reporting a count towards a total ("batch 4 of 20") is progress, and so
            # is one using a word its speaker never used (a new table's name): news, not
            # repetition. One whose only news is its numbers ("v3" after "v2") weighs half.
            .filter(
                pl.col("earlier_seq").is_not_null() & ~pl.col("progress") & ~pl.col("new_words")
            )
            .with_columns(weight=pl.when(pl.col("same_numbers")).then(1.0).otherwise(NEW_NUMBERS))
            .group_by("run_id", maintain_order=True)
            .agg(
                repeats=pl.len(),
                weighted=pl.col("weight").sum(),
                # Share of the messages from the first repeat on.
                share=pl.col("weight").sum() / (pl.col("total").first() - pl.col("index").first()),
                total=pl.col("total").first(),
                agents=pl.col("agent").replace("", "?").unique(),
                rows=pl.col("row"),
                max_similarity=pl.col("similarity").max(),
                min_similarity=pl.col("similarity").min(),
            )
            .filter(
                (pl.col("weighted") >= cfg.dup_min_repeats) & (pl.col("share") >= cfg.dup_min_share)
            )
        )
        found_runs = list(runs.iter_rows(named=True))
        shown = [spread(run["rows"]) for run in found_runs]
        for run, repeats, rows in zip(
            found_runs, rows_of(found, shown), rows_of(msgs, shown), strict=True
        ):
            fix = self._failing_code(msgs["content"].gather(run["rows"]))
            yield run["run_id"], self._finding(run, repeats, rows, fix)

    def _failing_code(self, repeated: pl.Series) -> str:
        """A loop of failed code runs: the fix quotes the error that keeps coming back."""
        failed = repeated.filter(repeated.str.contains(FAILED_RUN).fill_null(False))
        if failed.is_empty():
            return ""
        errors = _ERROR_LINE.findall(failed[-1] or "")
        said = f" with `{excerpt(errors[-1], 160)}`" if errors else ""
        limit = (
            "keep max_consecutive_auto_reply low"
            if self.family == "classic"
            else "cap CodeExecutorAgent's max_retries_on_error and the team's turns"
        )
        return (
            f"The same code keeps failing{said} ({len(failed)} failed runs repeated): the agent "
            "re-sends it without fixing the cause. Tell it in its system message to change the "
            "code after a failure or stop and report the error, make sure the error reaches it "
            f"whole, and {limit} so a fix that does not come ends the run early."
        )

    def _finding(
        self,
        run: dict[str, Any],
        repeats: list[dict[str, Any]],
        rows: list[dict[str, Any]],
        fix: str = "",
    ) -> Finding:
        count, share = run["repeats"], run["share"]
        agents = sorted(run["agents"])
        score = min(0.9, 0.5 + 0.04 * run["weighted"] * share)
        items = [
            evidence(row, f"{repeat['similarity']:.0f}% like seq {repeat['earlier_seq']}")
            for repeat, row in zip(repeats, rows, strict=True)
        ]
        return self.finding(
            phase="model_call",
            score=round(score, 3),
            summary=f"{count} of {run['total']} messages repeat an earlier one nearly "
            f"word for word ({', '.join(agents)})",
            evidence=tuple(items),
            metrics={
                "repeat_count": count,
                "repeat_share": round(share, 3),
                "max_similarity": run["max_similarity"],
                "min_similarity": run["min_similarity"],
            },
            fix=fix,
        )
