from __future__ import annotations

import pytest

from analyzer.formats import _split_parse as split_parse


@pytest.fixture
def tiny_spans(monkeypatch: pytest.MonkeyPatch) -> None:
    """Any file of a few KB is "large": planned in spans of 1-4 KB on two processes."""
    monkeypatch.setenv(split_parse.ENV_PROCESSES, "2")
    monkeypatch.setattr(split_parse, "MIN_SPLIT_BYTES", 1)
    monkeypatch.setattr(split_parse, "MAX_SPAN_BYTES", 4096)
    monkeypatch.setattr(split_parse, "MIN_SPAN_BYTES", 1024)


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
