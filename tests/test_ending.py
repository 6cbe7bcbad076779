"""The ending stage: how each run ended, on every real sample, cut short, and in small cases."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from analyzer import analyze_file
from analyzer.classify import LIMITS
from analyzer.ending import RunEnding, condition_of, find_endings
from analyzer.findings import STALL_CLASSES
from analyzer.traceback_frames import raised_at

from .conftest import ROOT, labelled_samples, make_events, msg

CASES = labelled_samples()


def only(endings: dict[str, RunEnding]) -> RunEnding:
    (end,) = endings.values()
    return end


IDS = [str(p.relative_to(ROOT)) for p, _ in CASES]


@pytest.mark.parametrize(
    ("reason", "condition"),
    [
        # Reasons as the releases print them (classic TERMINATING RUN, AgentChat conditions).
        ("Termination message condition on agent 'user' met", "text_mention"),
        (
            "Termination message condition on the GroupChatManager 'chat_manager' met",
            "text_mention",
        ),
        ("Maximum rounds (6) reached", "max_round"),
        ("Maximum turns (2) reached", "max_turns"),
        ("Maximum number of consecutive auto-replies reached", "max_consecutive_auto_reply"),
        ("Maximum number of messages 16 reached, current message count: 16", "max_messages"),
        ("Text 'APPROVE' mentioned", "text_mention"),
        ("Timeout of 30.0 seconds reached", "timeout"),
        ("Handoff to user from triage detected.", "handoff"),
        ("a person typed exit", "human_exit"),
        ("GroupChatTermination", "other"),
    ],
)
def test_a_termination_names_its_condition(reason: str, condition: str) -> None:
    assert condition_of(reason) == condition


@pytest.mark.parametrize(("path", "expected"), CASES, ids=IDS)
def test_how_each_sample_ended_agrees_with_what_happened(
    path: Path, expected: dict[str, Any]
) -> None:
    """A healthy run terminated or left no end; a stall never 'terminated' unless a limit
    ended it; a run that died on an exception crashed."""
    run = analyze_file(path).runs[0]
    end = run.ending
    if expected["verdict"] == "healthy":
        assert end.kind in ("terminated", "no_end_recorded"), end.summary
    elif expected["verdict"] in STALL_CLASSES and end.kind == "terminated":
        # a limit, or a form that does not say which condition (OTel: GroupChatTermination)
        assert end.condition in (*LIMITS, "other"), end.summary
    elif expected["verdict"] == "error":
        assert end.kind == "crashed", end.summary
    if end.kind == "no_end_recorded":
        assert "killed or timed out" not in run.diagnosis.summary


AGENTCHAT_ENDED = [
    (p, e)
    for p, e in CASES
    if e["verdict"] == "healthy"
    and p.name in ("events.log", "events.jsonl")
    and p.parent.parent.name.startswith("agentchat")
]


@pytest.mark.parametrize(
    ("path", "expected"),
    AGENTCHAT_ENDED,
    ids=[str(p.relative_to(ROOT)) for p, _ in AGENTCHAT_ENDED],
)
def test_a_finished_agentchat_log_cut_before_its_end_is_cut_off(
    path: Path, expected: dict[str, Any], tmp_path: Path
) -> None:
    """AgentChat logging records every end: without it the run was cut off, never healthy."""
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    end_line = analyze_file(path).runs[0].ending.evidence[0].source_line
    cut = tmp_path / path.name
    cut.write_text("".join(lines[: end_line - 1]), encoding="utf-8")
    run = analyze_file(cut).runs[0]
    assert run.ending.kind == "cut_off", run.ending.summary
    assert run.diagnosis.label != "healthy"


def test_terminate_followed_by_a_next_speaker_did_not_end_the_chat() -> None:
    events = make_events(
        msg("coder", "Done. TERMINATE", "chat_manager"),
        {
            "kind": "other",
            "subkind": "speaker_selected",
            "agent": "chat_manager",
            "recipient": "coder",
        },
    )
    assert only(find_endings(events)).kind != "terminated"
    alone = make_events(msg("coder", "Done. TERMINATE", "chat_manager"))
    ended = only(find_endings(alone))
    assert (ended.kind, ended.condition, ended.inferred) == ("terminated", "text_mention", True)


def test_a_shutdown_error_after_a_stop_is_not_a_crash() -> None:
    events = make_events(
        msg("user", "go", "analyst"),
        {
            "kind": "error",
            "content": "Traceback (most recent call last):\nValueError: task_done() called too many times",
        },
    )
    assert only(find_endings(events)).kind == "cut_off"
    crashed = make_events(
        msg("user", "go", "analyst"),
        {
            "kind": "error",
            "content": "Traceback (most recent call last):\n  File \"/app/tools.py\", line 3, in parse\nKeyError: 'rows'",
        },
    )
    end = only(find_endings(crashed))
    assert (end.kind, end.condition) == ("crashed", "KeyError")
    assert "tools.py:3 in parse" in end.detail


def test_raised_at_names_the_innermost_frame() -> None:
    tb = (
        'Traceback (most recent call last):\n  File "/a/app.py", line 9, in <module>\n'
        '  File "/b/openai/_base_client.py", line 1047, in request\nopenai.AuthenticationError: 401'
    )
    assert raised_at(tb) == "_base_client.py:1047 in request"
    assert raised_at("no frames") == ""


def test_a_reply_function_ending_the_chat_after_terminate_is_that_mention() -> None:
    """Runtime logs record the end as the reply function that ended it; the message it
    answered says which condition that was."""
    ended = make_events(
        msg("migrator", "All 20 tables migrated. TERMINATE", "user"),
        {
            "kind": "termination",
            "agent": "user",
            "content": "user: check_termination_and_human_reply ended the chat",
        },
    )
    assert only(find_endings(ended)).condition == "text_mention"
    limit = make_events(
        msg("migrator", "Migrated `orders`.", "user"),
        {
            "kind": "termination",
            "agent": "user",
            "content": "user: check_termination_and_human_reply ended the chat",
        },
    )
    assert only(find_endings(limit)).condition == "other"


def _settings(agent: str, mode: str, cap: int = 100) -> dict[str, Any]:
    config = {"human_input_mode": mode, "max_consecutive_auto_reply": cap}
    return {
        "kind": "other",
        "subkind": "agent_config",
        "agent": agent,
        "content": json.dumps(config),
    }


def _reply_func(agent: str, name: str = "check_termination_and_human_reply") -> dict[str, Any]:
    return {"kind": "other", "subkind": "reply_func", "agent": agent, "content": name}


def test_a_runtime_chat_ended_by_its_auto_reply_limit_says_so() -> None:
    """The reply function ended the chat after its agent had sent its
    max_consecutive_auto_reply replies, with no TERMINATE: the limit ended it."""
    rows: list[dict[str, Any]] = [_settings("user", "NEVER", cap=3)]
    for k in range(3):
        rows += [msg("user", f"exitcode: 1 try {k}", "coder"), msg("coder", "again", "user")]
    ended = [*rows, _reply_func("user")]
    ended.append(
        {
            "kind": "termination",
            "agent": "user",
            "content": "user: check_termination_and_human_reply ended the chat",
        }
    )
    end = only(find_endings(make_events(*ended)))
    assert (end.kind, end.condition) == ("terminated", "max_consecutive_auto_reply")
    assert "max_consecutive_auto_reply=3" in end.summary
    # Fewer replies than the cap: some other condition (a custom is_termination_msg).
    early = [_settings("user", "NEVER", cap=5), *ended[1:]]
    assert only(find_endings(make_events(*early))).condition == "other"


@pytest.mark.parametrize(
    ("mode", "replied", "kind"),
    [
        ("NEVER", False, "terminated"),
        ("NEVER", True, "no_end_recorded"),
        ("ALWAYS", False, "no_end_recorded"),
    ],
    ids=["max-turns", "it-answered", "asks-a-person"],
)
def test_a_runtime_chat_whose_last_receiver_never_answers_ended_by_max_turns(
    mode: str, replied: bool, kind: str
) -> None:
    rows: list[dict[str, Any]] = [
        _settings("user", mode),
        msg("user", "Summarise it.", "writer"),
        _reply_func("writer", "generate_oai_reply"),
        msg("writer", "Churn fell to 3%.", "user"),
    ]
    if replied:
        rows.append(_reply_func("user"))
    end = only(find_endings(make_events(*rows)))
    assert end.kind == kind
    if kind == "terminated":
        assert end.condition == "max_turns" and not end.inferred
