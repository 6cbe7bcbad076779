"""Batch post-mortems: many logs -> one summary row per run, in parallel, with a cache.

Inputs are files, directories (walked) and globs. Worker processes (one per core) take the
files in chunks, analyse each chunk's small logs as one table (``iter_analyses``) and write the
runs' Markdown reports; the parent only gathers rows. A file whose content hash and tool
version match a cached entry is not analysed again. The same worker function runs on a Dask
cluster when one is given (see ``cluster.py``).
"""

from __future__ import annotations

import glob
import hashlib
import io
import multiprocessing as mp
import os
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson

from . import __version__
from .config import DEFAULT, Thresholds
from .errors import AnalyzerError, UnknownFormatError
from .pipeline import AnalysisResult, iter_analyses
from .report.atomic import atomic_write_bytes, atomic_write_text
from .report.markdown import render_markdown
from .report.names import report_stem

if TYPE_CHECKING:
    import polars as pl

SUMMARY_COLUMNS = (
    "source",
    "format",
    "run_id",
    "verdict",
    "phase",
    "confidence",
    "agents",
    "n_agents",
    "turns",
    "messages",
    "tool_calls",
    "llm_calls",
    "prompt_tokens",
    "completion_tokens",
    "duration_s",
    "context_chars",
    "top_code",
    "top_finding",
    "repeated_tool",
    "repeat_count",
    "report",
    "content_hash",
)
_HASH_CHUNK = 1 << 20
CHUNK_FILES = 32  # files per task: enough to share the analysis stages' fixed cost
_SKIP_NAMES = frozenset({"label.json"})


@dataclass(frozen=True, slots=True)
class BatchOptions:
    out_dir: Path
    fmt: str | None = None
    select: tuple[str, ...] = ()
    ignore: tuple[str, ...] = ()
    reports: bool = True
    cfg: Thresholds = DEFAULT
    use_cache: bool = True

    def cache_key(self, content_hash: str) -> str:
        """Content + tool version + everything that changes the result."""
        parts = [
            content_hash,
            __version__,
            self.fmt or "",
            ",".join(self.select),
            ",".join(self.ignore),
        ]
        return hashlib.sha256("|".join(parts).encode()).hexdigest()[:32]

    def cache_file(self, content_hash: str) -> Path:
        return self.out_dir / ".cache" / f"{self.cache_key(content_hash)}.json"


@dataclass(frozen=True, slots=True)
class FileOutcome:
    """What happened to one input file."""

    source: str
    rows: tuple[dict[str, Any], ...] = ()
    error: str | None = None
    skipped: str | None = None  # not an AutoGen log (found while walking)
    cached: bool = False


@dataclass
class BatchResult:
    outcomes: list[FileOutcome] = field(default_factory=list)

    @property
    def rows(self) -> list[dict[str, Any]]:
        return [row for o in self.outcomes for row in o.rows]

    @property
    def errors(self) -> list[tuple[str, str]]:
        return [(o.source, o.error) for o in self.outcomes if o.error]

    @property
    def skipped(self) -> list[tuple[str, str]]:
        return [(o.source, o.skipped) for o in self.outcomes if o.skipped]


def expand(inputs: Iterable[str]) -> tuple[list[Path], list[tuple[str, str]]]:
    """Files from paths, directories and globs, sorted and unique; and inputs that matched nothing."""
    files: dict[Path, None] = {}
    missing = []
    for raw in inputs:
        path = Path(raw)
        matches = (
            [Path(p) for p in sorted(glob.glob(raw, recursive=True))]
            if glob.has_magic(raw)
            else [path]
        )
        if not matches or not any(m.exists() for m in matches):
            missing.append((raw, "no such file, directory or glob match"))
            continue
        for match in matches:
            if match.is_dir():
                files.update(dict.fromkeys(iter_dir(match)))
            elif match.is_file():
                files[match] = None
    return list(files), missing


def iter_dir(root: Path) -> Iterator[Path]:
    """Every file under ``root``, sorted; hidden files/folders and sample labels left out."""
    for child in sorted(root.rglob("*")):
        hidden = any(part.startswith(".") for part in child.relative_to(root).parts)
        if child.is_file() and not hidden and child.name not in _SKIP_NAMES:
            yield child


def content_hash(path: Path) -> str:
    digest = hashlib.blake2b(digest_size=16)
    with path.open("rb") as fh:
        while chunk := fh.read(_HASH_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def summary_rows(result: AnalysisResult, reports: list[str], digest: str) -> list[dict[str, Any]]:
    rows = []
    for i, run in enumerate(result.runs):
        d, st = run.diagnosis, run.stats
        top = next(
            (f for f in sorted(run.findings, key=lambda f: -f.score) if f.code in d.because), None
        )
        loop01 = next((f for f in run.findings if f.code == "LOOP01"), None)
        rows.append(
            {
                "source": result.source,
                "format": result.format,
                "run_id": run.run_id,
                "verdict": d.label,
                "phase": d.phase,
                "confidence": d.confidence,
                "agents": ",".join(st["agents"]),
                "n_agents": len(st["agents"]),
                "turns": st["turns"],
                "messages": st["messages"],
                "tool_calls": st["tool_calls"],
                "llm_calls": st["llm_calls"],
                "prompt_tokens": st["prompt_tokens"],
                "completion_tokens": st["completion_tokens"],
                "duration_s": st["duration_s"],
                "context_chars": st["context_chars"],
                "top_code": top.code if top else None,
                "top_finding": top.summary if top else None,
                "repeated_tool": loop01.subject if loop01 else None,
                "repeat_count": int(loop01.metrics.get("repeat_count", 0)) if loop01 else 0,
                "report": reports[i] if i < len(reports) else None,
                "content_hash": digest,
            }
        )
    return rows


def analyze_chunk(paths: list[str], opts: BatchOptions) -> list[FileOutcome]:
    """The unit of work, run in a worker process (or on a cluster worker): files whose cache
    entry is valid are answered from it, the others are analysed together (``iter_analyses``:
    small logs share the fixed cost of each analysis stage)."""
    outcomes: dict[int, FileOutcome] = {}
    todo: list[tuple[int, str, str]] = []  # (index, path, content hash)
    for i, path in enumerate(paths):
        try:
            digest = content_hash(Path(path))
        except OSError as exc:
            outcomes[i] = FileOutcome(path, error=f"{path}: cannot read: {exc.strerror or exc}")
            continue
        if (hit := _cached(path, digest, opts)) is not None:
            outcomes[i] = hit
        else:
            todo.append((i, path, digest))
    analyses = iter_analyses([p for _, p, _ in todo], opts.cfg, opts.fmt, opts.select, opts.ignore)
    for k, result in analyses:  # each written out and dropped as it comes: memory stays flat
        i, path, digest = todo[k]
        outcomes[i] = _outcome(path, digest, result, opts)
        del result  # not held while the next file is read
    return [outcomes[i] for i in range(len(paths))]


def _cached(path: str, digest: str, opts: BatchOptions) -> FileOutcome | None:
    cache = opts.cache_file(digest)
    if not opts.use_cache or not cache.exists():
        return None
    try:
        rows = orjson.loads(cache.read_bytes())
        if all(not r.get("report") or (opts.out_dir / r["report"]).exists() for r in rows):
            return FileOutcome(path, rows=tuple({**r, "source": path} for r in rows), cached=True)
    except (orjson.JSONDecodeError, TypeError, AttributeError):
        pass  # a damaged cache entry is just a miss
    return None


def _outcome(
    path: str, digest: str, result: AnalysisResult | Exception, opts: BatchOptions
) -> FileOutcome:
    if isinstance(result, UnknownFormatError):
        if opts.fmt:
            return FileOutcome(path, error=str(result))
        return FileOutcome(path, skipped=result.reason)
    if isinstance(result, AnalyzerError):
        return FileOutcome(path, error=str(result))
    if isinstance(result, Exception):
        return FileOutcome(path, error=f"{path}: internal error: {result!r}")
    reports = _write_reports(result, opts) if opts.reports else []
    rows = summary_rows(result, reports, digest)
    if opts.use_cache:
        atomic_write_bytes(opts.cache_file(digest), orjson.dumps(rows))
    return FileOutcome(path, rows=tuple(rows))


def _write_reports(result: AnalysisResult, opts: BatchOptions) -> list[str]:
    names = []
    for i, run in enumerate(result.runs):
        name = f"runs/{report_stem(result.source, i, len(result.runs))}.md"
        atomic_write_text(opts.out_dir / name, render_markdown(result, run))
        names.append(name)
    return names


def run_batch(
    files: list[Path],
    opts: BatchOptions,
    workers: int | None = None,
    progress: Callable[[FileOutcome], None] | None = None,
    mapper: Callable[[list[str]], Iterator[FileOutcome]] | None = None,
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


def _local_mapper(opts: BatchOptions, workers: int) -> Callable[[list[str]], Iterator[FileOutcome]]:
    def mapper(paths: list[str]) -> Iterator[FileOutcome]:
        tasks = chunks(paths, workers)
        if workers <= 1 or len(tasks) <= 1:
            for task in tasks:
                yield from analyze_chunk(task, opts)
            return
        # Never fork a process that already runs polars' thread pool: it can deadlock.
        method = "forkserver" if "forkserver" in mp.get_all_start_methods() else "spawn"
        with ProcessPoolExecutor(max_workers=workers, mp_context=mp.get_context(method)) as pool:
            for outcomes in pool.map(analyze_chunk, tasks, [opts] * len(tasks)):
                yield from outcomes

    return mapper


def write_outputs(result: BatchResult, out_dir: Path) -> list[Path]:
    """summary.parquet, summary.csv, index.md and the batch charts, each written atomically."""
    from .report.batch_charts import render_batch_charts
    from .report.batch_summary import render_index, summary_frame

    df = summary_frame(result.rows)
    written = write_summary(df, out_dir)
    charts = render_batch_charts(df, out_dir)
    index = out_dir / "index.md"
    atomic_write_text(
        index, render_index(df, result.errors, result.skipped, [c.name for c in charts])
    )
    return [*written, index, *charts]


def write_summary(df: pl.DataFrame, out_dir: Path) -> list[Path]:
    """summary.parquet and summary.csv, each through its own temporary file (two batches
    writing into one directory at the same moment must not share one)."""
    written = []
    for name, write in (("summary.parquet", df.write_parquet), ("summary.csv", df.write_csv)):
        data = io.BytesIO()  # a row per run: small enough to write whole
        write(data)
        atomic_write_bytes(out_dir / name, data.getvalue())
        written.append(out_dir / name)
    return written
