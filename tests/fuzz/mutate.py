"""Seeded mutations of real logs: every case is ``(seed file, mutator, rng seed)`` and
rebuilds byte for byte from those three, so a failure is reproduced by its case number.

Mutators follow the ways real logs break or are made hostile: cut at any byte, lines dropped,
repeated or swapped, two formats spliced, bytes flipped, NUL/CR/BOM/ANSI, huge lines, deep
nesting, hostile agent and tool names, JSON values of the wrong type or null, SQLite rows with
nulls and broken JSON, planted secrets of every kind the redactor knows, Markdown/HTML payloads.
"""

from __future__ import annotations

import json
import random
import re
import shutil
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

# One of each kind of secret (issue: "planted secrets of every kind"); the value that must
# never reach an output is the whole string.
SECRETS = {
    "openai": "sk-proj-Zq8XwV3nT1pL6rK0sJ4hG7fD2aY9uB5c",
    "anthropic": "sk-ant-api03-Hh7Jk2Lm9Np4Qr6St8Vw1Xy3Za5Bc0De",
    "google": "AIzaSyD4x9Qm2Lw7Rt5Yp0Ks3Nv8Bh6Jc1Fg4Ez",
    "github": "ghp_a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8",
    "github_pat": "github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuv",
    "slack": "xoxb-1234567890-0987654321-AbCdEfGhIjKlMnOp",
    "jwt": "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N",
    "aws_id": "AKIAIOSFODNN7EXAMPLE",
    "aws_temp_id": "ASIAY34FZKBOKMUTVV7A",
    "aws_secret": "aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
    "dsn": "postgres://admin:Tr0ub4dor-pw@db.internal:5432/app",
    "pem": "-----BEGIN RSA PRIVATE KEY-----\nMIIEpAIBAAKCAQEA7vbqajDw4o6gJy\n-----END RSA PRIVATE KEY-----",
    "huggingface": "hf_AbCdEfGhIjKlMnOpQrStUvWxYz012345",
    "groq": "gsk_8Hn3Kd9Lq2Wm5Xp7Zr1Tv4Yb6Nc0Jf3Gh5Ks7Pe9Rw",
    "azure_header": "api-key: 3f2b9c8d7e6a5b4c3d2e1f0a9b8c7d6e",
    "azure_env": "AZURE_OPENAI_API_KEY=9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d",
    "llm_config": "'api_key': 'sk-abcdefghijklmnopqrstuvwxyz123456'",
    "bearer": "Authorization: Bearer abcdefghijklmnopqrstuvwx.yz0123456789",
}
# What of each secret must not be seen (the key itself, not its label).
SECRET_CORES = {
    "aws_secret": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
    "dsn": "Tr0ub4dor-pw",
    "pem": "MIIEpAIBAAKCAQEA7vbqajDw4o6gJy",
    "azure_header": "3f2b9c8d7e6a5b4c3d2e1f0a9b8c7d6e",
    "azure_env": "9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d",
    "llm_config": "abcdefghijklmnopqrstuvwxyz123456",
    "bearer": "abcdefghijklmnopqrstuvwx",
}
PAYLOADS = (
    "<script>alert(1)</script>",
    '<img src="http://evil.example/x.png" onerror="alert(1)">',
    '<a href="http://evil.example/">click</a>',
    "<details open><summary>x</summary>",
    "[click me](http://evil.example/)",
    "![pixel](http://evil.example/p.png)",
    "[js](javascript:alert(1))",
    "<javascript:alert(1)>",
    "see https://evil.example/path and www.evil.example",
    "\n# Injected heading\n",
    "\n```\nfenced\n",
    "\r| injected | row |",
    "\x1b]0;retitled\x07",
    "\x1b[2J\x1b[H",
    "\x1b]8;;http://evil.example\x07link\x1b]8;;\x07",
    "price_$5_and_$6",
    "\u202etxt.exe",
)
HOSTILE_NAMES = (
    "agent with spaces",
    "ägënt_ünï😀",
    "price_$5_and_$6",
    "<script>x</script>",
    "[x](http://evil.example/)",
    "a|b\\c`d",
    "line\nbreak",
    "\x1b[31mred\x1b[0m",
    "x" * 5000,
    "-dash.dot",
    SECRETS["github"],
)


@dataclass(frozen=True, slots=True)
class Case:
    number: int
    seed: Path
    mutator: str
    planted: tuple[str, ...]  # secrets (their cores) that were planted
    path: Path


Mutator = Callable[[bytes, random.Random, list[str]], bytes]


def _lines(data: bytes) -> list[bytes]:
    return data.split(b"\n")


def truncate(data: bytes, rng: random.Random, planted: list[str]) -> bytes:
    return data[: rng.randrange(0, max(len(data), 1))]


def drop_lines(data: bytes, rng: random.Random, planted: list[str]) -> bytes:
    lines = _lines(data)
    for _ in range(rng.randint(1, 5)):
        if len(lines) > 1:
            del lines[rng.randrange(len(lines))]
    return b"\n".join(lines)


def duplicate_lines(data: bytes, rng: random.Random, planted: list[str]) -> bytes:
    lines = _lines(data)
    i = rng.randrange(len(lines))
    lines[i:i] = lines[i : i + rng.randint(1, 4)] * rng.randint(1, 30)
    return b"\n".join(lines)


def swap_lines(data: bytes, rng: random.Random, planted: list[str]) -> bytes:
    lines = _lines(data)
    for _ in range(rng.randint(1, 6)):
        i, j = rng.randrange(len(lines)), rng.randrange(len(lines))
        lines[i], lines[j] = lines[j], lines[i]
    return b"\n".join(lines)


def flip_bytes(data: bytes, rng: random.Random, planted: list[str]) -> bytes:
    buf = bytearray(data)
    for _ in range(rng.randint(1, 20)):
        if buf:
            buf[rng.randrange(len(buf))] = rng.randrange(256)
    return bytes(buf)


def control_bytes(data: bytes, rng: random.Random, planted: list[str]) -> bytes:
    buf = bytearray(data)
    for _ in range(rng.randint(1, 10)):
        piece = rng.choice([b"\x00", b"\r", b"\r\n", b"\xef\xbb\xbf", b"\x1b[31m", b"\x1b]0;t\x07"])
        at = rng.randrange(len(buf) + 1)
        buf[at:at] = piece
    if rng.random() < 0.3:
        buf[:0] = b"\xef\xbb\xbf"
    return bytes(buf)


def huge_line(data: bytes, rng: random.Random, planted: list[str]) -> bytes:
    lines = _lines(data)
    i = rng.randrange(len(lines))
    lines[i] = lines[i] + rng.choice([b"A", b"{", b"x y ", b"\\"]) * rng.choice(
        [10**5, 10**6, 4 * 10**6]
    )
    return b"\n".join(lines)


_JSON_VALUE = re.compile(
    rb'("(?:sender|name|source|content|agent_name|role|type|id|receiver)":\s*)("(?:[^"\\]|\\.)*"|null|\d+)'
)


def deep_nesting(data: bytes, rng: random.Random, planted: list[str]) -> bytes:
    depth = rng.choice([100, 900, 1500, 5000, 100_000])
    opener, closer = rng.choice([(b'{"a":', b"}"), (b"[", b"]")])
    nested = opener * depth + b"1" + closer * depth
    found = list(_JSON_VALUE.finditer(data))
    if found:
        m = rng.choice(found)
        return data[: m.start(2)] + nested + data[m.end(2) :]
    lines = _lines(data)
    i = rng.randrange(len(lines))
    lines[i] = lines[i] + b" " + nested
    return b"\n".join(lines)


def json_types(data: bytes, rng: random.Random, planted: list[str]) -> bytes:
    found = list(_JSON_VALUE.finditer(data))
    for m in rng.sample(found, min(len(found), rng.randint(1, 8))):
        new = rng.choice(
            [b"null", b"0", b"-1", b"true", b"[]", b"{}", b'["x", 1]', b'{"x": null}', b"1e999"]
        )
        data = data.replace(m.group(0), m.group(1) + new, 1)
    return data


def splice(data: bytes, rng: random.Random, planted: list[str], other: bytes = b"") -> bytes:
    return data[: rng.randrange(len(data) + 1)] + other[rng.randrange(len(other) + 1) :]


def _plant(data: bytes, rng: random.Random, text: str) -> bytes:
    """Put ``text`` inside a string value where there is one (so it survives parsing), else
    into a line."""
    escaped = json.dumps(text)[1:-1].encode()
    spots = [m.end() for m in re.finditer(rb'"content": ?"', data)]
    if spots:
        at = rng.choice(spots)
        return data[:at] + escaped + b" " + data[at:]
    lines = _lines(data)
    i = rng.randrange(len(lines))
    lines[i] = lines[i] + b" " + text.encode()
    return b"\n".join(lines)


def plant_secrets(data: bytes, rng: random.Random, planted: list[str]) -> bytes:
    for kind in rng.sample(sorted(SECRETS), rng.randint(1, 6)):
        data = _plant(data, rng, SECRETS[kind])
        planted.append(SECRET_CORES.get(kind, SECRETS[kind]))
    return data


def payloads(data: bytes, rng: random.Random, planted: list[str]) -> bytes:
    for text in rng.sample(PAYLOADS, rng.randint(1, 6)):
        data = _plant(data, rng, text)
    return data


def hostile_names(
    data: bytes, rng: random.Random, planted: list[str], names: tuple[str, ...] = ()
) -> bytes:
    for name in names[: rng.randint(1, 3)]:
        new = rng.choice(HOSTILE_NAMES)
        if new == SECRETS["github"]:
            planted.append(new)
        escaped = json.dumps(new)[1:-1] if rng.random() < 0.7 else new
        data = data.replace(name.encode(), escaped.encode())
    return data


MUTATORS: dict[str, Mutator] = {
    "truncate": truncate,
    "drop_lines": drop_lines,
    "duplicate_lines": duplicate_lines,
    "swap_lines": swap_lines,
    "flip_bytes": flip_bytes,
    "control_bytes": control_bytes,
    "huge_line": huge_line,
    "deep_nesting": deep_nesting,
    "json_types": json_types,
    "plant_secrets": plant_secrets,
    "payloads": payloads,
}
SPECIAL = ("splice", "hostile_names", "sqlite_rows")


def mutate_sqlite(src: Path, dst: Path, rng: random.Random, planted: list[str]) -> None:
    """Nulls, broken JSON, planted secrets and payloads in a copy of a runtime-log database."""
    shutil.copy(src, dst)
    con = sqlite3.connect(dst)
    try:
        tables = [r[0] for r in con.execute("select name from sqlite_master where type='table'")]
        for _ in range(rng.randint(1, 8)):
            table = rng.choice(tables)
            cols = [r[1] for r in con.execute(f"pragma table_info('{table}')")]
            rowids = [r[0] for r in con.execute(f"select rowid from '{table}'")]
            if not rowids or not cols:
                continue
            col, rowid = rng.choice(cols), rng.choice(rowids)
            kind = rng.choice(["null", "broken", "secret", "payload", "number"])
            value: object
            if kind == "null":
                value = None
            elif kind == "broken":
                value = '{"content": "unterminated'
            elif kind == "secret":
                key = rng.choice(sorted(SECRETS))
                value = json.dumps(
                    {"content": SECRETS[key], "role": "assistant", "name": SECRETS[key]}
                )
                planted.append(SECRET_CORES.get(key, SECRETS[key]))
            elif kind == "payload":
                value = rng.choice(PAYLOADS)
            else:
                value = rng.choice([0, -1, 10**18, 3.5])
            try:
                con.execute(f"update '{table}' set \"{col}\" = ? where rowid = ?", (value, rowid))
            except sqlite3.IntegrityError:  # an INTEGER PRIMARY KEY takes only integers
                continue
        con.commit()
    finally:
        con.close()
