"""Logs in UTF-16 or with a byte-order mark, read as the UTF-8 every parser expects.

Windows PowerShell 5's ``python app.py > run.txt`` writes UTF-16 with a BOM; Notepad and
PowerShell 7's ``utf8BOM`` write a UTF-8 BOM. Both are only how the text was stored: the lines
(and their numbers) are the same once decoded.
"""

from __future__ import annotations

import codecs
from typing import IO

from .streams import DerivedStream

_UTF16_BOMS = (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)
_READ = 1 << 16


def skips_utf8_bom(head: bytes) -> bool:
    return head.startswith(codecs.BOM_UTF8)


def is_utf16(head: bytes) -> bool:
    return head.startswith(_UTF16_BOMS)


class Utf16AsUtf8(DerivedStream):
    """A read-only stream of the UTF-8 encoding of ``raw``, UTF-16 text with a BOM."""

    def __init__(self, raw: IO[bytes]) -> None:
        super().__init__(raw)
        self._decoder = codecs.getincrementaldecoder("utf-16")(errors="replace")
        self._done = False

    def _next(self) -> bytes | None:
        if self._done:
            return None
        chunk = self._raw.read(_READ)
        self._done = not chunk
        return self._decoder.decode(chunk, final=self._done).encode("utf-8")
