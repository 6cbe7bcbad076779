"""The self-contained HTML report and batch index: inert, scriptless, whole; opened in a real
headless Chromium (Debian's package), which draws it without a console error."""

from __future__ import annotations

import os
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pytest
from click.testing import CliRunner

from analyzer import analyze_file
from analyzer.cli import main
from analyzer.report.html import render_html

from .conftest import SAMPLES
from .fuzz.mutate import PAYLOADS, SECRETS

BLOCKED = SAMPLES / "agentchat" / "blocking_tool_sync" / "events.log"
PAGE_TAGS = {
    "html", "head", "meta", "title", "style", "body", "main", "h1", "h2", "h3", "p", "b",
    "span", "code", "div", "table", "tr", "th", "td", "a",
}  # fmt: skip


class Tags(HTMLParser):
    """Every element and attribute a page has outside its inline SVG charts."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.depth_in_svg = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "svg":
            self.depth_in_svg += 1
        if not self.depth_in_svg:
            self.tags.append((tag, dict(attrs)))

    def handle_endtag(self, tag: str) -> None:
        if tag == "svg":
            self.depth_in_svg -= 1


def hostile_copy(tmp_path: Path) -> Path:
    """The blocked-tool sample with an agent named by payloads and a secret."""
    bad = " ".join([*PAYLOADS[:8], SECRETS["openai"]]).replace('"', "'").replace("\n", " ")
    text = BLOCKED.read_text().replace("analyst", bad.replace("\\", "/"))
    target = tmp_path / "hostile.log"
    target.write_text(text)
    return target


def test_a_page_is_scriptless_inert_and_redacted(tmp_path: Path) -> None:
    result = analyze_file(hostile_copy(tmp_path))
    page = render_html(result, result.runs[0], ["<svg><!-- <script>x</script> --><path/></svg>"])
    parser = Tags()
    parser.feed(page)
    assert {tag for tag, _ in parser.tags} <= PAGE_TAGS
    assert all(
        not k.startswith("on") and k not in ("href", "src") for _, a in parser.tags for k in a
    )
    assert "Content-Security-Policy" in page and "default-src 'none'" in page
    assert SECRETS["openai"] not in page and "<!--" not in page
    assert "&lt;script&gt;" in page


def _drawn_share(png: Path) -> float:
    """The share of the screenshot's pixels that are neither the page's white nor its grey
    margin: text, tables and charts."""
    from matplotlib.image import imread

    pixels = imread(png)[..., :3]
    light = (pixels > 0.93).all(axis=-1)
    return float(1 - light.mean())


def _chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.mark.skipif(
    not _chromium() and not os.environ.get("CI"), reason="no chromium here (CI installs it)"
)
def test_chromium_draws_the_report_and_the_index_without_console_errors(tmp_path: Path) -> None:
    browser = _chromium()
    assert browser, "CI must install Debian's chromium (make test does)"
    out = tmp_path / "out"
    code = (
        CliRunner()
        .invoke(
            main,
            ["analyze", str(BLOCKED), str(hostile_copy(tmp_path)), "--out", str(out), "--html"],
        )
        .exit_code
    )
    batch = CliRunner().invoke(
        main, ["batch", str(SAMPLES / "agentchat"), "--out", str(tmp_path / "b"), "--html"]
    )
    assert code == 0 and batch.exit_code == 0
    pages = [*sorted(out.glob("*.html")), tmp_path / "b" / "index.html"]
    assert len(pages) == 3
    for page in pages:
        shot = tmp_path / f"{page.stem}.png"
        flags = [
            "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync",
            f"--user-data-dir={tmp_path / 'profile'}", "--hide-scrollbars",
            "--window-size=1280,2000", "--enable-logging=stderr", "--v=0",
        ]  # fmt: skip
        proc = subprocess.run(
            [browser, *flags, f"--screenshot={shot}", page.as_uri()],
            capture_output=True, text=True, timeout=120,
        )  # fmt: skip
        console = [ln for ln in proc.stderr.splitlines() if "CONSOLE" in ln or "Refused" in ln]
        assert console == [], console
        png = shot.read_bytes()
        assert png[:8] == b"\x89PNG\r\n\x1a\n"
        assert _drawn_share(shot) > 0.02, f"{page.name} looks blank"
        dom = subprocess.run(
            [browser, *flags, "--dump-dom", page.as_uri()],
            capture_output=True,
            text=True,
            timeout=120,
        ).stdout
        assert "<script" not in dom
        if page.name != "index.html":
            assert dom.count("<svg") >= 3 and ("Blocking tool" in dom or "Loop" in dom)
        else:
            assert "Batch post-mortem" in dom and "runs/" in dom
