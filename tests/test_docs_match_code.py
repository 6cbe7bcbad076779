"""The README's tables say what the registries hold (as sqlite-utils checks its docs against
its code): every format module registered and in the format table, every detector in the
detector table under its own name, and the detector count in words as the registry counts."""

from __future__ import annotations

import importlib
import pkgutil
import re
from pathlib import Path

import analyzer
import analyzer.formats as formats_pkg
from analyzer.detectors import ALL_DETECTORS
from analyzer.formats import ALL_FORMATS
from analyzer.formats.base import LogFormat

README = (Path(__file__).parents[1] / "README.md").read_text(encoding="utf-8")
_NUMBERS = "zero one two three four five six seven eight nine ten eleven twelve thirteen "
_NUMBERS += "fourteen fifteen sixteen seventeen eighteen nineteen twenty"


def _section(title: str) -> str:
    start = README.index(f"\n## {title}")
    end = README.find("\n## ", start + 1)
    return README[start : end if end >= 0 else None]


def _first_cells(section: str) -> list[str]:
    return re.findall(r"^\| `?([^|`]+?)`? \|", section, re.M)


def test_every_format_class_is_registered_and_alone_in_its_module() -> None:
    """Any module of formats/ (its packages too) that defines a format class defines one, and
    it is in ALL_FORMATS; the helpers (io/, records, layouts...) define none."""
    registered = {f.__module__: f for f in ALL_FORMATS}
    seen = set()
    for info in pkgutil.walk_packages(formats_pkg.__path__, "analyzer.formats."):
        module = importlib.import_module(info.name)
        classes = [
            v
            for v in vars(module).values()
            if isinstance(v, type)
            and v.__module__ == module.__name__
            and callable(getattr(v, "sniff", None))
            and callable(getattr(v, "parse", None))
            and v is not LogFormat  # the interface itself
        ]
        assert len(classes) <= 1, f"{info.name}: one format class per file"
        if classes:
            assert registered.get(info.name) is classes[0], f"{info.name}: not in ALL_FORMATS"
            seen.add(info.name)
    assert seen == set(registered)


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


def _architecture_tree() -> tuple[set[str], dict[str, str]]:
    """The modules the README's tree names (paths under analyzer/), and the packages it says
    hold one module per format or detector (``<one per format>.py``): package -> which."""
    section = _section("How it is built")
    start = section.index("```\nanalyzer/\n") + 4
    block = section[start : section.index("\n```", start)]
    named: set[str] = set()
    one_per: dict[str, str] = {}
    folders: list[str] = []
    for line in block.splitlines()[1:]:
        depth = (len(line) - len(line.lstrip())) // 2 - 1
        first = line.split()[0] if line.strip() else ""
        if not (first.endswith((".py", "/")) or first.startswith("<")):
            continue  # a description carried over from the line above
        folders = folders[:depth]
        if first.endswith("/"):
            folders.append(first.rstrip("/"))
            continue
        prefix = "/".join(folders)
        if generic := re.match(r"<one per (\w+)>\.py", line.strip()):
            one_per[prefix] = generic[1]
            continue
        for token in re.findall(r"(?<!\S)(\w+\.py)(?!\S)", line):
            named.add(f"{prefix}/{token}".lstrip("/"))
    return named, one_per


def _module_path(module: str) -> str:
    return module.removeprefix("analyzer.").replace(".", "/") + ".py"


def test_the_architecture_tree_names_every_module_of_analyzer() -> None:
    """Every module is named, or is one of the registered formats or detectors the tree says
    its package holds one per file of."""
    root = Path(analyzer.__file__).parent
    actual = {str(p.relative_to(root)) for p in root.rglob("*.py")}
    named, one_per = _architecture_tree()
    registered = {
        "format": {_module_path(f.__module__) for f in ALL_FORMATS},
        "detector": {_module_path(d.__module__) for d in ALL_DETECTORS},
    }
    assert one_per == {"formats": "format", "detectors": "detector"}
    for package, kind in one_per.items():
        named |= {m for m in registered[kind] if m.rsplit("/", 1)[0] == package}
    assert sorted(actual - named) == [], "modules the README's tree leaves out"
    assert sorted(named - actual) == [], "modules the README's tree names that do not exist"
