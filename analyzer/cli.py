"""The command line: options, exit codes, one line per problem. No analysis logic lives here.

Exit codes: 0 every input was analysed (finding a stall is not an error, unless asked);
1 at least one input could not be analysed, or a report of it could not be written (each is
listed on stderr as ``Error: <file>[:<line>]: <reason>``); 2 usage error (bad option or
settings file, missing path, an ``--out`` that cannot hold reports); 3 a run failed the gate
(``--fail-on``) and every input was analysed; 130 interrupted (Ctrl-C, SIGINT).

Heavy modules (polars, matplotlib) are imported inside the commands: ``--version`` and
``--help`` start in a fraction of the time.
"""

from __future__ import annotations

import functools
import logging
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

import click

from . import __version__
from .config import CHARTED_RUNS
from .fastpaths import ENV_MODE, Mode
from .fastpaths import use as use_fast_paths
from .gate import EXIT_GATE

if TYPE_CHECKING:
    from .gate import Gate
    from .report.ci import RunVerdict
    from .settings import Settings

EXIT_OK, EXIT_INPUT_ERROR, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130


_ANALYSIS_OPTIONS = 7  # --format, --log-format, --select, --ignore, --config, --fail-on,
# --min-confidence


@dataclass(frozen=True, slots=True)
class Judging:
    """The analysis options resolved: the format, the settings (the file's, with the command
    line's --select/--ignore over them) and the gate."""

    fmt: str | None
    settings: Settings
    gate: Gate | None
    log_format: str | None = None


def analysis_options(command: Callable[..., None]) -> Callable[..., None]:
    """What to read and how to judge it, shared by analyze, batch and watch: the command gets
    them as one ``judging`` argument."""

    @functools.wraps(command)
    def resolved(
        fmt: str | None,
        log_format: str | None,
        select: tuple[str, ...],
        ignore: tuple[str, ...],
        config_file: Path | None,
        fail_on: str | None,
        min_confidence: float | None,
        **rest: Any,
    ) -> None:
        _check_format(fmt, log_format)
        settings = _settings(config_file, select, ignore)
        gate = _gate(settings, fail_on, min_confidence)
        command(judging=Judging(fmt, settings, gate, log_format), **rest)

    return _apply(_OPTIONS[:_ANALYSIS_OPTIONS], resolved)


def parsing_options(command: Callable[..., None]) -> Callable[..., None]:
    """The analysis options and --output-format, shared by analyze and batch."""
    return _apply(_OPTIONS[_ANALYSIS_OPTIONS:], analysis_options(command))


def _apply(
    options: tuple[Callable[..., Any], ...], command: Callable[..., None]
) -> Callable[..., None]:
    for option in reversed(options):
        command = option(command)
    return command


_OPTIONS: tuple[Callable[..., Any], ...] = (
    click.option(
        "--format",
        "fmt",
        default=None,
        metavar="NAME",
        help="Skip sniffing and parse every file as this format (see `formats`).",
    ),
    click.option(
        "--log-format",
        default=None,
        metavar="FORMAT",
        help="The logging format string an AutoGen 0.4+ text log was written with, e.g. "
        "'%(name)s %(asctime)s %(levelname)s %(message)s' (implies --format agentchat-logging).",
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
    click.option(
        "--config",
        "config_file",
        type=click.Path(exists=True, dir_okay=False, path_type=Path),
        default=None,
        help="Settings file (default: [tool.autogen-postmortem] in the nearest pyproject.toml).",
    ),
    click.option(
        "--fail-on",
        default=None,
        metavar="CLASS[,CLASS...]|any",
        help=f"Exit {EXIT_GATE} when a run's verdict is one of these stall classes.",
    ),
    click.option(
        "--min-confidence",
        type=click.FloatRange(0, 1),
        default=None,
        help="With --fail-on: only verdicts at least this confident fail.",
    ),
    click.option(
        "--output-format",
        type=click.Choice(["text", "json", "junit", "sarif", "github"]),
        default=None,
        help="What stdout holds (--json is json). github also writes $GITHUB_STEP_SUMMARY.",
    ),
)


def _out_option(default: Path, help: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """``--out``: where a command writes (analyze's and batch's differ in default and use)."""
    return click.option(
        "--out",
        "out_dir",
        type=click.Path(path_type=Path),
        default=default,
        show_default=True,
        help=help,
    )


class _Main(click.Group):
    """Ctrl-C ends with one line and exit 130, never a traceback."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except KeyboardInterrupt:  # before click turns it into "Aborted!" and exit 1
            click.echo("Interrupted.", err=True)
            sys.exit(EXIT_INTERRUPTED)


@click.group(cls=_Main)
@click.version_option(__version__, prog_name="autogen-postmortem")
@click.option(
    "-v",
    "--verbose",
    is_flag=True,
    help="Log what the analyzer does besides its results (a fast path that fell back).",
)
@click.option(
    "--fast-paths",
    type=click.Choice([m.value for m in Mode]),
    envvar=ENV_MODE,
    default=Mode.AUTO.value,
    show_default=True,
    help="off: the reference parsers and scans only (to rule a fast path out); "
    "always: every fast path whatever the input's size.",
)
def main(verbose: bool, fast_paths: str) -> None:
    """Explain why an AutoGen run froze, looped or died, from its saved logs."""
    # The one setting, in the environment (worker processes see it) until the command ends.
    click.get_current_context().with_resource(use_fast_paths(fast_paths))
    logger = logging.getLogger("analyzer")
    if verbose and not any(isinstance(h, _Stderr) for h in logger.handlers):
        logger.addHandler(_Stderr())
        logger.setLevel(logging.INFO)


class _Stderr(logging.Handler):
    """The library's log records on stderr (``-v``), one line each."""

    def emit(self, record: logging.LogRecord) -> None:
        click.echo(f"autogen-postmortem: {record.getMessage()}", err=True)


@main.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@_out_option(Path("reports"), "Where Markdown and PNG reports go.")
@click.option(
    "--json", "as_json", is_flag=True, help="Print one JSON document on stdout instead of text."
)
@parsing_options
@click.option("--no-report", is_flag=True, help="Do not write Markdown/PNG reports.")
@click.option(
    "--html", "html", is_flag=True, help="Also write one self-contained HTML page per run."
)
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
    judging: Judging,
    output_format: str | None,
    no_report: bool,
    html: bool,
    charts: str,
) -> None:
    """Analyse log files (or every log under directories)."""
    import json

    from .errors import display_path
    from .inputs import gather
    from .outcome import failed, failures, judge, skips, walked
    from .pipeline import AnalysisResult, analyze_file
    from .report.ci import from_analysis
    from .report.json_report import document
    from .report.terminal import summary_lines
    from .report.writer import write_reports

    fmt, settings, gate = judging.fmt, judging.settings, judging.gate
    output = "json" if as_json else output_format or "text"
    if not no_report:
        _check_out(out_dir)
    charted = {"worst": CHARTED_RUNS, "all": None, "none": 0}[charts]
    found = gather(paths)
    results: list[AnalysisResult] = []
    outcomes = walked(found)
    for path, explicit in found.files.items():
        try:
            analysed: AnalysisResult | Exception = analyze_file(
                path,
                settings.thresholds,
                fmt,
                settings.select,
                settings.ignore,
                prices=settings.prices,
                log_format=judging.log_format,
            )
        except Exception as exc:  # judged below: the file's own error, or an internal one
            analysed = exc
        outcome = judge(display_path(path), analysed, named=bool(explicit or fmt))
        outcomes.append(outcome)
        if (result := outcome.result) is None:
            continue
        try:
            written = (
                []
                if no_report
                else write_reports(result, out_dir, settings.thresholds, charted, html)
            )
        except OSError as exc:
            why = f"{result.source}: cannot write its report: {_why(exc)}"
            outcomes.append(failed(result.source, why))
            written = []
        results.append(result)
        if output == "text":
            click.echo("\n".join(summary_lines(result, [str(p) for p in written])))
    errors, skipped = failures(outcomes), skips(outcomes)
    verdicts = [v for r in results for v in from_analysis(r, gate)]
    if output == "json":
        doc = document(results, errors, skipped)
        doc["config"] = settings.describe()
        click.echo(json.dumps(doc, indent=2, ensure_ascii=False))
    elif output == "text" and skipped:
        _echo_skipped(skipped)
    _ci_output(output, verdicts, errors)
    _exit(errors, verdicts, gate)


@main.command()
@click.argument("inputs", nargs=-1, required=True)
@_out_option(
    Path("reports/batch"), "Summary, index.md, charts, per-run reports and the cache go here."
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
@click.option(
    "--html", "html", is_flag=True, help="Also write index.html and an HTML page per run."
)
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
    judging: Judging,
    output_format: str | None,
    workers: int | None,
    no_reports: bool,
    html: bool,
    no_cache: bool,
    cluster_address: str | None,
) -> None:
    """Analyse many logs (files, directories, globs; .gz too) into one summary."""
    import json

    from .batch import BatchOptions, run_batch, write_outputs
    from .inputs import gather
    from .outcome import walked
    from .report.ci import from_row

    fmt, settings, gate = judging.fmt, judging.settings, judging.gate
    output = "json" if as_json else output_format or "text"
    _check_out(out_dir)
    use_cache = not no_cache and _cache_usable(out_dir)
    found = gather(inputs)
    files = list(found.files)
    opts = BatchOptions(
        out_dir,
        fmt,
        settings.select,
        settings.ignore,
        reports=not no_reports,
        cfg=settings.thresholds,
        use_cache=use_cache,
        html=html,
        prices=tuple(sorted(settings.prices.items())),
        log_format=judging.log_format,
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
    # What the walk could not take is listed with what the analysis could not.
    result.outcomes[:0] = walked(found)
    try:
        written = write_outputs(result, out_dir, html)
    except OSError as exc:
        _fail(f"{out_dir}: cannot write the summary: {_why(exc)}", 1)
    errors = result.errors
    verdicts = [from_row(row, gate) for row in result.rows]
    if output == "json":
        for row in result.rows:
            click.echo(json.dumps(row, ensure_ascii=False))
    elif output == "text":
        cached = sum(o.cached for o in result.outcomes)
        click.echo(
            f"{len(result.rows)} run(s) from {len(files)} file(s) ({cached} unchanged, from cache); "
            f"{len(result.skipped)} skipped; {len(errors)} failed"
        )
        click.echo(f"summary: {written[0]} {written[1]}; index: {written[2]}")
        if result.skipped:
            _echo_skipped(result.skipped)
    _ci_output(output, verdicts, errors)
    _exit(errors, verdicts, gate)


@main.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@click.option(
    "--silence",
    type=click.FloatRange(0),
    default=60.0,
    show_default=True,
    help="Seconds without a new line inside a tool call or an input prompt that make a stall.",
)
@click.option(
    "--interval",
    type=click.FloatRange(0.05),
    default=0.25,
    show_default=True,
    help="Poll every N s.",
)
@click.option("--once", is_flag=True, help="Analyse what is there, print its stalls and exit.")
@analysis_options
def watch(
    paths: tuple[Path, ...],
    silence: float,
    interval: float,
    once: bool,
    judging: Judging,
) -> None:
    """Follow growing logs (files, or directories for new files) and print a line when a
    stall begins and when it ends; Ctrl-C stops."""
    from .watch import Watcher, follow

    fmt, settings, gate = judging.fmt, judging.settings, judging.gate
    watcher = Watcher(
        paths,
        settings.thresholds,
        fmt,
        settings.select,
        settings.ignore,
        settings.prices,
        silence_s=silence,
        gate=gate,
        log_format=judging.log_format,
    )

    def say(text: str) -> None:
        click.echo(text)
        sys.stdout.flush()  # a line is news only if it arrives now, pipe or not

    failed = follow(watcher, say, interval, once)
    sys.exit(EXIT_GATE if failed else EXIT_OK)


@main.command("formats")
def list_formats() -> None:
    """List the log formats this version reads."""
    from .formats import ALL_FORMATS

    for fmt in ALL_FORMATS:
        click.echo(f"{fmt.name:24s} {fmt.family:10s} {fmt.description}")


@main.command("detectors")
def list_detectors() -> None:
    """List the detectors with their codes."""
    from .detectors import ALL_DETECTORS

    for det in ALL_DETECTORS:
        doc = (sys.modules[det.__module__].__doc__ or "").strip().splitlines() or [""]
        summary = doc[0].split(": ", 1)[-1]
        click.echo(f"{det.code:8s} {det.name:22s} {det.stall_class:18s} {summary}")


def _check_format(fmt: str | None, log_format: str | None = None) -> None:
    from .formats import FORMATS_BY_NAME
    from .formats.agentchat_logging.format_strings import compile_format

    if fmt is not None and fmt not in FORMATS_BY_NAME:
        raise click.BadParameter(
            f"{fmt!r} is not one of {', '.join(sorted(FORMATS_BY_NAME))}", param_hint="--format"
        )
    if log_format is None:
        return
    if fmt not in (None, "agentchat-logging"):
        raise click.BadParameter(f"reads agentchat-logging, not {fmt}", param_hint="--log-format")
    try:
        compile_format(log_format)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--log-format") from exc


def _check_out(out_dir: Path) -> None:
    """An ``--out`` that cannot hold reports is a usage error, said before any work."""
    from .report.atomic import writable_dir

    if problem := writable_dir(out_dir):
        _fail(f"--out {out_dir}: {problem}", EXIT_USAGE)


def _cache_usable(out_dir: Path) -> bool:
    cache = out_dir / ".cache"
    if cache.exists() and not cache.is_dir():
        click.echo(f"Warning: {cache} is not a directory: results are not cached", err=True)
        return False
    return True


def _echo_skipped(skipped: list[tuple[str, str]]) -> None:
    from .report.inert import terminal

    click.echo(f"skipped {len(skipped)} file(s):")
    for source, why in skipped:
        click.echo(f"  {terminal(source)}: {terminal(why)}")


def _settings(
    config_file: Path | None, select: tuple[str, ...], ignore: tuple[str, ...]
) -> Settings:
    """The settings file's values, with the command line's --select/--ignore winning."""
    import dataclasses

    from .settings import SettingsError, load

    try:
        settings = load(config_file)
    except SettingsError as exc:
        _fail(str(exc), EXIT_USAGE)
    return dataclasses.replace(
        settings, select=select or settings.select, ignore=ignore or settings.ignore
    )


def _gate(settings: Settings, fail_on: str | None, min_confidence: float | None) -> Gate | None:
    from .gate import Gate, parse_fail_on

    classes = settings.fail_on
    if fail_on is not None:
        try:
            classes = parse_fail_on(fail_on)
        except ValueError as exc:
            raise click.BadParameter(str(exc), param_hint="--fail-on") from exc
    if not classes:
        return None
    return Gate(classes, settings.min_confidence if min_confidence is None else min_confidence)


def _ci_output(output: str, verdicts: list[RunVerdict], errors: list[tuple[str, str]]) -> None:
    """JUnit, SARIF or GitHub annotations on stdout (and GitHub's step summary)."""

    from .report import ci

    if output == "junit":
        click.echo(ci.junit(verdicts, errors), nl=False)
    elif output == "sarif":
        click.echo(ci.sarif(verdicts), nl=False)
    elif output == "github":
        for annotation in ci.github(verdicts):
            click.echo(annotation)
        if summary := os.environ.get("GITHUB_STEP_SUMMARY"):
            try:
                with open(summary, "a", encoding="utf-8") as fh:
                    fh.write(ci.step_summary(verdicts, errors))
            except OSError as exc:
                _fail(f"{summary}: cannot write the step summary: {_why(exc)}", EXIT_INPUT_ERROR)


def _exit(
    errors: list[tuple[str, str]],
    verdicts: list[RunVerdict] | None = None,
    gate: Gate | None = None,
) -> NoReturn:
    from .report.inert import terminal

    for _, message in errors:
        click.echo(f"Error: {terminal(message)}", err=True)
    failing = [v for v in verdicts or () if v.failed]
    if gate is not None:
        click.echo(
            f"gate: {len(failing)} of {len(verdicts or ())} run(s) fail --fail-on "
            f"{','.join(sorted(gate.classes))} at confidence >= {gate.min_confidence:.2f}",
            err=True,
        )
    if errors:
        sys.exit(EXIT_INPUT_ERROR)
    sys.exit(EXIT_GATE if failing else EXIT_OK)


def _fail(message: str, code: int) -> NoReturn:
    from .report.inert import terminal

    click.echo(f"Error: {terminal(message)}", err=True)
    sys.exit(code)


def _why(exc: OSError) -> str:
    return exc.strerror or str(exc)
