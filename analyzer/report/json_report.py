"""The machine-readable contract (``--json``). Stable: other tools parse it.

Top level: ``{"tool", "version", "runs": [...], "errors": [...], "skipped": [...]}``; see
README "JSON output" for every field. Every text, names included, is secret-redacted.
"""

from __future__ import annotations

from typing import Any

from .. import __version__
from ..pipeline import AnalysisResult, RunResult
from .inert import redact_tree

TOOL = "autogen-postmortem"


def run_to_dict(result: AnalysisResult, run: RunResult) -> dict[str, Any]:
    d = run.diagnosis
    return {
        "source": result.source,
        "format": result.format,
        "run_id": run.run_id,
        "verdict": {
            "stall_class": d.label,
            "phase": d.phase,
            "confidence": d.confidence,
            "summary": d.summary,
            "fix": d.fix,
            "because": list(d.because),
        },
        "ending": run.ending.as_json(),
        "findings": [
            {
                "code": f.code,
                "detector": f.detector,
                "stall_class": f.stall_class,
                "phase": f.phase,
                "score": round(f.score, 3),
                "summary": f.summary,
                "metrics": {
                    k: round(v, 3) if isinstance(v, float) else v for k, v in f.metrics.items()
                },
                "evidence": [
                    {
                        "file": result.source,
                        "line": e.source_line,
                        "ref": e.ref,
                        "seq": e.seq,
                        "agent": e.agent,
                        "excerpt": e.excerpt,
                        "note": e.note,
                    }
                    for e in f.evidence
                ],
            }
            for f in run.findings
        ],
        "stats": run.stats.as_dict(),
    }


def document(
    results: list[AnalysisResult],
    errors: list[tuple[str, str]],
    skipped: list[tuple[str, str]] = (),  # type: ignore[assignment]
) -> dict[str, Any]:
    return redact_tree(  # every text, names and keys included
        {
            "tool": TOOL,
            "version": __version__,
            "runs": [run_to_dict(r, run) for r in results for run in r.runs],
            "errors": [{"source": s, "message": m} for s, m in errors],
            "skipped": [{"source": s, "reason": m} for s, m in skipped],
        }
    )
