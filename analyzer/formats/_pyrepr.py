"""Read the Python reprs AgentChat prints: ``FunctionCall(...)``, ``FunctionExecutionResult(...)``."""

from __future__ import annotations

import ast
import re

# A quoted Python literal, its loop unrolled (runs of plain characters between escapes): the
# same strings as ('(?:[^'\\]|\\.)*'), without a branch per character (16x on a long tool result).
QUOTED = r"'[^'\\]*(?:\\.[^'\\]*)*'" + "|" + r'"[^"\\]*(?:\\.[^"\\]*)*"'
_Q = f"({QUOTED})"
FUNCTION_CALL = re.compile(rf"FunctionCall\(id={_Q}, arguments={_Q}, name={_Q}\)")
# Its fields grew over versions: (content, call_id) in autogen-core 0.4.0-0.4.4, then is_error
# and name; read keyword by keyword.
RESULT_START = re.compile(r"FunctionExecutionResult\(")
KEYWORD = re.compile(rf"(\w+)=({_Q}|True|False|None)(, |\))")


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


def execution_results(text: str) -> list[tuple[str, str | None, str, bool]]:
    """(content, name, call_id, is_error) for every FunctionExecutionResult in ``text``
    (name None and is_error False where the version did not have them)."""
    found = []
    for start in RESULT_START.finditer(text):
        fields, at = {}, start.end()
        while m := KEYWORD.match(text, at):
            fields[m[1]] = m[2]
            at = m.end()
            if m[3] == ")":
                break
        if "content" in fields and "call_id" in fields:
            name = fields.get("name")
            found.append(
                (
                    unquote(fields["content"]),
                    unquote(name) if name and name[0] in "'\"" else None,
                    unquote(fields["call_id"]),
                    fields.get("is_error") == "True",
                )
            )
    return found
