"""One self-contained HTML page per run, and ``index.html`` for a batch. Pure.

A page is one file to attach to a ticket: styles inline, charts as inline SVG (their text
drawn as paths), no script, and a Content-Security-Policy that allows none, so even a log
text that escaped escaping could not run. Every log text goes through ``inert.line`` (secrets
redacted, controls replaced) and is HTML-escaped.
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from typing import Any

from ..classify import LABELS
from ..findings import Finding
from ..redact import excerpt
from .inert import line
from .names import BATCH_REPORT
from .stat_rows import stat_rows

_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"
_COMMENT = re.compile(r"<!--.*?-->", re.S)
_STYLE = """
body{font:15px/1.5 system-ui,-apple-system,"Segoe UI",sans-serif;margin:0;background:#f6f7f9;color:#1d2330}
main{max-width:1100px;margin:0 auto;padding:24px 32px 64px;background:#fff;min-height:100vh}
h1{font-size:22px;margin:0 0 4px;word-break:break-all}h2{font-size:18px;margin:32px 0 8px;border-bottom:1px solid #e3e6eb;padding-bottom:4px}
h3{font-size:15px;margin:20px 0 4px}.meta{color:#5b6475;margin:0 0 16px}
.verdict{display:flex;gap:16px;align-items:center;padding:14px 18px;border-radius:8px;background:#eef1f5;border-left:6px solid #8a94a6}
.verdict .label{font-size:20px;font-weight:700}.verdict .conf{color:#5b6475}
.stall{border-left-color:#d64545;background:#fdf0f0}.healthy{border-left-color:#3f9a5b;background:#eef8f1}
table{border-collapse:collapse;width:100%;font-size:13px;margin:8px 0}th,td{border:1px solid #e3e6eb;padding:4px 8px;text-align:left;vertical-align:top}
th{background:#f3f5f8}td.num{text-align:right;white-space:nowrap}code,.where{font-family:ui-monospace,Menlo,Consolas,monospace;font-size:12px;word-break:break-all}
.chart svg{width:100%;height:auto;border:1px solid #e3e6eb;border-radius:6px;margin:8px 0}
.muted{color:#5b6475}
"""


def _t(text: object) -> str:
    """Log text, inert and escaped."""
    return html.escape(line(text), quote=True)


def _page(title: str, body: list[str]) -> str:
    return "\n".join(
        [
            "<!doctype html>",
            '<html lang="en"><head><meta charset="utf-8">',
            f'<meta http-equiv="Content-Security-Policy" content="{_CSP}">',
            '<meta name="viewport" content="width=device-width, initial-scale=1">',
            f"<title>{title}</title><style>{_STYLE}</style></head>",
            "<body><main>",
            *body,
            "</main></body></html>",
            "",
        ]
    )


def inline_svg(svg: str) -> str:
    """A chart's SVG without its comments (matplotlib writes each text there)."""
    return _COMMENT.sub("", svg)


def render_html(
    result: Any, run: Any, svgs: Sequence[str] = (), charts_note: str | None = None
) -> str:
    """The run's page: verdict, why, fix, the evidence with its lines, charts, findings,
    turn timeline and stats."""
    d = run.diagnosis
    kind = "healthy" if d.label == "healthy" else "stall" if d.label != "unknown" else ""
    body = [
        f"<h1>Post-mortem: <span class='where'>{_t(result.source)}</span></h1>",
        f"<p class='meta'>Format <b>{_t(result.format)}</b>, run <code>{_t(run.run_id)}</code></p>",
        f"<div class='verdict {kind}'><span class='label'>{_t(LABELS[d.label])}</span>"
        f"<code>{_t(d.label)}</code><span class='conf'>phase {_t(d.phase)}, confidence "
        f"{d.confidence:.2f}</span></div>",
        "<h2>Why it stopped</h2>",
        f"<p>{_t(d.summary)}</p>",
        f"<p>How it ended: <b>{_t(run.ending.headline())}</b>: "
        f"{_t(run.ending.summary.rstrip('.'))}.</p>",
        "<h2>What to do</h2>",
        f"<p>{_t(d.fix) if d.fix else 'No specific fix.'}</p>",
    ]
    because = d.rests_on(run.findings)
    if because:
        body += ["<h2>Evidence</h2>", *_evidence(result.source, because)]
    body.append("<h2>Charts</h2>")
    if svgs:
        body += [f"<div class='chart'>{inline_svg(s)}</div>" for s in svgs]
    else:
        body.append(f"<p class='muted'>{_t(charts_note or 'Not drawn.')}</p>")
    body += ["<h2>Findings</h2>", *_findings(result.source, run.findings)]
    body += ["<h2>Turn timeline</h2>", *_turns(run)]
    body += ["<h2>Stats</h2>", *_stats(run.stats.as_dict())]
    return _page(f"Post-mortem: {_t(result.source)}", body)


def _evidence(source: str, findings: Sequence[Finding]) -> list[str]:
    rows = [
        f"<tr><td class='num'>{e.seq}</td><td class='where'>{_t(e.cite(source))}</td>"
        f"<td>{_t(e.agent or '')}</td><td>{_t(e.excerpt)}</td><td>{_t(e.note)}</td></tr>"
        for f in findings
        for e in f.evidence
    ]
    return [
        "<table><tr><th>seq</th><th>where</th><th>agent</th><th>excerpt</th><th>why</th></tr>",
        *rows,
        "</table>",
    ]


def _findings(source: str, findings: Sequence[Finding]) -> list[str]:
    if not findings:
        return ["<p class='muted'>No detector fired.</p>"]
    out = []
    for f in sorted(findings, key=lambda f: (-f.score, f.code)):
        out.append(
            f"<h3>{_t(f.code)} {_t(f.detector)} <span class='muted'>(score {f.score:.2f}, "
            f"argues {_t(f.stall_class)})</span></h3>"
        )
        out.append(f"<p>{_t(f.summary)}.</p>")
        if f.evidence:
            out += _evidence(source, [f])
    return out


def _turns(run: Any, head: int = 12, tail: int = 12) -> list[str]:
    turns = run.turns
    if turns.is_empty():
        return ["<p class='muted'>No turns (no agent activity was logged).</p>"]
    firsts = run.events.select("source_line", "kind", "content", "tool_name")
    rows = list(turns.iter_rows(named=True))
    shown = rows if len(rows) <= head + tail else [*rows[:head], None, *rows[-tail:]]
    out = [
        "<table><tr><th>turn</th><th>agent</th><th>line</th><th>events</th><th>what</th>"
        "<th>chars</th><th>gap before</th></tr>"
    ]
    for t in shown:
        if t is None:
            out.append(
                f"<tr><td colspan='7' class='muted'>… {len(rows) - head - tail} turns omitted</td></tr>"
            )
            continue
        first = firsts.row(int(t["seq_start"]), named=True)
        what = (first["tool_name"] and f"{first['kind']} {first['tool_name']}") or excerpt(
            first["content"], 90
        )
        gap = t["gap_before_s"]
        out.append(
            f"<tr><td class='num'>{t['turn']}</td><td>{_t(t['agent'])}</td>"
            f"<td class='num'>{first['source_line']}</td><td class='num'>{t['n_events']}</td>"
            f"<td>{_t(what)}</td><td class='num'>{t['content_chars']:,}</td>"
            f"<td class='num'>{'' if gap is None else f'{gap:.1f} s'}</td></tr>"
        )
    return [*out, "</table>"]


def _stats(stats: dict[str, Any]) -> list[str]:
    rows = [f"<tr><th>{_t(label)}</th><td>{_t(text)}</td></tr>" for label, text in stat_rows(stats)]
    return ["<table>", *rows, "</table>"]


def render_index_html(
    df: Any,
    errors: Sequence[tuple[str, str]],
    skipped: Sequence[tuple[str, str]],
    svgs: Sequence[str] = (),
    pages: bool = True,
    limit: int = 500,
) -> str:
    """The batch page: counts per verdict, the worst runs first (linked to their pages where
    ``pages``), what could not be analysed or was skipped, the batch charts."""
    from .batch_summary import worst_first

    counts = df.group_by("verdict").len().sort("len", descending=True)
    body = [
        "<h1>Batch post-mortem</h1>",
        f"<p class='meta'>{df.height} run(s) from {df['source'].n_unique()} file(s); "
        f"{len(errors)} file(s) failed; {len(skipped)} skipped.</p>",
        "<table><tr><th>verdict</th><th>runs</th></tr>",
        *(
            f"<tr><td>{_t(LABELS.get(v, v))}</td><td class='num'>{n}</td></tr>"
            for v, n in counts.iter_rows()
        ),
        "</table>",
        f"<h2>Worst runs first (top {min(limit, df.height)})</h2>",
        "<table><tr><th>verdict</th><th>confidence</th><th>phase</th><th>source</th><th>run</th><th>top finding</th></tr>",
    ]
    for row in worst_first(df).head(limit).iter_rows(named=True):
        report = row["report"] or ""
        page = report[:-3] + ".html" if pages and BATCH_REPORT.fullmatch(report) else None
        source = _t(row["source"])
        link = f"<a href='{html.escape(page, quote=True)}'>{source}</a>" if page else source
        body.append(
            f"<tr><td>{_t(row['verdict'])}</td><td class='num'>{row['confidence']:.2f}</td>"
            f"<td>{_t(row['phase'])}</td><td class='where'>{link}</td>"
            f"<td><code>{_t(row['run_id'][:12])}</code></td><td>{_t(excerpt(row['top_finding'] or '', 120))}</td></tr>"
        )
    body.append("</table>")
    for title, items in (("Files that could not be analysed", errors), ("Skipped", skipped)):
        if items:
            body += [f"<h2>{title}</h2>", "<table><tr><th>file</th><th>reason</th></tr>"]
            body += [f"<tr><td class='where'>{_t(a)}</td><td>{_t(b)}</td></tr>" for a, b in items]
            body.append("</table>")
    if svgs:
        body += ["<h2>Charts</h2>", *(f"<div class='chart'>{inline_svg(s)}</div>" for s in svgs)]
    return _page("Batch post-mortem", body)
