"""Read-only byte streams made from another stream piece by piece (unwrapped, transcoded)."""

from __future__ import annotations

import io
from typing import IO


class DerivedStream(io.RawIOBase):
    """The bytes ``_next`` makes from ``raw``, served in reads of any size."""

    def __init__(self, raw: IO[bytes]) -> None:
        self._raw = raw
        self._pending = b""

    def _next(self) -> bytes | None:
        """The next piece (possibly empty); None at the end."""
        raise NotImplementedError

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        parts, size = [self._pending], len(self._pending)
        while size < len(buffer) and (piece := self._next()) is not None:
            parts.append(piece)
            size += len(piece)
        data = b"".join(parts)  # one join per read: appending piece by piece is quadratic
        n = min(len(buffer), len(data))
        buffer[:n] = data[:n]
        self._pending = data[n:]
        return n

    def close(self) -> None:
        self._raw.close()
        super().close()
