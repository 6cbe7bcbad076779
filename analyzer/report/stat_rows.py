"""The run statistics as the reports show them: one (label, text) row each. Pure."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..cost import describe
from ..redact import excerpt

_LONGEST = 300  # a termination reason can be a whole tool result: the JSON keeps it whole


def coverage_text(coverage: Mapping[str, Any] | None) -> str:
    """``read 189 of 216 lines (87.5%); not read: line outside any message: 27 (from line 1)``."""
    if not coverage:
        return "-"
    share = coverage["share"]
    text = f"read {coverage['read']:,} of {coverage['total']:,} {coverage['unit']} ({share:.1%})"
    unread = sorted(coverage["unread"], key=lambda u: -u["count"])
    if unread:
        text += "; not read: " + ", ".join(
            f"{excerpt(u['kind'], 80)}: {u['count']:,} (from line {u['lines'][0]})"
            for u in unread[:3]
        )
        text += f", and {len(unread) - 3} more kinds" if len(unread) > 3 else ""
    return text


def stat_rows(stats: Mapping[str, Any]) -> list[tuple[str, str]]:
    rows = []
    for key, value in stats.items():
        if key == "cost":
            text = describe(value)
        elif key == "coverage":
            text = coverage_text(value)
        elif isinstance(value, list):
            text = ", ".join(map(str, value)) or "-"
        elif value is None:
            text = "-"
        else:
            text = excerpt(str(value), _LONGEST) if isinstance(value, str) else str(value)
        rows.append((key.replace("_", " "), text))
    return rows
