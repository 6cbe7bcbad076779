"""Export a Phoenix project's traces as ``px traces <dir>`` writes them: one ``<traceId>.json``
per trace, ``{traceId, spans, rootSpan, startTime, endTime, duration, status}``, the spans as
Phoenix's REST API returns them (``GET /v1/projects/<project>/spans``).

The Phoenix CLI (``@arizeai/phoenix-cli``) is not on the npm registry this machine reaches, so
its two steps are done here as its source does them (``src/commands/traces.ts``: page through
the spans; ``src/trace.ts``: group by trace, build each trace). The spans are the server's own.
"""

from __future__ import annotations

import json
import os
import shutil
import time
import urllib.error
import urllib.parse
import urllib.request
from datetime import UTC, datetime
from pathlib import Path
from typing import Any


def fetch_spans(base: str, project: str) -> list[dict[str, Any]]:
    spans: list[dict[str, Any]] = []
    cursor: str | None = None
    while True:
        query = {"limit": "1000", **({"cursor": cursor} if cursor else {})}
        url = f"{base}/v1/projects/{urllib.parse.quote(project)}/spans?{urllib.parse.urlencode(query)}"
        try:
            with urllib.request.urlopen(url, timeout=30) as response:  # a local Phoenix server
                page = json.load(response)
        except urllib.error.HTTPError as exc:
            if exc.code == 404:  # no span ever reached the server: no project of that name
                return spans
            raise
        spans.extend(page["data"])
        cursor = page.get("next_cursor")
        if not cursor:
            return spans


def _ms(stamp: str | None) -> float | None:
    if not stamp:
        return None
    return datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp() * 1000


def _iso(ms: float) -> str:
    """As JavaScript's ``toISOString``: UTC, whole milliseconds, ``Z``."""
    at = datetime.fromtimestamp(int(ms) / 1000, UTC)
    return at.replace(tzinfo=None).isoformat(timespec="milliseconds") + "Z"


def build_trace(spans: list[dict[str, Any]]) -> dict[str, Any]:
    starts = [t for s in spans if (t := _ms(s.get("start_time"))) is not None]
    ends = [t for s in spans if (t := _ms(s.get("end_time"))) is not None]
    start, end = (min(starts) if starts else None), (max(ends) if ends else None)
    failed = any(
        s.get("status_code") == "ERROR" or (s.get("attributes") or {}).get("error") for s in spans
    )
    trace: dict[str, Any] = {"traceId": spans[0]["context"]["trace_id"], "spans": spans}
    root = next((s for s in spans if not s.get("parent_id")), None)
    if root is not None:
        trace["rootSpan"] = root
    if start is not None:
        trace["startTime"] = _iso(start)
    if end is not None:
        trace["endTime"] = _iso(end)
    if start is not None and end is not None:
        trace["duration"] = int(end) - int(start)  # of the whole milliseconds written
    trace["status"] = "ERROR" if failed else "OK"
    return trace


def export(base: str, project: str, directory: Path) -> list[Path]:
    """Every trace of ``project`` written to ``directory``, largest first."""
    by_trace: dict[str, list[dict[str, Any]]] = {}
    for span in fetch_spans(base, project):
        by_trace.setdefault(span["context"]["trace_id"], []).append(span)
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for trace_id, spans in sorted(by_trace.items(), key=lambda kv: -len(kv[1])):
        path = directory / f"{trace_id}.json"
        path.write_text(json.dumps(build_trace(spans), indent=2), encoding="utf-8")
        written.append(path)
    return written


def keep_run_trace(work: Path) -> None:
    """After a run that sent its spans to Phoenix (project ``$PHOENIX_PROJECT`` on
    ``$PHOENIX_HOST``): its own trace, the one with most spans (autogen-core starts a trace
    per agent creation), as ``work/phoenix-trace.json``."""
    time.sleep(3)  # the exporter's last batch, sent as the process exits
    base = os.environ.get("PHOENIX_HOST", "http://127.0.0.1:6006")
    written = export(base, os.environ["PHOENIX_PROJECT"], work / "phoenix")
    if written:
        shutil.copy(written[0], work / "phoenix-trace.json")
