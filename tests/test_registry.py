"""The detector registry is complete, identities are unique, docs have the three sections."""

from __future__ import annotations

import dataclasses
import importlib
import inspect
import pkgutil
import re

import analyzer.detectors as pkg
from analyzer.classify import THRESHOLDS as CLASSIFIER_THRESHOLDS
from analyzer.config import Thresholds
from analyzer.detectors import ALL_DETECTORS
from analyzer.detectors.base import Detector
from analyzer.findings import VERDICTS

from .detectors.cases import own_tests


def test_every_detector_module_is_registered() -> None:
    registered = {d.__module__ for d in ALL_DETECTORS}
    for info in pkgutil.iter_modules(pkg.__path__):
        if info.name == "base":
            continue
        module = importlib.import_module(f"analyzer.detectors.{info.name}")
        classes = [
            v
            for v in vars(module).values()
            if isinstance(v, type)
            and issubclass(v, Detector)
            and v is not Detector
            and v.__module__ == module.__name__
        ]
        assert len(classes) == 1, f"{info.name}: one detector class per file"
        assert module.__name__ in registered, f"{info.name} is not in ALL_DETECTORS"


def test_codes_and_names_are_unique_and_well_formed() -> None:
    codes = [d.code for d in ALL_DETECTORS]
    names = [d.name for d in ALL_DETECTORS]
    assert len(set(codes)) == len(codes) and len(set(names)) == len(names)
    for det in ALL_DETECTORS:
        assert re.fullmatch(r"[A-Z]+\d{2}", det.code)
        assert re.fullmatch(r"[a-z]+(-[a-z]+)*", det.name)
        assert det.stall_class in VERDICTS


def test_docstrings_teach_symptom_signal_and_false_positives() -> None:
    for det in ALL_DETECTORS:
        doc = importlib.import_module(det.__module__).__doc__ or ""
        for section in ("**Symptom**", "**Signal**", "**False positives**"):
            assert section in doc, f"{det.code} lacks {section}"


def test_every_detector_has_a_fix_for_each_framework() -> None:
    # classic (AutoGen 0.2 API and AG2), AutoGen 0.4+, Microsoft Agent Framework (its traces)
    for det in ALL_DETECTORS:
        assert set(det.fix) == {"classic", "agentchat", "agent_framework"}
        assert all(len(text) > 40 for text in det.fix.values())


def test_every_detector_has_its_own_cases_where_it_fires_and_where_it_is_silent() -> None:
    """sqlfluff's rule fixtures: ``tests/detectors/test_<detector module>.py`` holds the
    detector's ``CASES`` (what, events, evidence seqs; [] = silent), at least one of each."""
    for det in ALL_DETECTORS:
        module = own_tests(det)
        cases = getattr(module, "CASES", [])
        assert any(seqs for _, _, seqs in cases), f"{det.code}: no case where it fires"
        if not getattr(module, "ALWAYS_REPORTS", False):
            assert any(not seqs for _, _, seqs in cases), f"{det.code}: no silent case"


def test_each_detector_declares_the_thresholds_it_reads_and_every_one_is_read() -> None:
    """A detector names the ``config.Thresholds`` fields it reads (through the shared helpers
    too: ``caught_in_flight`` reads slow_tool_factor, the repetition scan similarity and
    dup_window); every field is some detector's or the classifier's."""
    helpers = {"caught_in_flight": {"slow_tool_factor"}, "scan(": {"similarity", "dup_window"}}
    declared: set[str] = set(CLASSIFIER_THRESHOLDS)
    for det in ALL_DETECTORS:
        source = inspect.getsource(importlib.import_module(det.__module__))
        read = set(re.findall(r"\bcfg\.([a-z_]+)", source))
        for call, fields in helpers.items():
            read |= fields if call in source else set()
        assert read == set(det.thresholds), f"{det.code} reads {sorted(read)}"
        declared |= set(det.thresholds)
    assert declared == {f.name for f in dataclasses.fields(Thresholds)}
