"""The one file walker for ``analyze`` and ``batch``: files, directories and globs in, the
files to read out, with every input that cannot be read said, never dropped.

Directories are walked following links to other directories, each directory once (a link
loop ends there); hidden entries and sample labels are left out; anything that is not a
regular file (a FIFO would block a reader forever, a device never ends) is refused with its
kind.
"""

from __future__ import annotations

import contextlib
import os
import re
import stat
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from .errors import display_path

_SKIP_NAMES = frozenset({"label.json"})
_MAGIC = re.compile(r"[*?[]")
_KINDS = (
    (stat.S_ISFIFO, "a FIFO"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
)


@dataclass
class Inputs:
    """What the inputs named: files to read (and whether each was named itself), inputs that
    could not be read (errors), and files found while walking that are not for us (skipped)."""

    files: dict[Path, bool] = field(default_factory=dict)
    errors: list[tuple[str, str]] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)


def gather(inputs: Iterable[str | Path]) -> Inputs:
    """Files from paths, directories and globs (``**`` recurses), in order and unique."""
    out = Inputs()
    for raw in inputs:
        text = os.fspath(raw)
        if isinstance(raw, str) and _MAGIC.search(text) and not os.path.lexists(text):
            matches = list(_glob(text))
            if not matches:
                out.errors.append((display_path(text), "no such file, directory or glob match"))
            for match in matches:
                _add(out, match, explicit=False)
        else:
            _add(out, Path(text), explicit=True)
    return out


def _add(out: Inputs, path: Path, explicit: bool) -> None:
    try:
        info = path.stat()
    except OSError as exc:
        reason = "no such file or directory" if isinstance(exc, FileNotFoundError) else exc
        out.errors.append((display_path(path), f"cannot read: {_why(reason)}"))
        return
    if stat.S_ISDIR(info.st_mode):
        _walk(out, path)
    elif stat.S_ISREG(info.st_mode):
        out.files.setdefault(path, explicit)
    else:
        target = out.errors if explicit else out.skipped
        target.append((display_path(path), f"not a regular file ({kind_of(info.st_mode)})"))


def kind_of(mode: int) -> str:
    return next((name for test, name in _KINDS if test(mode)), "not a file")


def _walk(out: Inputs, root: Path) -> None:
    found: list[Path] = []
    for path, info, problem in _entries(root):
        if problem:
            out.errors.append((display_path(path), problem))
        elif stat.S_ISREG(info.st_mode):
            if path.name not in _SKIP_NAMES:
                found.append(path)
        else:
            out.skipped.append(
                (display_path(path), f"not a regular file ({kind_of(info.st_mode)})")
            )
    for path in sorted(found):
        out.files.setdefault(path, False)


def _entries(root: Path) -> Iterator[tuple[Path, os.stat_result, str | None]]:
    """(path, its stat, a problem) for every non-hidden entry below ``root`` that is not a
    directory; each directory is entered once, whatever links lead to it."""
    seen: set[tuple[int, int]] = set()
    todo = [root]
    while todo:
        folder = todo.pop()
        try:
            here = folder.stat()
            if (here.st_dev, here.st_ino) in seen:
                continue  # a link back into the tree: walked already
            seen.add((here.st_dev, here.st_ino))
            with os.scandir(folder) as scan:
                entries = sorted(scan, key=lambda e: e.name)
        except OSError as exc:
            yield folder, os.stat_result((0,) * 10), f"cannot read directory: {_why(exc)}"
            continue
        for entry in entries:
            if entry.name.startswith("."):
                continue
            path = Path(entry.path)
            try:
                info = entry.stat()  # follows links
            except OSError as exc:
                yield path, os.stat_result((0,) * 10), f"cannot read: {_why(exc)}"
                continue
            if stat.S_ISDIR(info.st_mode):
                todo.append(path)
            else:
                yield path, info, None


def _glob(pattern: str) -> Iterator[Path]:
    """Files matching ``pattern`` (``**`` any depth, ``*``/``?``/``[...]`` within a part),
    found by the walker above, so a link loop under a ``**`` ends."""
    parts = Path(pattern).parts
    static = next((i for i, p in enumerate(parts) if _MAGIC.search(p)), len(parts))
    root = Path(*parts[:static]) if static else Path(".")
    rule = re.compile(_translate(parts[static:]))
    if not root.is_dir():
        return
    matched: list[Path] = []
    for path, info, problem in _entries(root):
        rel = path.relative_to(root).as_posix()
        if not problem and rule.fullmatch(rel) and stat.S_ISREG(info.st_mode):
            matched.append(path)
    # A pattern may name directories themselves (``logs/*``): walk those too.
    if parts[-1] != "**":  # which matched every file below already
        matched.extend(_dirs_matching(root, rule))
    yield from sorted(dict.fromkeys(matched))


def _dirs_matching(root: Path, rule: re.Pattern[str]) -> Iterator[Path]:
    """Directories one level below ``root`` that the pattern names whole (``logs/*`` where
    ``logs/a`` is a directory)."""
    try:
        with os.scandir(root) as scan:
            entries = sorted(scan, key=lambda e: e.name)
    except OSError:
        return
    for entry in entries:
        if entry.name.startswith(".") or not rule.fullmatch(entry.name):
            continue
        with contextlib.suppress(OSError):  # a link loop is said by the walk itself
            if entry.is_dir():
                yield Path(entry.path)


def _translate(parts: tuple[str, ...]) -> str:
    """A glob's parts as one regular expression over ``/``-joined relative paths."""
    out = []
    for i, part in enumerate(parts):
        last = i == len(parts) - 1
        if part == "**":
            out.append(".*" if last else "(?:.*/)?")
            continue
        piece, j = [], 0
        while j < len(part):
            c = part[j]
            if c == "*":
                piece.append("[^/]*")
            elif c == "?":
                piece.append("[^/]")
            elif c == "[" and (end := part.find("]", j + 2)) != -1:
                body = part[j + 1 : end]
                piece.append("[" + ("^" + body[1:] if body.startswith("!") else body) + "]")
                j = end
            else:
                piece.append(re.escape(c))
            j += 1
        out.append("".join(piece) + ("" if last else "/"))
    return "".join(out)


def _why(exc: object) -> str:
    return (exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)).lower()
