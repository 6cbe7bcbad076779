"""Hide volatile tokens (ids, timestamps, numbers) so drifting repeats compare equal.

Shared by the detectors and the repetition scan; the idea of Drain3's masking.
"""

from __future__ import annotations

import re

# Drain3-style masks: volatile tokens that differ between otherwise identical messages.
_MASKS = (
    (
        re.compile(r"\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b", re.I),
        "<UUID>",
    ),
    (re.compile(r"\b(?:call|chatcmpl|toolu|req|run|msg)_[A-Za-z0-9]{6,}\b"), "<ID>"),
    (
        re.compile(
            r"\b\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?"
        ),
        "<TS>",
    ),
    (re.compile(r"\b0x[0-9a-f]+\b|\b[0-9a-f]{16,}\b", re.I), "<HEX>"),
    (re.compile(r"\d+(?:\.\d+)?"), "<N>"),
)


def mask_volatile(text: str | None) -> str:
    """Replace ids, timestamps and numbers so that drifting repeats compare equal."""
    if not text:
        return ""
    for pattern, token in _MASKS:
        text = pattern.sub(token, text)
    return text
