"""autogen-postmortem: offline post-mortems of stuck AutoGen runs from their saved logs.

The public names load on first use, so ``autogen-postmortem --version`` and ``--help`` pay
for neither polars nor matplotlib.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

_EXPORTS = {
    "Diagnosis": "findings",
    "Evidence": "findings",
    "Finding": "findings",
    "AnalysisResult": "pipeline",
    "RunResult": "pipeline",
    "analyze_file": "pipeline",
    "EVENT_SCHEMA": "schema",
    "TURN_SCHEMA": "schema",
}

if TYPE_CHECKING:
    from .findings import Diagnosis, Evidence, Finding
    from .pipeline import AnalysisResult, RunResult, analyze_file
    from .schema import EVENT_SCHEMA, TURN_SCHEMA


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(import_module(f".{_EXPORTS[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "EVENT_SCHEMA",
    "TURN_SCHEMA",
    "AnalysisResult",
    "Diagnosis",
    "Evidence",
    "Finding",
    "RunResult",
    "__version__",
    "analyze_file",
]
