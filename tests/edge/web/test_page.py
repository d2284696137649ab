"""The HTML: self-contained, escaped, phone-ready, the numbers in marked places."""

from __future__ import annotations

import re
from typing import Any

from edge.web import gather
from edge.web._page import percent, render, signal_text

NUMBER = "+255712345678"


def figure(html: str, name: str) -> str:
    match = re.search(rf'data-figure="{re.escape(name)}"[^>]*>([^<]*)<', html)
    assert match, f"no {name} on the page"
    return match.group(1).strip()


def test_numbers_in_their_places(filled: Any, count: Any) -> None:
    html = render(gather(filled.store, filled.clock, filled.lines, "t"), 30)
    want = count(filled.db_path)
    assert figure(html, "calls-today") == str(want["calls_today"])
    assert figure(html, "calls-week") == str(want["calls_week"])
    assert figure(html, "backlog") == str(want["backlog"])
    for name, n in want["today"].items():
        assert figure(html, f"today-{name}") == str(n)
    for name, n in want["week"].items():
        assert figure(html, f"week-{name}") == str(n)


def test_self_contained_phone_page_that_reloads(filled: Any) -> None:
    html = render(gather(filled.store, filled.clock, filled.lines, "t"), 17)
    assert '<meta http-equiv="refresh" content="17">' in html
    assert 'name="viewport" content="width=device-width' in html
    # Offline box: nothing fetched from elsewhere, no script needed.
    assert not re.search(r'(src|href)="(https?:)?//', html)
    assert "<script" not in html
    assert NUMBER not in html and NUMBER[1:] not in html


def test_text_from_lines_and_surveys_is_escaped(filled: Any) -> None:
    class Evil:
        name = "<b>x</b>"

        def status(self) -> Any:
            from edge.lines import LineStatus

            return LineStatus("<img src=x onerror=alert(1)>", "modem", "ready",
                              "<script>alert(2)</script>")

    html = render(gather(filled.store, filled.clock, (Evil(),), "<i>box</i>"), 30)
    assert "<img src=x" not in html and "<script>alert" not in html and "<i>box" not in html
    assert "&lt;img src=x" in html


def test_formatting_helpers() -> None:
    assert percent(None) == "–"
    assert percent(2 / 3) == "67%"
    assert signal_text(-73, "good") == "-73 dBm (good)"
    assert signal_text(None, None) == ""
    assert signal_text(None, "no signal") == "(no signal)"
