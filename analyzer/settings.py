"""Project settings: ``[tool.autogen-postmortem]`` in the nearest ``pyproject.toml`` (from the
working directory up), or a file given with ``--config``. Command-line options win.

    [tool.autogen-postmortem]
    select = ["LOOP01", "BLOCK01"]     # detectors (codes or names); default: all
    ignore = ["LOOP05"]
    fail-on = "loop,blocking_tool"     # or "any"; the CI gate
    min-confidence = 0.8
    [tool.autogen-postmortem.thresholds]
    similarity = 92.0                  # any field of config.Thresholds
    [tool.autogen-postmortem.prices]   # USD per million tokens, over the shipped table
    "my-finetune" = [3.0, 12.0]        # [input, output]

A ``--config`` file may hold the same table, or the same keys at its top level. Unknown keys
and values of the wrong type are errors naming the key and the file.
"""

from __future__ import annotations

import dataclasses
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .config import DEFAULT, Thresholds
from .cost import PRICES, Price
from .gate import Gate, parse_fail_on

TABLE = "autogen-postmortem"
_KEYS = {"select", "ignore", "fail-on", "min-confidence", "thresholds", "prices"}


class SettingsError(ValueError):
    """A settings file that cannot be used; the message names the file and the key."""


@dataclass(frozen=True, slots=True)
class Settings:
    path: Path | None = None
    """The file they came from (None: defaults)."""
    select: tuple[str, ...] = ()
    ignore: tuple[str, ...] = ()
    fail_on: frozenset[str] = frozenset()
    min_confidence: float = 0.0
    thresholds: Thresholds = DEFAULT
    raw: dict[str, Any] = field(default_factory=dict)
    prices: Mapping[str, Price] = field(default_factory=lambda: dict(PRICES))
    """The shipped price table with the file's entries over it."""

    def gate(self) -> Gate | None:
        return Gate(self.fail_on, self.min_confidence) if self.fail_on else None

    def describe(self) -> dict[str, Any]:
        """What the JSON output records of the settings used."""
        return {"file": str(self.path) if self.path else None, "values": self.raw}


def find_pyproject(start: Path) -> Path | None:
    for folder in (start, *start.parents):
        candidate = folder / "pyproject.toml"
        if candidate.is_file():
            return candidate
    return None


def load(config: Path | None = None, cwd: Path | None = None) -> Settings:
    """From ``config`` if given, else the nearest pyproject.toml's table (if it has one)."""
    path = config or find_pyproject((cwd or Path.cwd()).resolve())
    if path is None:
        return Settings()
    try:
        doc = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise SettingsError(f"{path}: cannot read: {exc}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise SettingsError(f"{path}: not valid TOML: {exc}") from exc
    table = doc.get("tool", {}).get(TABLE)
    if table is None:
        if config is None:  # a pyproject.toml of a project that does not use the tool
            return Settings()
        table = doc
    return _parse(path, table)


def _parse(path: Path, table: Any) -> Settings:
    if not isinstance(table, dict):
        raise SettingsError(f"{path}: [tool.{TABLE}] must be a table")
    unknown = sorted(set(table) - _KEYS)
    if unknown:
        raise SettingsError(
            f"{path}: unknown key {unknown[0]!r} (known: {', '.join(sorted(_KEYS))})"
        )
    select = _names(path, table, "select")
    ignore = _names(path, table, "ignore")
    fail_on: frozenset[str] = frozenset()
    if "fail-on" in table:
        value = table["fail-on"]
        text = ",".join(value) if isinstance(value, list) else value
        if not isinstance(text, str):
            raise SettingsError(f"{path}: fail-on must be a string or a list of strings")
        try:
            fail_on = parse_fail_on(text)
        except ValueError as exc:
            raise SettingsError(f"{path}: fail-on: {exc}") from exc
    min_confidence = table.get("min-confidence", 0.0)
    if isinstance(min_confidence, bool) or not isinstance(min_confidence, int | float):
        raise SettingsError(f"{path}: min-confidence must be a number")
    if not 0 <= min_confidence <= 1:
        raise SettingsError(f"{path}: min-confidence must lie in [0, 1]")
    thresholds = _thresholds(path, table.get("thresholds", {}))
    prices = {**PRICES, **_prices(path, table.get("prices", {}))}
    return Settings(path, select, ignore, fail_on, float(min_confidence), thresholds, table, prices)


def _prices(path: Path, table: Any) -> dict[str, Price]:
    if not isinstance(table, dict):
        raise SettingsError(f"{path}: prices must be a table of model = [input, output]")
    out = {}
    for model, value in table.items():
        if isinstance(value, dict):
            value = [value.get("input"), value.get("output")]
        numbers = isinstance(value, list) and len(value) == 2
        if not numbers or not all(
            isinstance(v, int | float) and not isinstance(v, bool) and v >= 0 for v in value
        ):
            raise SettingsError(
                f"{path}: price {model!r} must be [input, output] in USD per million tokens"
            )
        out[model] = (float(value[0]), float(value[1]))
    return out


def _names(path: Path, table: dict[str, Any], key: str) -> tuple[str, ...]:
    value = table.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise SettingsError(f"{path}: {key} must be a list of detector codes or names")
    return tuple(value)


def _thresholds(path: Path, table: Any) -> Thresholds:
    if not isinstance(table, dict):
        raise SettingsError(f"{path}: thresholds must be a table")
    fields = {f.name: f for f in dataclasses.fields(Thresholds)}
    values = {}
    for key, value in table.items():
        name = key.replace("-", "_")
        if name not in fields:
            raise SettingsError(f"{path}: unknown threshold {key!r} (known: {', '.join(fields)})")
        want = type(getattr(DEFAULT, name))
        ok = isinstance(value, want) or (want is float and isinstance(value, int))
        if isinstance(value, bool) or not ok:
            raise SettingsError(f"{path}: threshold {key!r} must be {want.__name__}")
        values[name] = want(value)
    return dataclasses.replace(DEFAULT, **values)
