"""Atomic report writes: a reader never sees a half-written file."""

from __future__ import annotations

import os
import secrets
from pathlib import Path


def atomic_write_bytes(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.parent / f".{path.name}.{secrets.token_hex(6)}.tmp"
    # Created like any file (0666 less the umask): mkstemp's 0600 made reports unreadable to
    # the other users of a shared report directory.
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def atomic_write_text(path: Path, text: str) -> None:
    atomic_write_bytes(path, text.encode("utf-8"))


def writable_dir(path: Path) -> str | None:
    """Why ``path`` cannot hold reports (made if missing), or None if it can. Tried by
    writing, as the reports will be: permission bits say nothing to root, a read-only mount
    or a full disk says it only then."""
    try:
        path.mkdir(parents=True, exist_ok=True)
        if not path.is_dir():
            return "not a directory"
        probe = path / f".probe.{secrets.token_hex(6)}.tmp"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        return (exc.strerror or str(exc)).lower()
    return None
