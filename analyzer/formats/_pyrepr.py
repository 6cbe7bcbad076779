"""Read the Python reprs AgentChat prints: ``FunctionCall(...)``, ``FunctionExecutionResult(...)``."""

from __future__ import annotations

import ast
import re

_Q = r"""('(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*")"""
FUNCTION_CALL = re.compile(rf"FunctionCall\(id={_Q}, arguments={_Q}, name={_Q}\)")
EXECUTION_RESULT = re.compile(
    rf"FunctionExecutionResult\(content={_Q}, name={_Q}, call_id={_Q}, is_error=(True|False)\)"
)


def unquote(literal: str) -> str:
    """A Python string literal from a repr, decoded; the raw text if it will not decode."""
    if "\\" not in literal and literal[:1] in "'\"" and literal[-1:] == literal[:1]:
        return literal[1:-1]  # nothing escaped: the common case, without compiling
    try:
        value = ast.literal_eval(literal)
    except (ValueError, SyntaxError, MemoryError, RecursionError):
        return literal[1:-1]
    return value if isinstance(value, str) else str(value)


def function_calls(text: str) -> list[tuple[str, str, str]]:
    """(id, arguments JSON text, name) for every FunctionCall in ``text``."""
    return [(unquote(i), unquote(a), unquote(n)) for i, a, n in FUNCTION_CALL.findall(text)]


def execution_results(text: str) -> list[tuple[str, str, str, bool]]:
    """(content, name, call_id, is_error) for every FunctionExecutionResult in ``text``."""
    return [
        (unquote(c), unquote(n), unquote(i), e == "True")
        for c, n, i, e in EXECUTION_RESULT.findall(text)
    ]
