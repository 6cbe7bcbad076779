"""The quoted-literal pattern of the repr readers matches exactly what the plain one does."""

from __future__ import annotations

import random
import re

from analyzer.formats import _pyrepr, _runtime_records
from analyzer.formats.agentchat_logging import records

PLAIN = r"""'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*\""""  # a branch per character: the reference
TOKENS = [
    "a",
    "'",
    '"',
    "\\",
    "\n",
    " ",
    "content=",
    '"content": ',
    "StopMessage(",
    "GroupChatTermination",
]


def random_texts(n: int = 20_000) -> list[str]:
    rng = random.Random(20261201)
    return ["".join(rng.choices(TOKENS, k=rng.randint(0, 14))) for _ in range(n)]


def test_quoted_matches_the_plain_pattern() -> None:
    pairs = [
        (re.compile(f"({PLAIN})"), re.compile(f"({_pyrepr.QUOTED})")),
        (
            re.compile(rf"GroupChatTermination.*?StopMessage\(.*?content=({PLAIN})", re.S),
            records.TERMINATION,
        ),
        (
            re.compile(r"""content='((?:[^'\\]|\\.)*)'|"content":\s*"((?:[^"\\]|\\.)*)\""""),
            _runtime_records._CONTENT,
        ),
    ]
    for text in random_texts():
        for plain, unrolled in pairs:
            found, want = unrolled.search(text), plain.search(text)
            assert (found and found.groups()) == (want and want.groups()), (text, plain.pattern)
            assert unrolled.findall(text) == plain.findall(text), text


def test_a_long_tool_result_is_read_whole() -> None:
    content = 'owned by the platform team, it\\\'s "fine". ' * 5000
    text = f"[FunctionExecutionResult(content='{content}', name='lookup', call_id='c1', is_error=False)]"
    ((got, name, call_id, is_error),) = _pyrepr.execution_results(text)
    assert got == content.replace("\\'", "'") and (name, call_id, is_error) == (
        "lookup",
        "c1",
        False,
    )
