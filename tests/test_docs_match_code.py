"""The README's tables say what the registries hold (as sqlite-utils checks its docs against
its code): every format module registered and in the format table, every detector in the
detector table under its own name, and the detector count in words as the registry counts."""

from __future__ import annotations

import importlib
import pkgutil
import re
from pathlib import Path

import analyzer.formats as formats_pkg
from analyzer.detectors import ALL_DETECTORS
from analyzer.formats import ALL_FORMATS

README = (Path(__file__).parents[1] / "README.md").read_text(encoding="utf-8")
_NUMBERS = "zero one two three four five six seven eight nine ten eleven twelve thirteen "
_NUMBERS += "fourteen fifteen sixteen seventeen eighteen nineteen twenty"


def _section(title: str) -> str:
    start = README.index(f"\n## {title}")
    end = README.find("\n## ", start + 1)
    return README[start : end if end >= 0 else None]


def _first_cells(section: str) -> list[str]:
    return re.findall(r"^\| `?([^|`]+?)`? \|", section, re.M)


def test_every_format_module_holds_one_registered_format() -> None:
    registered = {f.__module__ for f in ALL_FORMATS}
    for info in pkgutil.iter_modules(formats_pkg.__path__):
        if info.name.startswith("_") or info.name == "base":
            continue  # helpers (streams, records, layouts) and the shared base
        module = importlib.import_module(f"analyzer.formats.{info.name}")
        classes = [
            v
            for v in vars(module).values()
            if isinstance(v, type)
            and v.__module__ == module.__name__
            and callable(getattr(v, "sniff", None))
            and callable(getattr(v, "parse", None))
        ]
        assert len(classes) == 1, f"{info.name}: one format class per file"
        assert module.__name__ in registered, f"{info.name} is not in ALL_FORMATS"


def test_the_format_table_lists_every_registered_format() -> None:
    rows = _first_cells(_section("Supported log formats"))
    names = [r for r in rows if r not in ("format", "---")]
    assert sorted(names) == sorted(f.name for f in ALL_FORMATS)


def test_the_detector_table_lists_every_detector_under_its_name() -> None:
    section = _section("Verdicts and detectors")
    listed = dict(re.findall(r"^\| ([A-Z]+\d{2}) \| ([a-z-]+) \|", section, re.M))
    assert listed == {d.code: d.name for d in ALL_DETECTORS}
    count = _NUMBERS.split()[len(ALL_DETECTORS)]
    assert f"{count.capitalize()} detectors, one per file" in section
