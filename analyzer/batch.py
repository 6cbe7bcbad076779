"""Batch post-mortems: many logs -> one summary row per run, in parallel, with a cache.

Inputs are files, directories (walked) and globs. Worker processes (one per core) take the
files in chunks, analyse each chunk's small logs as one table (``iter_analyses``) and write the
runs' Markdown reports; the parent only gathers rows. A file whose content hash and tool
version match a cached entry is not analysed again. The same worker function runs on a Dask
cluster when one is given (see ``cluster.py``).
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import io
import multiprocessing as mp
import os
import signal
import stat
from collections.abc import Callable, Iterable, Iterator, Mapping
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

import orjson
import polars as pl

from . import __version__
from .config import DEFAULT, Thresholds
from .cost import PRICES
from .detectors import selected
from .errors import display_path
from .inputs import kind_of
from .outcome import Outcome, failed, failures, judge, skips
from .pipeline import AnalysisResult, iter_analyses
from .redact import redact
from .report.atomic import atomic_write_bytes, atomic_write_text
from .report.batch_summary import SUMMARY_SCHEMA
from .report.markdown import render_markdown
from .report.names import BATCH_REPORT, absolute_bytes, report_stem

SUMMARY_COLUMNS = tuple(SUMMARY_SCHEMA.names())
_HASH_CHUNK = 1 << 20
_CITED = 10  # evidence citations a summary row keeps per finding
# The Python types a summary row's values may have, per column (a cache entry is checked).
_PY_TYPES: dict[object, type | tuple[type, ...]] = {
    pl.String: str,
    pl.Int64: int,
    pl.Float64: (float, int),
}
_COLUMN_TYPES = {name: _PY_TYPES[dtype] for name, dtype in SUMMARY_SCHEMA.items()}
CHUNK_FILES = 32  # files per task: enough to share the analysis stages' fixed cost


@dataclass(frozen=True, slots=True)
class BatchOptions:
    out_dir: Path
    fmt: str | None = None
    select: tuple[str, ...] = ()
    ignore: tuple[str, ...] = ()
    reports: bool = True
    cfg: Thresholds = DEFAULT
    use_cache: bool = True
    html: bool = False
    prices: tuple[tuple[str, tuple[float, float]], ...] = tuple(sorted(PRICES.items()))
    """USD per million tokens by model (a tuple: options are hashed and shipped to workers)."""
    log_format: str | None = None

    def fingerprint(self) -> str:
        """Everything besides the input that decides its rows: the code itself (a change
        within a version counts), the detectors that run, the thresholds, the format and
        whether reports are written."""
        detectors = ",".join(sorted(d.code for d in selected(self.select, self.ignore)))
        parts = (
            code_fingerprint(),
            self.fmt or "",
            self.log_format or "",
            detectors,
            repr(self.cfg),
            str(self.reports),
            str(self.html),
            repr(self.prices),
        )
        return hashlib.sha256("|".join(parts).encode()).hexdigest()

    def cache_file(self, source: str) -> Path:
        """One entry per input file (by its absolute path) and set of options."""
        key = hashlib.sha256(absolute_bytes(source) + self.fingerprint().encode()).hexdigest()[:32]
        return self.out_dir / ".cache" / f"{key}.json"


@functools.cache
def code_fingerprint() -> str:
    """The tool's version and a hash of its own source files."""
    digest = hashlib.blake2b(__version__.encode(), digest_size=16)
    root = Path(__file__).parent
    for path in sorted(root.rglob("*.py")):
        digest.update(path.relative_to(root).as_posix().encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


@dataclass
class BatchResult:
    outcomes: list[Outcome] = field(default_factory=list)

    @property
    def rows(self) -> list[dict[str, Any]]:
        return [row for o in self.outcomes for row in o.rows]

    @property
    def errors(self) -> list[tuple[str, str]]:
        return failures(self.outcomes)

    @property
    def skipped(self) -> list[tuple[str, str]]:
        return skips(self.outcomes)


def content_hash(path: Path) -> str:
    digest = hashlib.blake2b(digest_size=16)
    with path.open("rb") as fh:
        while chunk := fh.read(_HASH_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _read_units(coverage: Mapping[str, Any] | None) -> str | None:
    """``189/216 lines``: what the share is of."""
    return f"{coverage['read']}/{coverage['total']} {coverage['unit']}" if coverage else None


def summary_rows(result: AnalysisResult, reports: list[str], digest: str) -> list[dict[str, Any]]:
    rows = []
    for i, run in enumerate(result.runs):
        d, st = run.diagnosis, run.stats
        top = next(
            (f for f in sorted(run.findings, key=lambda f: -f.score) if f.code in d.because), None
        )
        # The repeat a loop finding names (its subject, with a count): whichever detector
        # found it, not one code looked up by name.
        repeat = next(
            (
                f
                for f in run.findings
                if f.stall_class == "loop" and f.subject and "repeat_count" in f.metrics
            ),
            None,
        )
        rows.append(
            {
                "source": result.source,
                "format": result.format,
                "run_id": run.run_id,
                "verdict": d.label,
                "phase": d.phase,
                "confidence": d.confidence,
                "agents": ",".join(st.agents),
                "n_agents": len(st.agents),
                "turns": st.turns,
                "messages": st.messages,
                "tool_calls": st.tool_calls,
                "llm_calls": st.llm_calls,
                "prompt_tokens": st.prompt_tokens,
                "completion_tokens": st.completion_tokens,
                "duration_s": st.duration_s,
                "context_chars": st.context_chars,
                "top_code": top.code if top else None,
                "top_finding": top.summary if top else None,
                "repeated_tool": repeat.subject if repeat else None,
                "repeat_count": int(repeat.metrics.get("repeat_count", 0)) if repeat else 0,
                "report": reports[i] if i < len(reports) else None,
                "content_hash": digest,
                "fix": d.fix or None,
                "cost_usd": (st.cost or {}).get("usd"),
                "stall_cost_usd": ((st.cost or {}).get("stall") or {}).get("usd"),
                "coverage": (st.coverage or {}).get("share"),
                "read": _read_units(st.coverage),
                "evidence": "; ".join(
                    e.cite(result.source)
                    for f in d.rests_on(run.findings)
                    for e in f.evidence[:_CITED]
                )[:2000]
                or None,
            }
        )
    # Names, ids and the finding come from the log: every text is redacted, as in any output.
    return [{k: redact(v) if isinstance(v, str) else v for k, v in row.items()} for row in rows]


def analyze_chunk(paths: list[str], opts: BatchOptions) -> list[Outcome]:
    """The unit of work, run in a worker process (or on a cluster worker): files whose cache
    entry is valid are answered from it, the others are analysed together (``iter_analyses``:
    small logs share the fixed cost of each analysis stage)."""
    outcomes: dict[int, Outcome] = {}
    todo: list[tuple[int, str, Stamp]] = []  # (index, path, its stat and content hash)
    for i, path in enumerate(paths):
        source = display_path(path)
        try:
            info = os.stat(path)
            if not stat.S_ISREG(info.st_mode):
                outcomes[i] = failed(
                    source, f"{source}: not a regular file ({kind_of(info.st_mode)})"
                )
                continue
            stamp = Stamp(info.st_size, info.st_mtime_ns, "")
            entry = _cache_entry(path, opts) if opts.use_cache else None
            if entry is not None and entry.stamp[:2] == stamp[:2]:  # unchanged: no hashing
                outcomes[i] = _from_cache(source, entry.rows)
                continue
            stamp = stamp._replace(digest=content_hash(Path(path)))
        except OSError as exc:
            outcomes[i] = failed(source, f"{source}: cannot read: {exc.strerror or exc}")
            continue
        if entry is not None and entry.stamp.digest == stamp.digest:  # touched, same content
            _store(path, stamp, entry.rows, opts)
            outcomes[i] = _from_cache(source, entry.rows)
        else:
            todo.append((i, path, stamp))
    analyses = iter_analyses(
        [p for _, p, _ in todo],
        opts.cfg,
        opts.fmt,
        opts.select,
        opts.ignore,
        dict(opts.prices),
        opts.log_format,
    )
    for k, result in analyses:  # each written out and dropped as it comes: memory stays flat
        i, path, stamp = todo[k]
        outcomes[i] = _outcome(path, stamp, result, opts)
        del result  # not held while the next file is read
    return [outcomes[i] for i in range(len(paths))]


class Stamp(NamedTuple):
    """What tells a file unchanged: size and modification time first, then its content."""

    size: int
    mtime_ns: int
    digest: str


@dataclass(frozen=True, slots=True)
class _Entry:
    stamp: Stamp
    rows: tuple[dict[str, Any], ...]


def _cache_entry(path: str, opts: BatchOptions) -> _Entry | None:
    """The file's cache entry if it is whole and well-formed; anything else is a miss."""
    try:
        data = orjson.loads(opts.cache_file(path).read_bytes())
    except (OSError, orjson.JSONDecodeError):
        return None  # none, unreadable, a directory, damaged
    if not isinstance(data, dict) or set(data) != {"stamp", "rows"}:
        return None
    raw_stamp, rows = data["stamp"], data["rows"]
    if not (
        isinstance(raw_stamp, list)
        and len(raw_stamp) == 3
        and [type(v) for v in raw_stamp] == [int, int, str]
        and isinstance(rows, list)
        and all(_valid_row(r, opts) for r in rows)
    ):
        return None
    return _Entry(Stamp(*raw_stamp), tuple(rows))


def _valid_row(row: object, opts: BatchOptions) -> bool:
    if not isinstance(row, dict) or set(row) != set(SUMMARY_COLUMNS):
        return False
    for name, value in row.items():
        if value is not None and not isinstance(value, _COLUMN_TYPES[name]):
            return False
        if isinstance(value, bool) and _COLUMN_TYPES[name] is not bool:
            return False
    report = row["report"]
    return report is None or (
        BATCH_REPORT.fullmatch(report) is not None and (opts.out_dir / report).is_file()
    )


def _from_cache(source: str, rows: tuple[dict[str, Any], ...]) -> Outcome:
    return Outcome(
        source, "analysed", rows=tuple({**r, "source": source} for r in rows), cached=True
    )


def _store(path: str, stamp: Stamp, rows: Iterable[dict[str, Any]], opts: BatchOptions) -> None:
    """Best effort: a cache that cannot be written (a full disk, ``.cache`` a file) only
    costs the next run its time."""
    if not opts.use_cache:
        return
    with contextlib.suppress(OSError):
        atomic_write_bytes(
            opts.cache_file(path), orjson.dumps({"stamp": list(stamp), "rows": list(rows)})
        )


def _outcome(
    path: str, stamp: Stamp, result: AnalysisResult | Exception, opts: BatchOptions
) -> Outcome:
    source = display_path(path)
    judged = judge(source, result, named=bool(opts.fmt or opts.log_format))
    if judged.result is None:
        return judged
    try:
        reports = _write_reports(judged.result, opts) if opts.reports else []
    except OSError as exc:
        return failed(source, f"{source}: cannot write its report: {exc.strerror or exc}")
    rows = summary_rows(judged.result, reports, stamp.digest)
    _store(path, stamp, rows, opts)
    return Outcome(source, "analysed", rows=tuple(rows))


def _write_reports(result: AnalysisResult, opts: BatchOptions) -> list[str]:
    from .report.html import render_html

    names = []
    for i, run in enumerate(result.runs):
        stem = f"runs/{report_stem(result.source, i, len(result.runs))}"
        atomic_write_text(opts.out_dir / f"{stem}.md", render_markdown(result, run))
        if opts.html:
            note = "Not drawn in a batch: `analyze --html` draws a run's charts."
            atomic_write_text(opts.out_dir / f"{stem}.html", render_html(result, run, (), note))
        names.append(f"{stem}.md")
    return names


def run_batch(
    files: list[Path],
    opts: BatchOptions,
    workers: int | None = None,
    progress: Callable[[Outcome], None] | None = None,
    mapper: Callable[[list[str]], Iterator[Outcome]] | None = None,
) -> BatchResult:
    """Analyse ``files``; results come back in input order whatever the scheduling."""
    paths = [str(p) for p in files]
    if mapper is None:
        mapper = _local_mapper(opts, workers or os.cpu_count() or 1)
    result = BatchResult()
    for outcome in mapper(paths):
        result.outcomes.append(outcome)
        if progress:
            progress(outcome)
    return result


def chunks(paths: list[str], workers: int) -> list[list[str]]:
    """Consecutive runs of paths, each one task: up to ``CHUNK_FILES``, but small enough that
    every worker gets several (a chunk holding a large log would otherwise hold others up)."""
    size = max(1, min(CHUNK_FILES, len(paths) // (workers * 4)))
    return [paths[i : i + size] for i in range(0, len(paths), size)]


def _local_mapper(opts: BatchOptions, workers: int) -> Callable[[list[str]], Iterator[Outcome]]:
    def mapper(paths: list[str]) -> Iterator[Outcome]:
        tasks = chunks(paths, workers)
        if workers <= 1 or len(tasks) <= 1:
            for task in tasks:
                yield from analyze_chunk(task, opts)
            return
        # Never fork a process that already runs polars' thread pool: it can deadlock.
        method = "forkserver" if "forkserver" in mp.get_all_start_methods() else "spawn"
        pool = ProcessPoolExecutor(
            max_workers=workers, mp_context=mp.get_context(method), initializer=_ignore_sigint
        )
        try:
            for outcomes in pool.map(analyze_chunk, tasks, [opts] * len(tasks)):
                yield from outcomes
        except BaseException:  # Ctrl-C: what was not started never starts
            pool.shutdown(wait=False, cancel_futures=True)
            raise
        pool.shutdown()

    return mapper


def _ignore_sigint() -> None:
    """Workers leave Ctrl-C to the parent, which stops the batch (a terminal sends it to the
    whole process group: each worker would print its own traceback)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def write_outputs(result: BatchResult, out_dir: Path, html: bool = False) -> list[Path]:
    """summary.parquet, summary.csv, index.md and the batch charts (and index.html), each
    written atomically."""
    from .report.batch_charts import batch_figures, render_batch_charts
    from .report.batch_summary import render_index, summary_frame

    df = summary_frame(result.rows)
    written = write_summary(df, out_dir)
    charts = render_batch_charts(df, out_dir)
    index = out_dir / "index.md"
    atomic_write_text(
        index, render_index(df, result.errors, result.skipped, [c.name for c in charts])
    )
    if not html:
        return [*written, index, *charts]
    from .report.html import render_index_html
    from .report.plots import svg

    page = out_dir / "index.html"
    svgs = [svg(fig) for fig in batch_figures(df)]
    atomic_write_text(page, render_index_html(df, result.errors, result.skipped, svgs))
    return [*written, index, *charts, page]


# A cell a spreadsheet would read as a formula (=, +, -, @, or a tab/CR before them).
_FORMULA = r"^[=+\-@\t\r]"


def _spreadsheet_safe(df: pl.DataFrame) -> pl.DataFrame:
    """The CSV is opened in spreadsheets: a log text there that starts like a formula (an
    agent named ``=HYPERLINK(...)``) is quoted with a leading ``'``, as OWASP advises. The
    parquet and JSON keep the text as it is."""
    texts = [name for name, dtype in df.schema.items() if dtype == pl.String]
    return df.with_columns(
        pl.when(pl.col(c).str.contains(_FORMULA))
        .then(pl.lit("'") + pl.col(c))
        .otherwise(pl.col(c))
        .alias(c)
        for c in texts
    )


def write_summary(df: pl.DataFrame, out_dir: Path) -> list[Path]:
    """summary.parquet and summary.csv, each through its own temporary file (two batches
    writing into one directory at the same moment must not share one)."""
    written = []
    sheet = _spreadsheet_safe(df)
    for name, write in (("summary.parquet", df.write_parquet), ("summary.csv", sheet.write_csv)):
        data = io.BytesIO()  # a row per run: small enough to write whole
        write(data)
        atomic_write_bytes(out_dir / name, data.getvalue())
        written.append(out_dir / name)
    return written
