"""The bulk line reader must give every line once, numbered, whatever the block size: lines
longer than a block, a last line without its newline, gzip, bad bytes, spans of a file."""

from __future__ import annotations

import gzip
from itertools import pairwise
from pathlib import Path

import pytest

from analyzer.formats.io.line_batches import Span, line_batches


def numbered(path: Path, block_bytes: int, span: Span | None = None) -> list[tuple[int, str]]:
    frames = line_batches(path, lambda lf: lf, block_bytes=block_bytes, span=span)
    return [(n, t) for f in frames for n, t in zip(f["line"], f["text"], strict=True)]


def expected(raw: bytes) -> list[tuple[int, str]]:
    lines = raw.decode("utf-8", errors="replace").split("\n")
    if raw.endswith(b"\n"):
        lines.pop()
    return list(enumerate(lines, 1))


CONTENT = b"".join(
    [
        b"short\n",
        b"x" * 5000 + b"\n",  # longer than the smallest blocks
        b"\n",  # an empty line
        "caf\u00e9 \u65e5\u672c\n".encode(),  # multi-byte characters a cut may fall inside
        b"bad \xff\xfe bytes\n",
        *(f"line {i}\n".encode() for i in range(300)),
        b"no newline at the end",
    ]
)


@pytest.mark.parametrize("block_bytes", [7, 64, 1000, 4096, 1 << 20])
@pytest.mark.parametrize("trailing_newline", [True, False])
def test_every_line_once_in_order(block_bytes: int, trailing_newline: bool, tmp_path: Path) -> None:
    raw = CONTENT + (b"\n" if trailing_newline else b"")
    plain, packed = tmp_path / "a.log", tmp_path / "a.log.gz"
    plain.write_bytes(raw)
    packed.write_bytes(gzip.compress(raw))
    assert numbered(plain, block_bytes) == expected(raw)
    assert numbered(packed, block_bytes) == expected(raw)


def test_spans_number_their_lines_from_one_and_count_them(tmp_path: Path) -> None:
    raw = CONTENT + b"\n"
    path = tmp_path / "a.log"
    path.write_bytes(raw)
    cuts = [0, raw.index(b"line 10\n"), raw.index(b"line 200\n"), None]
    lines, offset = [], 0
    for start, end in pairwise(cuts):
        span = Span(start or 0, end)
        lines += [(n + offset, t) for n, t in numbered(path, 64, span)]
        offset += span.lines
    assert lines == expected(raw)
    assert offset == len(expected(raw))


def test_a_block_goes_whole_unless_cut_inside_a_character(tmp_path: Path) -> None:
    from analyzer.formats.io.line_batches import _blocks

    ascii_path, utf8_path = tmp_path / "ascii.log", tmp_path / "utf8.log"
    ascii_path.write_bytes(b"".join(f"line {i:04d}\n".encode() for i in range(100)))
    utf8_path.write_bytes(
        "".join(f"l\u00e9\u00e9\u00e9\u00e9\u00e9 {i}\n" for i in range(100)).encode()
    )
    whole = [cut_off for _, cut_off in _blocks(ascii_path, 25, Span())]
    assert any(whole)  # ASCII: blocks handed over uncopied, the cut-off line dropped later
    # 25-byte blocks of 2-byte characters: some end inside one, and those are cut at the line end
    cuts = list(_blocks(utf8_path, 25, Span()))
    assert any(not cut_off and block.endswith(b"\n") for block, cut_off in cuts)
    for path in (ascii_path, utf8_path):
        assert numbered(path, 25) == expected(path.read_bytes())


def test_crlf_lines_lose_their_carriage_return(tmp_path: Path) -> None:
    path = tmp_path / "crlf.log"
    path.write_bytes(b"".join(f"line {i}\r\n".encode() for i in range(200)))
    assert numbered(path, 64) == [(i + 1, f"line {i}") for i in range(200)]
