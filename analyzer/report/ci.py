"""What CI systems ingest: JUnit XML, SARIF 2.1.0, GitHub workflow annotations and the GitHub
step summary. Pure: each takes ``RunVerdict`` records (from an analysis or a batch summary
row) and returns text. Log text goes through ``inert`` as in every other output.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote
from xml.etree import ElementTree as ET

from .. import __version__
from ..classify import LABELS
from ..findings import PROBLEM_CLASSES
from ..gate import Gate
from .inert import line, markdown

TOOL = "autogen-postmortem"
INFO_URI = "https://pypi.org/project/autogen-postmortem/"
_CITED = 10


@dataclass(frozen=True, slots=True)
class Cite:
    file: str
    line: int | None  # None where the place is a SQLite row (``ref``)
    note: str


@dataclass(frozen=True, slots=True)
class RunVerdict:
    """One run as a CI system sees it."""

    source: str
    run_id: str
    verdict: str
    phase: str
    confidence: float
    why: str
    fix: str
    evidence: tuple[Cite, ...]
    duration_s: float | None
    failed: bool
    """It fails the gate (with no gate, nothing fails)."""

    @property
    def is_problem(self) -> bool:
        return self.verdict in PROBLEM_CLASSES


def from_analysis(result: Any, gate: Gate | None) -> list[RunVerdict]:
    """One record per run of an ``AnalysisResult``; evidence of the findings the verdict rests on."""
    out = []
    for run in result.runs:
        d = run.diagnosis
        cited = [
            Cite(result.source, None if e.ref else e.source_line, e.note)
            for f in d.rests_on(run.findings)
            for e in f.evidence
        ]
        out.append(
            RunVerdict(
                result.source,
                run.run_id,
                d.label,
                d.phase,
                d.confidence,
                d.summary,
                d.fix,
                tuple(cited[:_CITED]),
                run.stats.duration_s,
                bool(gate and gate.fails(d.label, d.confidence)),
            )
        )
    return out


def from_row(row: dict[str, Any], gate: Gate | None) -> RunVerdict:
    """A batch summary row (its ``evidence`` column: ``file:line`` citations, ``; ``-joined)."""
    cited = []
    for cite in filter(None, (row.get("evidence") or "").split("; ")):
        where, _, at = cite.rpartition(":")
        cited.append(Cite(where or row["source"], int(at) if at.isdigit() else None, ""))
    return RunVerdict(
        row["source"],
        row["run_id"],
        row["verdict"],
        row["phase"],
        row["confidence"],
        row.get("top_finding") or LABELS.get(row["verdict"], row["verdict"]),
        row.get("fix") or "",
        tuple(cited),
        row.get("duration_s"),
        bool(gate and gate.fails(row["verdict"], row["confidence"])),
    )


def _title(v: RunVerdict) -> str:
    return f"{LABELS.get(v.verdict, v.verdict)} ({v.verdict}, {v.phase}, confidence {v.confidence:.2f})"


def junit(verdicts: Sequence[RunVerdict], errors: Sequence[tuple[str, str]] = ()) -> str:
    """One testcase per run (class: the file, name: the run); a run that fails the gate is a
    failure carrying verdict, why, fix and evidence; an input that could not be analysed is an
    error."""
    failures = sum(v.failed for v in verdicts)
    suite = ET.Element(
        "testsuite",
        name=TOOL,
        tests=str(len(verdicts) + len(errors)),
        failures=str(failures),
        errors=str(len(errors)),
        skipped="0",
    )
    for v in verdicts:
        case = ET.SubElement(
            suite,
            "testcase",
            classname=line(v.source),
            name=line(f"run {v.run_id}"),
            time=f"{v.duration_s or 0:.3f}",
        )
        body = [f"why: {line(v.why)}", f"fix: {line(v.fix)}"]
        body += [f"evidence: {_where(c)} {line(c.note)}".rstrip() for c in v.evidence]
        if v.failed:
            failure = ET.SubElement(case, "failure", message=line(_title(v)), type=v.verdict)
            failure.text = "\n".join(body)
        else:
            ET.SubElement(case, "system-out").text = "\n".join([_title(v), *body])
    for source, message in errors:
        case = ET.SubElement(suite, "testcase", classname=line(source), name="analysis")
        ET.SubElement(case, "error", message=line(message), type="input")
    root = ET.Element("testsuites", name=TOOL, tests=suite.get("tests", "0"))
    root.set("failures", str(failures))
    root.set("errors", str(len(errors)))
    root.append(suite)
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def sarif(verdicts: Sequence[RunVerdict]) -> str:
    """A SARIF 2.1.0 log: one rule per problem class (the stalls and ``error``), one result
    per run with a problem, its evidence as physical locations (file and line)."""
    rules = [
        {
            "id": cls,
            "name": LABELS[cls].replace(" ", ""),
            "shortDescription": {"text": LABELS[cls]},
            "helpUri": INFO_URI,
        }
        for cls in PROBLEM_CLASSES
    ]
    results = []
    for v in verdicts:
        if not v.is_problem:
            continue
        locations = [
            {
                "physicalLocation": {
                    "artifactLocation": {"uri": quote(c.file)},
                    **({"region": {"startLine": c.line}} if c.line else {}),
                },
                **({"message": {"text": line(c.note)}} if c.note else {}),
            }
            for c in v.evidence
        ] or [{"physicalLocation": {"artifactLocation": {"uri": quote(v.source)}}}]
        results.append(
            {
                "ruleId": v.verdict,
                "ruleIndex": PROBLEM_CLASSES.index(v.verdict),
                "level": "error" if v.failed else "warning",
                "message": {"text": f"{line(v.why)} Fix: {line(v.fix)}"},
                "locations": locations,
                "properties": {
                    "run_id": line(v.run_id),
                    "phase": v.phase,
                    "confidence": v.confidence,
                },
            }
        )
    log = {
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": TOOL,
                        "version": __version__,
                        "informationUri": INFO_URI,
                        "rules": rules,
                    }
                },
                "results": results,
            }
        ],
    }
    return json.dumps(log, indent=2, ensure_ascii=False) + "\n"


def github(verdicts: Iterable[RunVerdict]) -> list[str]:
    """Workflow commands: one annotation per evidence line of each stalled run (``error``
    where it fails the gate, ``warning`` otherwise)."""
    out = []
    for v in verdicts:
        if not v.is_problem:
            continue
        level = "error" if v.failed else "warning"
        title = _escape_property(_title(v))
        message = _escape_data(f"{line(v.why)} Fix: {line(v.fix)}")
        for c in v.evidence or (Cite(v.source, None, ""),):
            where = f"file={_escape_property(c.file)}" + (f",line={c.line}" if c.line else "")
            out.append(f"::{level} {where},title={title}::{message}")
    return out


def step_summary(verdicts: Sequence[RunVerdict], errors: Sequence[tuple[str, str]] = ()) -> str:
    """Markdown for ``$GITHUB_STEP_SUMMARY``: counts per verdict, then the stalled runs."""
    counts = Counter(v.verdict for v in verdicts)
    failed = sum(v.failed for v in verdicts)
    out = [
        f"### {TOOL}: {len(verdicts)} run(s), {failed} failing the gate, "
        f"{len(errors)} input(s) not analysed",
        "",
        "| verdict | runs |",
        "| --- | --- |",
        *(f"| {LABELS.get(k, k)} | {n} |" for k, n in counts.most_common()),
        "",
    ]
    stalls = [v for v in verdicts if v.is_problem]
    if stalls:
        out += [
            "| gate | verdict | confidence | file | run | why |",
            "| --- | --- | --- | --- | --- | --- |",
        ]
        out += [
            f"| {'fail' if v.failed else 'pass'} | {v.verdict} | {v.confidence:.2f} | "
            f"{markdown(v.source)} | {markdown(v.run_id[:12])} | {markdown(v.why[:200])} |"
            for v in sorted(stalls, key=lambda v: (not v.failed, -v.confidence))
        ]
    return "\n".join(out) + "\n"


def _where(c: Cite) -> str:
    return f"{line(c.file)}:{c.line}" if c.line else line(c.file)


def _escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(line(text)).replace(":", "%3A").replace(",", "%2C")
