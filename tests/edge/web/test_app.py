"""The page over real HTTP on 127.0.0.1: password required, figures match the database."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from edge.web import StatusServer, Throttle, gather, make_app

PASSWORD = "correct horse 🐎 battery"
NUMBER = "+255712345678"


@pytest.fixture
def served(filled: Any) -> Iterator[str]:
    app = make_app(lambda: gather(filled.store, filled.clock, filled.lines, "t"),
                   PASSWORD, 30, Throttle(limit=3, window_s=60.0))
    server = StatusServer(app, "127.0.0.1", 0).start()
    try:
        yield f"http://127.0.0.1:{server.port}"
    finally:
        server.stop()


def _basic(user: str, password: str) -> dict[str, str]:
    token = base64.b64encode(f"{user}:{password}".encode()).decode()
    return {"Authorization": f"Basic {token}"}


@pytest.mark.parametrize("path", ["/", "/status.json"])
def test_no_password_no_page(served: str, path: str) -> None:
    answer = requests.get(served + path, timeout=10)
    assert answer.status_code == 401
    assert answer.headers["WWW-Authenticate"].startswith("Basic realm=")
    assert "calls-today" not in answer.text and "backlog" not in answer.text


@pytest.mark.parametrize("path", ["/", "/status.json"])
def test_wrong_password_no_page(served: str, path: str) -> None:
    answer = requests.get(served + path, headers=_basic("tech", "correct horse"), timeout=10)
    assert answer.status_code == 401
    assert "backlog" not in answer.text


def test_page_with_the_password(served: str, filled: Any, count: Any) -> None:
    answer = requests.get(served + "/", headers=_basic("anyone", PASSWORD), timeout=10)
    assert answer.status_code == 200
    assert answer.headers["Content-Type"].startswith("text/html")
    assert answer.headers["Cache-Control"] == "no-store"
    want = count(filled.db_path)
    assert f'data-figure="calls-today">{want["calls_today"]}<' in answer.text
    assert f'data-figure="backlog">{want["backlog"]}<' in answer.text
    assert NUMBER not in answer.text and NUMBER[1:] not in answer.text


def test_json_matches_the_database(served: str, filled: Any, count: Any) -> None:
    answer = requests.get(served + "/status.json", headers=_basic("", PASSWORD), timeout=10)
    assert answer.status_code == 200 and answer.headers["Content-Type"] == "application/json"
    data = answer.json()
    want = count(filled.db_path)
    assert data["today"]["calls"] == want["calls_today"]
    assert data["week"]["calls"] == want["calls_week"]
    assert data["today"]["dispositions"] == want["today"]
    assert data["week"]["dispositions"] == want["week"]
    assert data["backlog"] == want["backlog"]
    assert {s["survey"]: s["week"]["calls"] for s in data["surveys"]} == want["survey_week"]
    assert {line["name"]: line["signal_dbm"] for line in data["lines"]} == \
        {"sim": None, "gsm0": -101}
    assert NUMBER not in answer.text and NUMBER[1:] not in answer.text


def test_new_calls_show_on_the_next_load(served: str, filled: Any) -> None:
    def today() -> int:
        return requests.get(served + "/status.json", headers=_basic("", PASSWORD),
                            timeout=10).json()["today"]["calls"]

    before = today()
    call_id = filled.store.begin_call("gsm0", None, True, "demo", "1")
    filled.store.end_call(call_id, "refused")
    assert today() == before + 1


def test_guessing_is_braked(served: str) -> None:
    for _ in range(3):
        assert requests.get(served + "/", headers=_basic("", "guess"),
                            timeout=10).status_code == 401
    blocked = requests.get(served + "/", headers=_basic("", PASSWORD), timeout=10)
    assert blocked.status_code == 429  # even the right password waits now
    assert int(blocked.headers["Retry-After"]) > 0


def test_unreadable_store_gives_503_and_one_log_line(caplog: pytest.LogCaptureFixture) -> None:
    def broken() -> Any:
        raise RuntimeError("database disk image is malformed")

    server = StatusServer(make_app(broken, PASSWORD, 30), "127.0.0.1", 0).start()
    try:
        answer = requests.get(f"http://127.0.0.1:{server.port}/", headers=_basic("", PASSWORD),
                              timeout=10)
    finally:
        server.stop()
    assert answer.status_code == 503
    assert "Traceback" not in answer.text and "malformed" not in answer.text
    assert any("malformed" in r.getMessage() and "\n" not in r.getMessage()
               for r in caplog.records)


def test_an_empty_password_is_refused() -> None:
    with pytest.raises(ValueError):
        make_app(lambda: None, "", 30)  # type: ignore[arg-type, return-value]
