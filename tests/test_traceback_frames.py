"""Tracebacks read as frames: chained chunks, the stopped chunk, the raised line."""

from __future__ import annotations

from analyzer.traceback_frames import chunks, final, frames, raised_at, stopped_chunk

CHAINED = (
    "Traceback (most recent call last):\n"
    '  File "/app/tools.py", line 12, in fetch\n'
    "    time.sleep(600)\n"
    '  File "C:\\\\py\\\\asyncio\\\\runners.py", line 157, in _on_sigint\n'
    "KeyboardInterrupt\n"
    "\n"
    "During handling of the above exception, another exception occurred:\n"
    "\n"
    "Traceback (most recent call last):\n"
    '  File "/venv/autogen_core/_queue.py", line 222, in task_done\n'
    '    raise ValueError("task_done() called too many times")\n'
    "ValueError: task_done() called too many times"
)


def test_chained_tracebacks_split_and_end_in_what_they_raised() -> None:
    first, second = chunks(CHAINED)
    assert final(first) == "KeyboardInterrupt"  # not the chaining sentence
    assert final(second) == "ValueError: task_done() called too many times"
    assert stopped_chunk(CHAINED) == first
    assert stopped_chunk(second) == ""


def test_frames_keep_each_frame_and_its_code_line() -> None:
    stack = frames(stopped_chunk(CHAINED))
    assert [(f.file, f.line, f.func) for f in stack] == [
        ("tools.py", 12, "fetch"),
        ("runners.py", 157, "_on_sigint"),  # a Windows path too
    ]
    assert stack[0].code == "time.sleep(600)"
    assert stack[1].code == ""  # the next line is the exception, not code


def test_raised_at_is_the_innermost_frame_of_the_last_chunk() -> None:
    assert raised_at(CHAINED) == "_queue.py:222 in task_done"
    assert raised_at("ValueError: no frames") == ""
