"""The sync service beside ``edgecall serve``: a job on the box's APScheduler (one scheduler
runs every timed job of the box) that drains every sink every ``interval_s``, backs off while
offline, and runs at once when told a link came up."""

from __future__ import annotations

import logging
import random
import sqlite3
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from apscheduler.schedulers.background import BackgroundScheduler

from edge.clock import format_utc
from edge.plugins import ServiceContext
from edge.store import StoreUnavailable, as_unavailable

from . import _heartbeat
from ._audio_sync import drain_then_upload, say_twilio_skips
from ._batching import Backoff
from ._runner import drain
from ._setup import Channel, build_sinks, configured_sinks, open_channels, sync_settings
from .pull import PullError

log = logging.getLogger(__name__)

LINK_UP = "link-up"


class _Idle:
    def stop(self) -> None:
        pass

    def notify(self, topic: str) -> None:
        pass


class SyncService:
    """``notify("link-up")`` triggers an attempt now; ``stop()`` ends the job and any wait.

    ``channels`` may be a function that opens them: it is called again at each run until it
    succeeds (the database could not be written at start: a full disk)."""

    def __init__(self, channels: list[Channel] | Callable[[], list[Channel]], interval_s: float,
                 max_backoff_s: float, rand: Callable[[], float] = random.random,
                 pull: Callable[[], Any] | None = None, in_run_wait_s: float = 30.0,
                 scheduler: Any = None, retry_parked_s: float = 0.0,
                 wall: Callable[[], float] = time.time, data_dir: Path | None = None) -> None:
        self._open = channels if callable(channels) else None
        self.channels: list[Channel] = [] if callable(channels) else channels
        # A parked batch goes back in line once parked this long (0: never on its own).
        self.retry_parked_s = retry_parked_s
        self.wall = wall
        self.data_dir = data_dir or Path(".")  # where the database is: names a full disk
        self.interval_s = interval_s
        self.backoff = Backoff(base_s=interval_s, cap_s=max_backoff_s)
        self.rand = rand
        self.pull = pull
        self.in_run_wait_s = in_run_wait_s
        self.failures = 0
        self.runs = 0
        self._stop = threading.Event()
        # The box's scheduler when there is one (serve); a scheduler of its own otherwise.
        self._owns_scheduler = scheduler is None
        self.scheduler = scheduler if scheduler is not None else BackgroundScheduler(
            timezone=UTC)
        # One run at a time; a trigger during a run is coalesced into the next one.
        self.job = self.scheduler.add_job(
            self.run_once, "interval", seconds=interval_s, id="sync", max_instances=1,
            coalesce=True, next_run_time=datetime.now(UTC) + timedelta(seconds=5),
            misfire_grace_time=None)

    def start(self) -> SyncService:
        if self._open is not None:
            self.open_channels()  # now if it can; else at each run until it can
        if self._owns_scheduler:
            self.scheduler.start()
        return self

    def open_channels(self) -> str | None:
        """Open the ledgers if not yet done; the reason in words when they cannot be."""
        if self._open is None or self.channels:
            return None
        try:
            self.channels = self._open()
        except (StoreUnavailable, sqlite3.Error) as exc:
            return f"the database cannot be written: {as_unavailable(exc, self.data_dir)}"
        return None

    def run_once(self) -> None:
        self.runs += 1
        trouble: list[str] = []  # one entry per sink that did not finish, in words
        disk = False  # disk or database trouble: a warning, not news of a flaky link
        waiting = self.open_channels()
        if waiting:
            trouble.append(f"sync: {waiting}")
            disk = True
        for channel in self.channels:
            if self._stop.is_set():
                return
            name = channel.sink.name
            try:
                self._unpark_due(channel)
                # Short in-run retries (Retry-After, a blip); longer waits become the
                # scheduler's next run so that stop() is never held up.
                report, uploads = drain_then_upload(
                    lambda ch=channel: drain(ch.ledger, ch.sink, wait=self._stop.wait,
                                             max_wait_s=self.in_run_wait_s, rand=self.rand),
                    channel.audio, self._stop.is_set)
                if channel.audio is None:
                    say_twilio_skips(channel.ledger)
            except (StoreUnavailable, sqlite3.Error) as exc:  # a full disk: expected, in words
                trouble.append(f"{name}: {as_unavailable(exc, self.data_dir)}")
                disk = True
                continue
            except Exception:  # a bug: the traceback is wanted
                log.exception("sync to %s failed", name)
                trouble.append(f"{name}: failed")
                continue
            if not report.done:
                trouble.append(f"{name}: {report.last_error or 'stopped'}")
            elif uploads is not None and uploads.stopped in ("failed", "auth"):
                # Recordings only: records are through, the next run tries again.
                log.info("%s: recordings: %s", name, uploads.reason)
            elif uploads is not None and uploads.reason:
                log.info("%s: recordings wait: %s", name, uploads.reason)
        if self.pull is not None and not trouble:
            try:
                self.pull()
            except (PullError, OSError) as exc:
                log.warning("survey pull: %s", exc)
            except Exception:
                log.exception("survey pull failed")
        if not trouble:
            self.failures = 0
            return
        self.failures += 1
        delay = self.backoff.delay(self.failures, self.rand)
        log.log(logging.WARNING if disk else logging.INFO, "%s; retrying in %.0f s",
                "; ".join(trouble), delay)
        self._reschedule(delay)

    def _unpark_due(self, channel: Channel) -> None:
        """The scheduled retry of parked batches (docs/sync.md, "Parked batches")."""
        if not self.retry_parked_s:
            return
        due = channel.ledger.unpark(format_utc(self.wall() - self.retry_parked_s))
        if due:
            log.info("%s: %d parked batches back in line (parked over %.0f s ago)",
                     channel.sink.name, due, self.retry_parked_s)

    def _reschedule(self, delay_s: float) -> None:
        if self._stop.is_set():
            return
        try:
            self.job.modify(next_run_time=datetime.now(UTC) + timedelta(seconds=delay_s))
        except Exception:  # the job is gone: the service is stopping
            log.debug("sync job not rescheduled", exc_info=True)

    def notify(self, topic: str) -> None:
        if topic == LINK_UP:
            log.info("link up: syncing now")
            self.failures = 0
            self._reschedule(0)

    def stop(self) -> None:
        self._stop.set()
        if self._owns_scheduler:
            self.scheduler.shutdown(wait=True)
            return
        try:
            self.job.remove()
        except Exception:  # already gone with the scheduler
            log.debug("sync job already removed", exc_info=True)


def start(context: ServiceContext) -> SyncService | _Idle:
    config = context.config
    if not configured_sinks(config):
        return _Idle()
    settings = sync_settings(config)
    sinks = build_sinks(config)  # a config problem (a missing secret) shows at start
    db_path = context.store.path
    pull = None
    hq = config.section("hq")
    if hq is not None and hq["pull_surveys"]:
        from .pull import puller_for

        pull = puller_for(config)
    service = SyncService(lambda: open_channels(config, db_path, sinks),
                          settings["interval_s"], settings["max_backoff_s"], pull=pull,
                          scheduler=context.scheduler, retry_parked_s=settings["retry_parked_s"],
                          data_dir=db_path.parent)
    _heartbeat.schedule(context, settings["interval_s"])  # box health to HQ, every run
    return service.start()
