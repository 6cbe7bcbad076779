"""The command line: options, file walking, exit codes. No analysis logic lives here.

Exit codes: 0 every input was analysed (finding a stall is not an error); 1 at least one input
could not be analysed (each is listed on stderr as ``Error: <file>[:<line>]: <reason>``);
2 usage error (bad option, missing path).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import click

from . import __version__
from .batch import BatchOptions, expand, iter_dir, run_batch, write_outputs
from .config import DEFAULT
from .detectors import ALL_DETECTORS
from .errors import AnalyzerError, UnknownFormatError
from .formats import ALL_FORMATS, FORMATS_BY_NAME
from .pipeline import AnalysisResult, analyze_file
from .report.json_report import document
from .report.terminal import summary_lines
from .report.writer import CHARTED_RUNS, write_reports

EXIT_OK, EXIT_INPUT_ERROR = 0, 1


def walk(paths: tuple[Path, ...]) -> Iterator[tuple[Path, bool]]:
    """(file, named explicitly) for files and every file under directories, sorted."""
    for path in paths:
        if path.is_dir():
            yield from ((child, False) for child in iter_dir(path))
        else:
            yield path, True


def parsing_options(command: Callable[..., None]) -> Callable[..., None]:
    """--format, --select and --ignore, shared by analyze and batch."""
    for option in reversed(
        (
            click.option(
                "--format",
                "fmt",
                type=click.Choice(sorted(FORMATS_BY_NAME)),
                default=None,
                help="Skip sniffing and parse every file as this format.",
            ),
            click.option(
                "--select",
                multiple=True,
                metavar="CODE",
                help="Run only these detectors (code or name).",
            ),
            click.option(
                "--ignore",
                multiple=True,
                metavar="CODE",
                help="Skip these detectors (code or name).",
            ),
        )
    ):
        command = option(command)
    return command


@click.group()
@click.version_option(__version__, prog_name="autogen-postmortem")
def main() -> None:
    """Explain why an AutoGen run froze, looped or died, from its saved logs."""


@main.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("reports"),
    show_default=True,
    help="Where Markdown and PNG reports go.",
)
@click.option(
    "--json", "as_json", is_flag=True, help="Print one JSON document on stdout instead of text."
)
@parsing_options
@click.option("--no-report", is_flag=True, help="Do not write Markdown/PNG reports.")
@click.option(
    "--charts",
    type=click.Choice(["worst", "all", "none"]),
    default="worst",
    show_default=True,
    help=f"Which runs of a file get PNG charts: its {CHARTED_RUNS} worst, all, or none.",
)
def analyze(
    paths: tuple[Path, ...],
    out_dir: Path,
    as_json: bool,
    fmt: str | None,
    select: tuple[str, ...],
    ignore: tuple[str, ...],
    no_report: bool,
    charts: str,
) -> None:
    """Analyse log files (or every log under directories)."""
    charted = {"worst": CHARTED_RUNS, "all": None, "none": 0}[charts]
    results: list[AnalysisResult] = []
    errors: list[tuple[str, str]] = []
    skipped: list[tuple[str, str]] = []
    for path, explicit in walk(paths):
        try:
            result = analyze_file(path, DEFAULT, fmt, select, ignore)
        except UnknownFormatError as exc:
            if explicit or fmt:
                errors.append((str(path), str(exc)))
            else:  # found while walking a directory: not ours to judge, but say so
                skipped.append((str(path), exc.reason))
            continue
        except AnalyzerError as exc:
            errors.append((str(path), str(exc)))
            continue
        reports = (
            [] if no_report else [str(p) for p in write_reports(result, out_dir, DEFAULT, charted)]
        )
        results.append(result)
        if not as_json:
            click.echo("\n".join(summary_lines(result, reports)))
    if as_json:
        click.echo(json.dumps(document(results, errors, skipped), indent=2, ensure_ascii=False))
    elif skipped:
        click.echo(
            f"skipped {len(skipped)} file(s) that are not AutoGen logs: "
            + ", ".join(p for p, _ in skipped[:5])
            + (" ..." if len(skipped) > 5 else "")
        )
    for _, message in errors:
        click.echo(f"Error: {message}", err=True)
    sys.exit(EXIT_INPUT_ERROR if errors else EXIT_OK)


@main.command()
@click.argument("inputs", nargs=-1, required=True)
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("reports/batch"),
    show_default=True,
    help="Summary, index.md, charts, per-run reports and the cache go here.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON lines on stdout.")
@parsing_options
@click.option(
    "--workers",
    type=click.IntRange(1),
    default=None,
    help="Worker processes (default: one per core).",
)
@click.option("--no-reports", is_flag=True, help="Do not write a Markdown report per run.")
@click.option("--no-cache", is_flag=True, help="Analyse every file even if it is unchanged.")
@click.option(
    "--cluster",
    "cluster_address",
    default=None,
    metavar="ADDRESS",
    help="Run on a Dask cluster (tcp://host:port); needs the [cluster] extra.",
)
def batch(
    inputs: tuple[str, ...],
    out_dir: Path,
    as_json: bool,
    fmt: str | None,
    select: tuple[str, ...],
    ignore: tuple[str, ...],
    workers: int | None,
    no_reports: bool,
    no_cache: bool,
    cluster_address: str | None,
) -> None:
    """Analyse many logs (files, directories, globs; .gz too) into one summary."""
    files, missing = expand(inputs)
    opts = BatchOptions(
        out_dir, fmt, select, ignore, reports=not no_reports, use_cache=not no_cache
    )
    mapper = None
    if cluster_address:
        try:
            from .cluster import dask_mapper
        except ImportError as exc:
            raise click.ClickException(
                "--cluster needs the cluster extra: pip install 'autogen-postmortem[cluster]'"
            ) from exc
        mapper = dask_mapper(cluster_address, opts)
    if sys.stderr.isatty():
        with click.progressbar(length=len(files), label="analysing", file=sys.stderr) as bar:
            result = run_batch(
                files, opts, workers, progress=lambda _: bar.update(1), mapper=mapper
            )
    else:  # quiet in pipelines and CI logs
        result = run_batch(files, opts, workers, mapper=mapper)
    written = write_outputs(result, out_dir)
    errors = [*missing, *result.errors]
    if as_json:
        for row in result.rows:
            click.echo(json.dumps(row, ensure_ascii=False))
    else:
        cached = sum(o.cached for o in result.outcomes)
        click.echo(
            f"{len(result.rows)} run(s) from {len(files)} file(s) ({cached} unchanged, from cache); "
            f"{len(result.skipped)} skipped; {len(errors)} failed"
        )
        click.echo(f"summary: {written[0]} {written[1]}; index: {written[2]}")
    for source, message in errors:
        click.echo(
            f"Error: {message if message.startswith(source) else f'{source}: {message}'}", err=True
        )
    sys.exit(EXIT_INPUT_ERROR if errors else EXIT_OK)


@main.command("formats")
def list_formats() -> None:
    """List the log formats this version reads."""
    for fmt in ALL_FORMATS:
        click.echo(f"{fmt.name:24s} {fmt.family:10s} {fmt.description}")


@main.command("detectors")
def list_detectors() -> None:
    """List the detectors with their codes."""
    for det in ALL_DETECTORS:
        doc = (sys.modules[det.__module__].__doc__ or "").strip().splitlines() or [""]
        summary = doc[0].split(": ", 1)[-1]
        click.echo(f"{det.code:8s} {det.name:22s} {det.stall_class:18s} {summary}")
