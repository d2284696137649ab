"""The page in a real browser: headless Chromium (Debian ``chromium``) at a phone's size.
The numbers it shows are read back from the DOM and checked against the database; the
screenshots stay in test-artifacts/ for a human to look at. Fails when Chromium is missing."""

from __future__ import annotations

import logging
import struct
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest

from edge.plugins import status_providers
from edge.web import StatusServer, gather, make_app
from tests.support._chromium import run_chromium

PASSWORD = "correct horse 🐎 battery"
NUMBER = "+255712345678"
ARTIFACTS = Path(__file__).resolve().parents[3] / "test-artifacts"
PHONE = (412, 915)  # CSS pixels of a common Android phone


class Figures(HTMLParser):
    """Text of every element carrying ``data-figure``, per survey row and line row too."""

    def __init__(self) -> None:
        super().__init__()
        self.figures: dict[str, list[str]] = {}
        self.rows: dict[str, dict[str, str]] = {}
        self._row: str | None = None
        self._open: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "tr" and (a.get("data-survey") or a.get("data-line")):
            self._row = a.get("data-survey") or a.get("data-line")
            self.rows.setdefault(self._row or "", {})
        if a.get("data-figure"):
            self._open = a["data-figure"]
            self.figures.setdefault(self._open or "", []).append("")

    def handle_endtag(self, tag: str) -> None:
        if tag == "tr":
            self._row = None
        if tag in ("span", "div", "td", "p"):
            if self._open and self._row is not None:
                self.rows[self._row][self._open] = self.figures[self._open][-1].strip()
            self._open = None

    def handle_data(self, data: str) -> None:
        if self._open:
            self.figures[self._open][-1] += data

    def one(self, name: str) -> str:
        values = self.figures.get(name)
        assert values and len(values) == 1, f"{name}: {values}"
        return values[0].strip()


@pytest.fixture
def url(filled: Any) -> Iterator[str]:
    providers = status_providers()  # the installed plug-ins' lines (sync), as in service
    app = make_app(lambda: gather(filled.store, filled.clock, filled.lines, "box-1", providers),
                   PASSWORD, 30)
    server = StatusServer(app, "127.0.0.1", 0).start()
    try:
        yield f"127.0.0.1:{server.port}/"
    finally:
        server.stop()


def _percent(part: int, whole: int) -> str:
    return f"{part / whole:.0%}" if whole else "–"


def test_chromium_shows_the_database_figures(url: str, filled: Any, count: Any,
                                             tmp_path: Path) -> None:
    credentials = f"tech:{quote(PASSWORD, safe='')}@"
    dom = run_chromium(tmp_path, f"--window-size={PHONE[0]},{PHONE[1]}", "--dump-dom",
                       f"http://{credentials}{url}")
    page = Figures()
    page.feed(dom)
    want = count(filled.db_path)
    assert page.one("calls-today") == str(want["calls_today"])
    assert page.one("calls-week") == str(want["calls_week"])
    assert page.one("backlog") == str(want["backlog"])
    assert page.one("in-progress") == str(want["in_progress_today"])
    for name, n in want["today"].items():
        assert page.one(f"today-{name}") == str(n), name
    for name, n in want["week"].items():
        assert page.one(f"week-{name}") == str(n), name
    finished_today = sum(n for d, n in want["today"].items() if d != "busy")
    assert page.one("completion-today") == _percent(want["today"].get("complete", 0),
                                                    finished_today)
    for survey, n in want["survey_week"].items():
        assert page.rows[survey]["survey-week"] == str(n)
        assert page.rows[survey]["survey-today"] == str(want["survey_today"].get(survey, 0))
    assert page.rows["gsm0"]["line-signal"] == "-101 dBm (weak)"
    assert page.rows["gsm0"]["line-state"] == "degraded"
    assert page.one("clock-quality") == filled.clock.now().quality
    assert len(page.figures["error"]) >= 3
    assert NUMBER not in dom and NUMBER[1:] not in dom


def test_chromium_without_the_password_sees_no_figures(
        url: str, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)  # an earlier CLI test may have raised the root level
    dom = run_chromium(tmp_path, "--dump-dom", f"http://tech:wrong@{url}")
    assert "data-figure" not in dom and "calls-today" not in dom
    # The browser did ask, and was turned away by the password check.
    assert any("wrong password" in r.getMessage() for r in caplog.records)


def _png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", f"{path} is not a PNG"
    return struct.unpack(">II", data[16:24])


def test_phone_screenshots_are_kept(url: str, tmp_path: Path) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    credentials = f"tech:{quote(PASSWORD, safe='')}@"
    shots = {"status-page-phone.png": PHONE, "status-page-phone-full.png": (PHONE[0], 2600)}
    for name, (width, height) in shots.items():
        target = ARTIFACTS / name
        target.unlink(missing_ok=True)
        run_chromium(tmp_path, f"--window-size={width},{height}", f"--screenshot={target}",
                     f"http://{credentials}{url}")
        assert _png_size(target) == (width, height)
        assert target.stat().st_size > 10_000  # a rendered page, not a blank one
