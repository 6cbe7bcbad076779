"""The machine-readable contract (``--json``). Stable: other tools parse it.

Top level: ``{"tool", "version", "runs": [...], "errors": [...], "skipped": [...]}``; see
README "JSON output" for every field. All text is secret-redacted.
"""

from __future__ import annotations

from typing import Any

from .. import __version__
from ..pipeline import AnalysisResult, RunResult
from ..redact import redact

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
            "summary": redact(d.summary),
            "fix": d.fix,
            "because": list(d.because),
        },
        "findings": [
            {
                "code": f.code,
                "detector": f.detector,
                "stall_class": f.stall_class,
                "phase": f.phase,
                "score": round(f.score, 3),
                "summary": redact(f.summary),
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
                        "note": redact(e.note),
                    }
                    for e in f.evidence
                ],
            }
            for f in run.findings
        ],
        "stats": {k: redact(v) if isinstance(v, str) else v for k, v in run.stats.items()},
    }


def document(
    results: list[AnalysisResult],
    errors: list[tuple[str, str]],
    skipped: list[tuple[str, str]] = (),  # type: ignore[assignment]
) -> dict[str, Any]:
    return {
        "tool": TOOL,
        "version": __version__,
        "runs": [run_to_dict(r, run) for r in results for run in r.runs],
        "errors": [{"source": s, "message": redact(m)} for s, m in errors],
        "skipped": [{"source": s, "reason": m} for s, m in skipped],
    }
