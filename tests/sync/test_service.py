"""The scheduler service: immediate run on link-up, backoff while offline, clean stop."""

from __future__ import annotations

import time
from datetime import UTC, datetime

from edge.clock import format_utc
from edge.config import load_config
from edge.plugins import ServiceContext, all_sections
from sync import service as sync_service

from .helpers import assert_exactly_once
from .test_cli import write_config


def _wait_for(predicate, timeout=15.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return False


def test_link_up_triggers_an_immediate_drain(filled, hq, tmp_path):
    store, _ = filled
    config = load_config(write_config(tmp_path, hq.url, "[sync]\ninterval_s = 600\n"),
                         all_sections())
    service = sync_service.start(ServiceContext(config, store, store.clock))
    try:
        assert service.runs == 0
        service.notify("link-up")
        assert _wait_for(lambda: hq.storage.count() == 480)
        assert_exactly_once(store, hq.storage)
    finally:
        service.stop()
    assert not service.scheduler.running


def test_in_a_box_sync_runs_on_the_box_scheduler(filled, hq, tmp_path):
    from datetime import UTC

    from apscheduler.schedulers.background import BackgroundScheduler

    store, _ = filled
    config = load_config(write_config(tmp_path, hq.url, "[sync]\ninterval_s = 600\n"),
                         all_sections())
    box_scheduler = BackgroundScheduler(timezone=UTC)
    box_scheduler.start()
    try:
        service = sync_service.start(ServiceContext(config, store, store.clock,
                                                    scheduler=box_scheduler))
        assert service.scheduler is box_scheduler
        assert box_scheduler.get_job("sync") is not None
        service.notify("link-up")
        assert _wait_for(lambda: hq.storage.count() == 480)
        service.stop()
        assert box_scheduler.get_job("sync") is None and box_scheduler.running
    finally:
        box_scheduler.shutdown()


def test_offline_backs_off_with_growing_jittered_delays(filled, tmp_path):
    store, _ = filled
    write_config(tmp_path, "http://127.0.0.1:9", '[sync]\ninterval_s = 60\n'
                 'max_backoff_s = 400\n')
    config = load_config(tmp_path / "edgecall.toml", all_sections())
    service = sync_service.start(ServiceContext(config, store, store.clock))
    service.scheduler.pause()  # its own runs would race the ones below
    service.rand = lambda: 1.0  # the jitter source, injected: upper end of each range
    service.in_run_wait_s = 0  # no retries inside a run: each run is one failed attempt
    try:
        delays = []
        for _ in range(4):
            service.run_once()  # runs on this thread; the scheduler only reschedules
            delays.append((service.job.next_run_time - datetime.now(UTC)).total_seconds())
        assert [round(d, -1) for d in delays] == [60, 120, 240, 400]
        service.notify("link-up")
        assert service.failures == 0
        assert (service.job.next_run_time - datetime.now(UTC)).total_seconds() < 1
    finally:
        service.stop()


def test_no_sink_configured_is_idle(store, tmp_path):
    config_path = tmp_path / "edgecall.toml"
    config_path.write_text('[box]\nid = "box-1"\ndata_dir = "box"\n')
    (tmp_path / "secrets.toml").write_text(f'pseudonym_key = "{"ab" * 32}"\n')
    config = load_config(config_path, all_sections())
    service = sync_service.start(ServiceContext(config, store, store.clock))
    service.stop()
    assert not hasattr(service, "scheduler")


def _park_first_batch(ledger, hours_ago: float) -> str:
    batch = ledger.seal_next()
    ledger.park(batch, "park: HTTP 400: a proxy refused it")
    ledger.conn.execute("UPDATE sync_batches SET done_utc = ? WHERE batch_id = ?",
                        [format_utc(time.time() - hours_ago * 3600), batch.batch_id])
    return batch.batch_id


def test_serve_retries_parked_batches_on_its_schedule(filled, hq, tmp_path):
    store, _ = filled
    config = load_config(write_config(tmp_path, hq.url, "[sync]\ninterval_s = 600\n"
                                      "retry_parked_s = 21600\n"), all_sections())
    service = sync_service.start(ServiceContext(config, store, store.clock))
    service.scheduler.pause()
    try:
        ledger = service.channels[0].ledger
        recent = _park_first_batch(ledger, hours_ago=1)
        service.run_once()
        assert ledger.parked() == 1 and store.reads.backlog() > 0  # parked 1 h ago: not yet
        store.db.execute("UPDATE sync_batches SET done_utc = ? WHERE batch_id = ?",
                         [format_utc(time.time() - 7 * 3600), recent])
        service.run_once()  # parked 7 h ago: back in line, sent, acknowledged
        assert ledger.parked() == 0 and store.reads.backlog() == 0
        assert_exactly_once(store, hq.storage)
    finally:
        service.stop()


def test_ledgers_wait_for_a_database_that_cannot_be_written_at_start(filled, hq, tmp_path,
                                                                     monkeypatch, caplog):
    import sqlite3

    store, _ = filled
    config = load_config(write_config(tmp_path, hq.url, "[sync]\ninterval_s = 600\n"),
                         all_sections())
    real = sync_service.open_channels
    attempts = []

    def full_then_fine(*args):
        attempts.append(1)
        if len(attempts) <= 2:  # at start and at the first run
            raise sqlite3.OperationalError("database or disk is full")
        return real(*args)

    monkeypatch.setattr(sync_service, "open_channels", full_then_fine)
    service = sync_service.start(ServiceContext(config, store, store.clock))  # no exception
    service.scheduler.pause()
    try:
        assert service.channels == []
        with caplog.at_level("INFO"):
            service.run_once()
        (line,) = [r for r in caplog.records if r.name.startswith("sync")]
        assert not line.exc_info and "the database cannot be written" in line.getMessage()
        service.run_once()
        assert len(service.channels) == 1 and hq.storage.count() == 480
        assert_exactly_once(store, hq.storage)
    finally:
        service.stop()
