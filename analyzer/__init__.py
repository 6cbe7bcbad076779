"""autogen-postmortem: offline post-mortems of stuck AutoGen runs from their saved logs."""

from __future__ import annotations

__version__ = "0.1.0"

from .findings import Diagnosis, Evidence, Finding
from .pipeline import AnalysisResult, RunResult, analyze_file
from .schema import EVENT_SCHEMA, TURN_SCHEMA

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
