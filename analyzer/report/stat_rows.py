"""The run statistics as the reports show them: one (label, text) row each. Pure."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..cost import describe
from ..redact import excerpt

_LONGEST = 300  # a termination reason can be a whole tool result: the JSON keeps it whole


def stat_rows(stats: Mapping[str, Any]) -> list[tuple[str, str]]:
    rows = []
    for key, value in stats.items():
        if key == "cost":
            text = describe(value)
        elif isinstance(value, list):
            text = ", ".join(map(str, value)) or "-"
        elif value is None:
            text = "-"
        else:
            text = excerpt(str(value), _LONGEST) if isinstance(value, str) else str(value)
        rows.append((key.replace("_", " "), text))
    return rows
