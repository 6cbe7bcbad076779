from __future__ import annotations

import pytest

from analyzer import fastpaths
from analyzer.formats.io import split_parse


@pytest.fixture
def tiny_spans(monkeypatch: pytest.MonkeyPatch) -> None:
    """Any file is "large": planned in spans of a 16th to a 4th of it on two processes."""
    monkeypatch.setenv(split_parse.ENV_PROCESSES, "2")
    monkeypatch.setenv(fastpaths.ENV_MODE, fastpaths.Mode.ALWAYS.value)


@pytest.fixture
def merges(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The number of parts of every merge of a span parse, as it happens."""
    counts: list[int] = []
    real = split_parse.merge

    def spying(parts: list[split_parse.Part]) -> object:
        counts.append(len(parts))
        return real(parts)

    monkeypatch.setattr(split_parse, "merge", spying)
    return counts
