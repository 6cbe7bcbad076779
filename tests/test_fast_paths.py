"""One switch for every fast path: each sample reads the same with all of them taken and with
none; a fast path that gives up says so (raising in the tests, logged under ``-v``)."""

from __future__ import annotations

import re
import tempfile
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner

import analyzer.pipeline  # noqa: F401  (imports every module that declares a fast path)
from analyzer import fastpaths
from analyzer.cli import main
from analyzer.fastpaths import DECLARED, FallbackError, FastPath, Mode
from analyzer.formats import parse_log

from .conftest import ROOT, SAMPLES, labelled_samples

SAMPLE_FILES = [path for path, _ in labelled_samples()]
README = (ROOT / "README.md").read_text(encoding="utf-8")


@pytest.mark.parametrize(
    ("mode", "taken"),
    [(Mode.AUTO, [False, True, True]), (Mode.OFF, [False] * 3), (Mode.ALWAYS, [True] * 3)],
)
def test_each_mode_decides_by_the_limit_or_not_at_all(
    mode: Mode, taken: list[bool], monkeypatch: pytest.MonkeyPatch
) -> None:
    path = FastPath("example", 100, "lines", "a test's")
    monkeypatch.setenv(fastpaths.ENV_MODE, mode.value)
    assert [fastpaths.take(path, size) for size in (99, 100, 10**9)] == taken


def test_an_unknown_setting_is_an_error_naming_the_variable(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(fastpaths.ENV_MODE, "fast")
    with pytest.raises(ValueError, match=f"{fastpaths.ENV_MODE}='fast'"):
        fastpaths.mode()


def test_use_sets_the_mode_for_a_block_only(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(fastpaths.ENV_MODE, raising=False)
    with fastpaths.use("off"):
        assert fastpaths.mode() is Mode.OFF
    assert fastpaths.mode() is Mode.AUTO


def test_a_fast_path_is_declared_once() -> None:
    with pytest.raises(ValueError, match="declared twice"):
        fastpaths.declare("split-parse", 1, "bytes", "again")


def test_every_declared_fast_path_is_in_the_readme_table() -> None:
    section = README[README.index("\n### Fast paths") :]
    section = section[: section.index("\n## ")]
    listed = set(re.findall(r"^\| `([a-z-]+)` \|", section, re.M))
    assert listed == set(DECLARED), "README's fast path table and the declarations differ"
    assert len(DECLARED) >= 10


@pytest.mark.parametrize("path", SAMPLE_FILES, ids=lambda p: str(p.relative_to(SAMPLES)))
def test_every_sample_reads_the_same_with_every_fast_path_and_with_none(
    path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Events, coverage and skipped lines; the verdicts are test_golden's, in every mode."""
    read = {}
    for mode in (Mode.OFF, Mode.ALWAYS):
        monkeypatch.setenv(fastpaths.ENV_MODE, mode.value)
        read[mode] = parse_log(path)
    (off_format, off), (always_format, always) = read[Mode.OFF], read[Mode.ALWAYS]
    assert off_format == always_format
    assert off.events.equals(always.events)
    assert (off.coverage, off.skipped) == (always.coverage, always.skipped)


def test_a_fallback_raises_in_strict_mode_and_is_logged_otherwise(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    path = FastPath("example", 0, "lines", "a test's")
    with pytest.raises(FallbackError, match="example fell back: broken"):
        fastpaths.fell_back(path, "broken")
    monkeypatch.setenv(fastpaths.ENV_STRICT, "0")
    caplog.set_level("INFO", logger=fastpaths.log.name)
    fastpaths.fell_back(path, "broken")
    assert [r.getMessage() for r in caplog.records if r.name == fastpaths.log.name] == [
        "fast path example fell back to its reference path: broken"
    ]


def test_verbose_shows_a_fallback_on_stderr(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fallbacks: Callable[[], list[str]]
) -> None:
    # No room for the worker processes' files: the split parse falls back to one process.
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "missing"))
    log = SAMPLES / "agentchat/loop_swarm_pingpong/events.log"
    args = [
        "--fast-paths",
        "always",
        "analyze",
        str(log),
        "--out",
        str(tmp_path),
        "--charts",
        "none",
    ]
    quiet = CliRunner().invoke(main, args)
    assert quiet.exit_code == 0 and "fell back" not in quiet.stderr
    loud = CliRunner().invoke(main, ["-v", *args])
    assert loud.exit_code == 0, loud.output
    assert "autogen-postmortem: fast path split-parse fell back" in loud.stderr
    assert loud.stdout == quiet.stdout
