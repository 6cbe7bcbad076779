"""Hide volatile tokens (ids, timestamps, numbers) so drifting repeats compare equal.

Shared by the detectors and the repetition scan; the idea of Drain3's masking. Done in polars
(Rust regex, every core): masking is the costliest step of matching a large log's messages.
"""

from __future__ import annotations

import polars as pl

# Drain3-style masks, applied in order: volatile tokens that differ between otherwise
# identical messages. The syntax is what Python's re and Rust's regex share.
MASKS = (
    (r"(?i)\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b", "<UUID>"),
    (r"\b(?:call|chatcmpl|toolu|req|run|msg)_[A-Za-z0-9]{6,}\b", "<ID>"),
    (r"\b\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?", "<TS>"),
    (r"(?i)\b0x[0-9a-f]+\b|\b[0-9a-f]{16,}\b", "<HEX>"),
    (NUMBER := r"\d+(?:\.\d+)?", "<N>"),
)


def masked(text: pl.Expr, numbers: bool = True) -> pl.Expr:
    """``text`` with ids, timestamps and (unless ``numbers`` is False: where numbers are
    values that matter, a tool's arguments) numbers replaced by tokens; null becomes ""."""
    for pattern, token in MASKS if numbers else MASKS[:-1]:
        text = text.str.replace_all(pattern, token)
    return text.fill_null("")
