"""Box health: the box's signed heartbeat, the fleet page (login, phone layout, alerts) and
'edgecall hq boxes'."""

from __future__ import annotations

from datetime import UTC, datetime
from types import SimpleNamespace

import requests
from apscheduler.schedulers.background import BackgroundScheduler

from edge.cli import main
from sync._heartbeat import Heartbeat, document, schedule
from sync.hq import Alerts, DevServer, HqSettings, make_app
from sync.hq._fleet import fleet, health
from sync.hq.storage import BoxInfo

from ..conftest import SECRET

PASSWORD = "fleet-password-for-tests"


def _beat(store, sim, url, secret=SECRET):
    return Heartbeat(url + "/v1/batches", "box-1", secret,
                     lambda: document(store, sim.clock(), [], "box-1", store.path.parent))


def test_heartbeat_reaches_hq_even_with_nothing_to_send(store, hq, tmp_path):
    from tests.support import SimClock

    sim = SimClock()
    assert _beat(store, sim, hq.url).send()
    (info,) = hq.storage.boxes()
    beat = info.heartbeat
    assert beat["backlog"] == 0 and beat["box"] == "box-1" and beat["clock"] == "ntp"
    assert beat["disk_free_mb"] > 0 and beat["errors_1h"] == 0 and beat["version"]
    assert info.last_seen_utc is not None
    assert not _beat(store, sim, hq.url, secret=b"not-the-box-key-at-all").send()


def test_heartbeat_reports_backlog_and_last_call(filled, hq):
    store, sim = filled
    assert _beat(store, sim, hq.url).send()
    beat = hq.storage.boxes()[0].heartbeat
    assert beat["backlog"] == 480 and beat["last_call_utc"].startswith("20")


def test_the_sync_service_schedules_the_heartbeat(store, tmp_path):
    scheduler = BackgroundScheduler(timezone=UTC)
    config = SimpleNamespace(
        section=lambda name: {"url": "http://127.0.0.1:9/v1/batches", "verify_tls": True,
                              "ca_file": "", "connect_timeout_s": 1.0,
                              "read_timeout_s": 1.0} if name == "hq" else None,
        secrets={"hq_secret": SECRET.decode()}, box_id="box-1", data_dir=tmp_path,
        resolve=lambda p: p)
    context = SimpleNamespace(config=config, scheduler=scheduler, store=store, clock=None,
                              lines=())
    assert schedule(context, 300.0) is not None
    job = scheduler.get_job("heartbeat")
    assert job is not None and job.trigger.interval.total_seconds() == 300.0


def test_alerts():
    now = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
    alerts = Alerts(silent_h=6, disk_low_mb=500, backlog_records=1000)
    quiet = BoxInfo("a", "x", "2026-11-27T01:00:00.000Z", {
        "clock": "unsynchronised", "disk_free_mb": 120, "backlog": 5000,
        "lines": [{"name": "gsm-1", "state": "down"}]}, "2026-11-27T01:00:00.000Z", False)
    words = health(quiet, now, alerts).alerts
    assert words == ["silent for 11 h", "clock unsynchronised", "disk low (120 MB free)",
                     "line gsm-1 down", "backlog 5000 records"]
    fine = BoxInfo("b", "x", "2026-11-27T11:55:00.000Z", {"clock": "ntp", "disk_free_mb": 9000,
                                                           "backlog": 3, "lines": []},
                   "2026-11-27T11:55:00.000Z", False)
    assert health(fine, now, alerts).alerts == []
    never = BoxInfo("c", "x", None, None, None, False)
    assert health(never, now, alerts).alerts == ["never heard from"]
    assert [h.box for h in fleet([fine, quiet, never], now, alerts)] == ["a", "c", "b"]


def test_fleet_page_needs_the_password_and_shows_each_box(storage, store):
    from tests.support import SimClock

    storage.add_box("box-2", "box-2-secret-for-tests", "2000-01-01T00:00:00.000Z")
    settings = HqSettings(fleet_password=PASSWORD)
    server = DevServer(make_app(storage, settings)).start()
    try:
        assert _beat(store, SimClock(), server.url).send()
        assert requests.get(server.url + "/fleet", timeout=10).status_code == 401
        wrong = requests.get(server.url + "/fleet", auth=("hq", "nope"), timeout=10)
        assert wrong.status_code == 401
        page = requests.get(server.url + "/fleet", auth=("anyone", PASSWORD), timeout=10)
        assert page.status_code == 200
        assert 'name="viewport"' in page.text  # laid out for a phone
        assert 'data-box="box-1"' in page.text and 'data-box="box-2"' in page.text
        assert "never heard from" in page.text
        doc = requests.get(server.url + "/fleet.json", auth=("x", PASSWORD), timeout=10).json()
        assert {d["box"] for d in doc} == {"box-1", "box-2"}
        assert next(d for d in doc if d["box"] == "box-1")["backlog"] == 0
    finally:
        server.stop()


def test_fleet_page_is_off_without_a_password(hq):
    assert requests.get(hq.url + "/fleet", timeout=10).status_code == 404


def test_hq_boxes_command(filled, hq, capsys):
    store, sim = filled
    assert _beat(store, sim, hq.url).send()
    hq.storage.add_box("box-9", "box-9-secret-for-tests", "2000-01-01T00:00:00.000Z")
    assert main(["hq", "boxes", "--db", hq.storage.url]) == 3  # box-9: never heard from
    out = capsys.readouterr().out
    assert "box-9" in out and "never heard from" in out and "box-1" in out
    assert "480" in out and "2 boxes, 1 with alerts" in out


def test_docs_list_every_key_of_hq_toml():
    from pathlib import Path

    from edge.config.docs import generated
    from sync.hq._config import SECTIONS

    text = (Path(__file__).parents[3] / "docs" / "hq.md").read_text(encoding="utf-8")
    assert generated(list(SECTIONS)) in text, "docs/hq.md key tables are stale (see there)"


def test_hq_init_writes_a_config_that_loads(tmp_path, capsys):
    from sync.hq._config import load

    assert main(["hq", "init", str(tmp_path), "--database", "postgresql:///edgecall_hq"]) == 0
    config = load(tmp_path / "hq.toml")
    assert config.database == "postgresql:///edgecall_hq" and config.hq["fleet_password"]
    assert (tmp_path / "hq.toml").stat().st_mode & 0o007 == 0
    assert main(["hq", "init", str(tmp_path)]) == 2  # exists already
