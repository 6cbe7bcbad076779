"""The normalised event table every parser emits, and the turn table built from it.

One row per observable event, in file order. ``seq`` is the key evidence refers to;
``source_line`` is the 1-based line (or SQLite row id) for ``file:line`` citations;
``source_ref`` says where that is when a line number is not enough (SQLite: ``table#rowid``).
"""

from __future__ import annotations

from typing import Any

import polars as pl

EVENT_KINDS = (
    "message",  # an agent's utterance to another agent or the group
    "tool_call",  # the model asked for a tool (or a code block) to run
    "tool_result",  # a tool's result came back to the conversation
    "input_request",  # a human-input prompt was shown (or requested)
    "input_reply",  # a human answered (or the empty reply was used)
    "llm_call",  # one model call with usage and latency where logged
    "termination",  # the framework ended the chat, with a reason
    "error",  # exception, traceback, API error
    "other",  # everything else worth keeping; see SUBKINDS
)
EventKind = pl.Enum(list(EVENT_KINDS))
CODE_TOOL = "code_execution"  # the tool name a code block's execution gets, in every format

# Finer, format-independent labels. Detectors match on these, never on format-specific text.
SUBKINDS = {
    "speaker_selected": "a group-chat manager picked `recipient` as next speaker",
    "tool_exec_start": "the executing agent started running a tool (EXECUTING FUNCTION)",
    "tool_exec_end": "the executing agent finished running a tool (EXECUTED FUNCTION)",
    "code_exec_start": "the executing agent started running a code block",
    "relay": "a group-chat manager's broadcast copy of a message (runtime logs)",
    "reply_func": "a reply function returned (runtime logs); content is its name",
    "agent_config": "an agent's configuration; content is JSON with human_input_mode etc.",
    "nested_chat": "a nested chat started",
    "auto_reply": "no human input was received and the auto-reply was used",
    "traceback": "a Python traceback; content is the whole traceback",
    "interrupt": "a traceback ending in KeyboardInterrupt (the run was stopped by SIGINT)",
    "cancelled": "a span closed as its run crashed (its task cancelled): its operation unfinished",
    "rpc_send": "a direct runtime message that expects a response",
    "rpc_respond": "the response to a direct runtime message",
    "stream_chunk": "a streamed model-output chunk",
    "handoff": "an agent handed the conversation to `recipient`",
    "selector_call": "a model call made to choose the next speaker",
    "llm_start": "a streamed model call began (its end is a separate llm_call row)",
    "selector_chat": "a message of the internal speaker-selection chat (classic 'auto' mode)",
    "selector_fallback": "the selector model named no valid speaker: the previous one (or the first) was used",
    "span_open": "a span other spans name as parent was never exported: still open at the end",
    "ledger": "Magentic-One's progress ledger for a round: satisfied=, in_loop=, progress=, next=",
    "replan": "Magentic-One re-planned: its stall count reached max_stalls",
    "reset": "a team member was reset (GroupChatReset; Magentic-One resets all when it re-plans)",
    "task_ledger": "a message that is Magentic-One's task ledger (its plan; again on a re-plan)",
    "model_retry": "the model client retrying a refused call (openai's 'Retrying request', httpx's 429)",
}

_EVENT_COLUMNS: dict[str, Any] = {
    "run_id": pl.String,
    "seq": pl.UInt32,
    "source_line": pl.UInt32,
    "source_ref": pl.String,
    "ts": pl.Datetime("us", "UTC"),
    "kind": EventKind,
    "subkind": pl.String,
    "agent": pl.String,
    "recipient": pl.String,
    "content": pl.String,
    "tool_name": pl.String,
    "tool_call_id": pl.String,
    "tool_args": pl.String,
    "prompt_tokens": pl.Int64,
    "completion_tokens": pl.Int64,
    "duration_ms": pl.Float64,
    "is_error": pl.Boolean,
    "source_format": pl.String,
    "model": pl.String,  # the model a call went to, where the log names it
    "cost_usd": pl.Float64,  # a call's cost as the framework logged it (runtime logging)
}
EVENT_SCHEMA = pl.Schema(_EVENT_COLUMNS)

_TURN_COLUMNS: dict[str, Any] = {
    "run_id": pl.String,
    "turn": pl.UInt32,
    "seq_start": pl.UInt32,
    "seq_end": pl.UInt32,
    "agent": pl.String,
    "n_events": pl.UInt32,
    "ts_start": pl.Datetime("us", "UTC"),
    "ts_end": pl.Datetime("us", "UTC"),
    "gap_before_s": pl.Float64,
    "content_chars": pl.Int64,
    "cum_content_chars": pl.Int64,
    "cum_prompt_tokens": pl.Int64,
}
TURN_SCHEMA = pl.Schema(_TURN_COLUMNS)


def validate_events(df: pl.DataFrame) -> None:
    """Raise ValueError unless ``df`` honours the event contract."""
    if df.schema != EVENT_SCHEMA:
        raise ValueError(f"event schema mismatch: {dict(df.schema)}")
    if df["kind"].null_count():
        raise ValueError("event kind has nulls")
    bad = set(df["subkind"].drop_nulls().unique().to_list()) - set(SUBKINDS)
    if bad:
        raise ValueError(f"unknown subkinds: {sorted(bad)}")
    seqs = df.group_by("run_id", maintain_order=True).agg(
        ok=(pl.col("seq").first() == 0) & (pl.col("seq").diff().drop_nulls() == 1).all()
    )
    broken = seqs.filter(~pl.col("ok"))["run_id"]
    if broken.len():
        raise ValueError(f"seq of run {broken[0]!r} is not contiguous from 0")


def frames_by_run(frame: pl.DataFrame) -> dict[str, pl.DataFrame]:
    """An event or turn frame's rows per run id, runs in order of first appearance. A one-run
    frame is returned as it is: partitioning copies every column (twice a large log's memory)."""
    if frame.is_empty():
        return {}
    if frame["run_id"].n_unique() == 1:
        return {frame["run_id"][0]: frame}
    # Not as_dict=True: polars then runs a query per part to read its key (0.2 s for 900 runs).
    parts = frame.partition_by("run_id", maintain_order=True)
    names = frame["run_id"].unique(maintain_order=True).to_list()
    return dict(zip(map(str, names), parts, strict=True))
