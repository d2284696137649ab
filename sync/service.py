"""The sync service beside ``edgecall serve``: a job on the box's APScheduler (one scheduler
runs every timed job of the box) that drains every sink every ``interval_s``, backs off while
offline, and runs at once when told a link came up."""

from __future__ import annotations

import logging
import random
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from apscheduler.schedulers.background import BackgroundScheduler

from edge.plugins import ServiceContext

from . import _heartbeat
from ._batching import Backoff
from ._runner import drain
from ._setup import Channel, build_channels, configured_sinks, sync_settings

log = logging.getLogger(__name__)

LINK_UP = "link-up"


class _Idle:
    def stop(self) -> None:
        pass

    def notify(self, topic: str) -> None:
        pass


class SyncService:
    """``notify("link-up")`` triggers an attempt now; ``stop()`` ends the job and any wait."""

    def __init__(self, channels: list[Channel], interval_s: float, max_backoff_s: float,
                 rand: Callable[[], float] = random.random, pull: Callable[[], Any] | None = None,
                 in_run_wait_s: float = 30.0, scheduler: Any = None) -> None:
        self.channels = channels
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
        if self._owns_scheduler:
            self.scheduler.start()
        return self

    def run_once(self) -> None:
        self.runs += 1
        ok = True
        for channel in self.channels:
            if self._stop.is_set():
                return
            try:
                # Short in-run retries (Retry-After, a blip); longer waits become the
                # scheduler's next run so that stop() is never held up.
                report = drain(channel.ledger, channel.sink, wait=self._stop.wait,
                               max_wait_s=self.in_run_wait_s, rand=self.rand)
            except Exception:
                log.exception("sync to %s failed", channel.sink.name)
                ok = False
                continue
            ok = ok and report.done
        if self.pull is not None and ok:
            try:
                self.pull()
            except Exception:
                log.exception("survey pull failed")
        if ok:
            self.failures = 0
            return
        self.failures += 1
        delay = self.backoff.delay(self.failures, self.rand)
        log.info("sync incomplete; next attempt in %.0f s", delay)
        self._reschedule(delay)

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
    channels = build_channels(config, context.store.path)
    pull = None
    hq = config.section("hq")
    if hq is not None and hq["pull_surveys"]:
        from .pull import puller_for

        pull = puller_for(config)
    service = SyncService(channels, settings["interval_s"], settings["max_backoff_s"],
                          pull=pull, scheduler=context.scheduler)
    _heartbeat.schedule(context, settings["interval_s"])  # box health to HQ, every run
    return service.start()
