"""The fleet page in a real browser: headless Chromium at a phone's size, after a box's real
heartbeat, read back from the DOM (and kept as a screenshot in test-artifacts/)."""

from __future__ import annotations

import struct
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import quote

from sync.hq import DevServer, HqSettings, make_app
from tests.support import SimClock
from tests.support._chromium import run_chromium

from .test_fleet import _beat

PASSWORD = "fleet password ⛺ 7"
PHONE = (412, 915)  # CSS pixels of a common Android phone
ARTIFACTS = Path(__file__).resolve().parents[3] / "test-artifacts"


class FleetPage(HTMLParser):
    """Per box (``data-box``), the text of its ``data-figure`` elements."""

    def __init__(self) -> None:
        super().__init__()
        self.boxes: dict[str, dict[str, list[str]]] = {}
        self.figures: dict[str, str] = {}
        self._box: str | None = None
        self._open: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if a.get("data-box"):
            self._box = a["data-box"]
            self.boxes.setdefault(self._box or "", {})
        if a.get("data-figure"):
            self._open = a["data-figure"]
            if self._box is None:
                self.figures[self._open or ""] = ""
            else:
                self.boxes[self._box].setdefault(self._open or "", []).append("")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("span", "b", "p", "div"):
            self._open = None

    def handle_data(self, data: str) -> None:
        if self._open is None:
            return
        if self._box is None:
            self.figures[self._open] += data
        else:
            self.boxes[self._box][self._open][-1] += data


def _png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", f"{path} is not a PNG"
    return struct.unpack(">II", data[16:24])


def test_chromium_shows_each_box_and_its_alerts(storage, store, tmp_path):
    storage.add_box("box-2", "box-2-secret-for-tests", "2000-01-01T00:00:00.000Z")
    server = DevServer(make_app(storage, HqSettings(fleet_password=PASSWORD))).start()
    try:
        assert _beat(store, SimClock(), server.url).send()  # box-1 is heard; box-2 never
        url = f"http://hq:{quote(PASSWORD, safe='')}@{server.url.split('://', 1)[1]}/fleet"
        dom = run_chromium(tmp_path, f"--window-size={PHONE[0]},{PHONE[1]}", "--dump-dom", url)
        page = FleetPage()
        page.feed(dom)
        assert page.figures["boxes"].strip() == "2 boxes"
        assert set(page.boxes) == {"box-1", "box-2"}
        assert page.boxes["box-1"]["backlog"] == ["0"]
        assert "never heard from" in [a.strip() for a in page.boxes["box-2"]["alert"]]
        assert "never heard from" not in [a.strip() for a in
                                          page.boxes["box-1"].get("alert", [])]
        ARTIFACTS.mkdir(exist_ok=True)
        shot = ARTIFACTS / "fleet-page-phone.png"
        run_chromium(tmp_path, f"--window-size={PHONE[0]},{PHONE[1]}",
                     f"--screenshot={shot}", url)
        assert _png_size(shot) == PHONE
        wrong = run_chromium(tmp_path, "--dump-dom",
                             f"http://hq:wrong@{server.url.split('://', 1)[1]}/fleet")
        assert 'data-box="' not in wrong  # the browser is turned away without the password
    finally:
        server.stop()
