"""A whole box assembled from its config: clock, store, survey source, lines, the call server,
the plug-in services, the link watch and the scheduler that runs every timed job.

``edgecall serve``, the demo and ``doctor`` all build one of these; the CLI only adds what
belongs to a process (signals, systemd notifications, logging).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

from apscheduler.schedulers.background import BackgroundScheduler

from edge.clock import Clock, ClockCorrection, format_utc
from edge.config import Config
from edge.lines import Line, LineContext
from edge.linkwatch import LinkWatch
from edge.outbound import OutboundService, policy_from_settings
from edge.plugins import Service, ServiceContext, line_kinds, service_starters
from edge.privacy import Pseudonymiser
from edge.store import CHECKPOINT_INTERVAL_S, DB_NAME, Store, StoreUnavailable
from edge.survey import SurveyError, resolve_survey_path

from ._recording import KEEP_FREE_BYTES
from ._server import CallServer, data_dir_problem
from ._surveys import SurveySource, survey_recordings

log = logging.getLogger("edgecall")


# Ended outbound jobs are kept this long (once every sink has them) before the purge.
RETENTION_DAYS = 30
# While the store cannot take writes (a full disk at start): how often it tries again.
STORE_RECOVER_S = 30


class BoxError(Exception):
    """The config describes a box that cannot be built (no line enabled, an unusable data
    directory or survey). One sentence saying what to fix."""


def open_store(config: Config, clock: Clock | None = None, create: bool = True, *,
               read_only: bool = False, degraded_ok: bool = False) -> Store:
    """The box's store; ``create=False`` for commands that work on what serve wrote;
    ``read_only`` for those that only read (nothing created, migrated or written: works on a
    full disk); ``degraded_ok`` (serve): a database that cannot take writes (a full disk) is
    opened read-only until it can (edge.store.Store.recover)."""
    data_dir = config.data_dir
    if (not create or read_only) and not (data_dir / DB_NAME).is_file():
        raise BoxError(f"no database in {data_dir}: has 'edgecall serve' run with this config?")
    if read_only:
        try:
            store = Store.open_read_only(data_dir, clock=clock, box_id=config.box_id)
        except StoreUnavailable as exc:
            raise BoxError(f"cannot read the database: {exc}") from exc
        if not store.outdated():
            return store
        store.close()  # written by an older version: upgraded (written) like serve would
    problem = data_dir_problem(data_dir)
    if problem:
        raise BoxError(problem + " (fix the path in [box] data_dir or the permissions)")
    try:
        return Store.open(data_dir, clock=clock, box_id=config.box_id,
                          busy_timeout_s=config.sections["server"]["store_busy_timeout_s"],
                          degraded_ok=degraded_ok)
    except StoreUnavailable as exc:
        raise BoxError(f"cannot open the database: {exc}") from exc


def build_lines(config: Config, clock: Clock,
                on_sms: Callable[[str, str], None] | None = None,
                recordings: Callable[[], list[tuple[str, str, Path]]] | None = None
                ) -> list[Line]:
    """Every enabled line of the config, from the installed line kinds. ``recordings``
    lists the current survey's recordings (lines that keep prompts on their hardware upload
    them ahead of calls: ``extras["recordings"]``)."""
    extras: dict[str, object] = {"config_dir": config.base_dir, "box_id": config.box_id,
                                 "secrets": dict(config.secrets)}
    if recordings is not None:
        extras["recordings"] = recordings
    context = LineContext(
        data_dir=config.data_dir,
        on_network_time=clock.note_network_time,
        on_sms=on_sms or (lambda _sender, _text: None),
        extras=extras,
    )
    lines: list[Line] = []
    for name, kind in sorted(line_kinds().items()):
        settings = config.section(name)
        if settings is None or not settings.get("enabled", True):
            continue
        try:
            lines.append(kind.create(settings, context))
        except (OSError, ValueError) as exc:
            raise BoxError(f"[{name}] line cannot be set up: {exc}") from exc
    if not lines:
        raise BoxError("no line is enabled: configure [sip], [modem] or [simulated] "
                       "(see docs/configuration.md)")
    return lines


def survey_source(config: Config) -> SurveySource:
    path = resolve_survey_path(config.sections["survey"]["file"], config.base_dir)
    try:
        return SurveySource(path, config.data_dir)
    except SurveyError as exc:
        raise BoxError(str(exc)) from exc


class Box:
    """Built from a config; ``start()`` answers calls and runs the services, ``stop()`` lets
    calls finish for the configured grace period.

    ``lines`` replaces the config's lines (the demo puts simulated callers there);
    ``timer_scale`` shrinks silence timeouts for accelerated callers (demo only);
    ``services`` false leaves out the plug-in services and the link watch (doctor, demo).
    ``time_scale``: how many seconds of the clock's time pass per real second (1 on a box;
    benchmarks give a simulated clock that runs faster, and schedules follow it).
    """

    def __init__(self, config: Config, *, clock: Clock | None = None,
                 lines: Sequence[Line] | None = None, timer_scale: float = 1.0,
                 on_call_end: Callable[[str | None, str], None] | None = None,
                 services: bool = True, time_scale: float = 1.0) -> None:
        self.config = config
        self.clock = clock or Clock()
        # A full disk does not stop the box: the store opens read-only and callers hear the
        # busy message until it can take writes again.
        self.store = open_store(config, self.clock, degraded_ok=True)
        self.clock.on_correction = self._record_correction
        try:
            self.surveys = survey_source(config)
            self.pseudonymiser = Pseudonymiser(bytes.fromhex(config.secrets["pseudonym_key"]))
            self.lines = list(lines) if lines is not None else build_lines(
                config, self.clock, self._on_sms,
                recordings=lambda: survey_recordings(self.surveys.current()))
        except BaseException:
            self.store.close()
            raise
        settings = config.sections["server"]
        self.server = CallServer(
            self.store, self.surveys, self.lines, self.pseudonymiser,
            max_concurrent_calls=settings["max_concurrent_calls"],
            min_free_mb=settings["min_free_mb"], when_busy=settings["when_busy"],
            recordings_max_mb=settings["recordings_max_mb"],
            timer_scale=timer_scale, on_call_end=on_call_end,
        )
        # Every timed job of the box (sync, the outbound dispatcher, what services add).
        self.scheduler = BackgroundScheduler(timezone=UTC)
        self._with_services = services
        self.services: list[Service] = []
        self.time_scale = time_scale
        self.outbound = self._outbound(on_call_end)

    # -- life cycle ------------------------------------------------------------------------
    def _outbound(self, on_call_end: Callable[[str | None, str], None] | None
                  ) -> OutboundService | None:
        """The dispatcher, when ``[outbound] enabled``: callers turned away, missed or cut are
        queued by the server and called back; a call ending wakes the dispatcher."""
        settings = self.config.section("outbound")
        if not settings or not settings["enabled"]:
            return None
        kinds = {kind for kind, key in (("missed", "call_back_missed"),
                                        ("busy", "call_back_busy"), ("cut", "call_back_cut"))
                 if settings[key]}
        service = OutboundService(
            self.store, self.server, self.lines, self.pseudonymiser,
            policy_from_settings(settings), current_survey=self.surveys.current, kinds=kinds,
            country_code=settings["country_code"],
            interval_s=settings["check_interval_s"] / self.time_scale,
            now=self.clock.epoch, time_scale=self.time_scale)
        self.server.on_callback = service.queue_callback
        self.server.call_back_lines = {line.name for line in self.lines
                                       if getattr(line, "on_ring", "answer") == "callback"}

        def call_ended(call_id: str | None, disposition: str) -> None:
            if on_call_end is not None:
                on_call_end(call_id, disposition)
            service.wake()

        self.server.on_call_end = call_ended
        return service

    def start(self) -> Box:
        self.server.start()
        self.scheduler.start()
        # A clock step is noticed within a minute even while no call stamps anything.
        self.scheduler.add_job(self.clock.now, "interval", seconds=60, id="clock-check",
                               coalesce=True, misfire_grace_time=None)
        self.scheduler.add_job(self.purge, "interval", hours=24, id="retention-purge",
                               coalesce=True, misfire_grace_time=None,
                               next_run_time=datetime.now(UTC) + timedelta(minutes=5))
        # The WAL back into the database and its file emptied (edge.store._wal).
        self.scheduler.add_job(self.checkpoint, "interval", seconds=CHECKPOINT_INTERVAL_S,
                               id="wal-checkpoint", coalesce=True, misfire_grace_time=None)
        self.store.on_recovered.append(self._store_recovered)
        if self.store.degraded is not None:
            self.scheduler.add_job(self._try_store, "interval", seconds=STORE_RECOVER_S,
                                   id="store-recover", coalesce=True, misfire_grace_time=None)
        if self.outbound is not None:
            self.outbound.start(self.scheduler)
        if self._with_services:
            context = ServiceContext(self.config, self.store, self.clock, notify=self.notify,
                                     lines=tuple(self.lines), scheduler=self.scheduler)
            for name, start in service_starters():
                try:
                    self.services.append(start(context))
                except Exception:
                    log.exception("service %s did not start", name)
            self.services.append(LinkWatch(lambda: self.notify("link-up")).start())
        return self

    def healthy(self) -> bool:
        """For the systemd watchdog (see edge.server.CallServer.healthy)."""
        return self.server.healthy()

    def stop(self, grace_s: float | None = None) -> bool:
        """Stop taking calls, let calls in progress finish (``[server] shutdown_grace_s`` by
        default), stop the services and release the lines and the store. Returns True when
        every call ended within the grace period."""
        if grace_s is None:
            grace_s = self.config.sections["server"]["shutdown_grace_s"]
        # The server stops first: from then on no slot can be claimed for a new dial, and
        # placed calls get the same grace period as the others.
        clean = self.server.stop(grace_s)
        if self.outbound is not None:
            self.outbound.stop()
        for service in self.services:
            try:
                service.stop()
            except Exception:
                log.exception("service did not stop cleanly")
        if self.scheduler.running:
            self.scheduler.shutdown(wait=True)
        for line in self.lines:
            close = getattr(line, "close", None)
            if close is not None:
                close()
        self.store.close()
        return clean

    def purge(self) -> int:
        """The retention purge: ended outbound jobs older than ``RETENTION_DAYS`` and outbox
        records older than ``[server] outbox_keep_days``, each only once every sink has
        acknowledged it; then the WAL is emptied so the space is the database's again.
        Returns how many rows went."""
        now = time.time()
        keep_days = self.config.sections["server"]["outbox_keep_days"]
        try:
            jobs = self.store.outbound.purge(format_utc(now - RETENTION_DAYS * 86_400))
            records = self.store.purge_outbox(format_utc(now - keep_days * 86_400))
        except StoreUnavailable as exc:
            log.warning("retention purge skipped: %s", exc)
            return 0
        if jobs or records:
            log.info("retention purge: %d ended outbound jobs and %d acknowledged outbox "
                     "records removed", jobs, records)
        self.make_room_for_recordings()
        self.checkpoint()
        return jobs + records

    def make_room_for_recordings(self) -> None:
        """Recordings back under ``[server] recordings_max_mb`` and the disk's floor, by
        removing the box's WAVs of recordings HQ holds (edge.store._recording_room)."""
        cap = self.config.sections["server"]["recordings_max_mb"] * 1024 * 1024
        try:
            room = self.store.recordings.make_room(0, cap, KEEP_FREE_BYTES)
        except (OSError, StoreUnavailable) as exc:
            log.warning("room for recordings not made: %s", exc)
            return
        if room.problem:
            log.warning("recordings: %s; new recordings are refused until HQ holds older "
                        "ones", room.problem)

    def checkpoint(self) -> None:
        """The box's "wal-checkpoint" job (edge.store._wal); trouble is one line."""
        try:
            busy, _frames, _done = self.store.checkpoint()
        except StoreUnavailable as exc:
            log.warning("WAL checkpoint skipped: %s", exc)
            return
        if busy:
            log.debug("WAL checkpoint incomplete (readers); next time")

    def _try_store(self) -> None:
        """While the store cannot take writes: try again (the "store-recover" job)."""
        if self.store.recover():
            try:
                self.scheduler.remove_job("store-recover")
            except Exception:  # already gone (stopping)
                log.debug("store-recover job already removed", exc_info=True)

    def _store_recovered(self) -> None:
        """The store takes writes again: do what start-up could not (under its lock, so no
        call begins first)."""
        self.server.close_interrupted()
        if self.outbound is not None:
            self.outbound.recover()

    def _record_correction(self, correction: ClockCorrection) -> None:
        try:
            self.store.record_clock_correction(correction)
        except StoreUnavailable as exc:
            log.warning("a clock correction could not be stored: %s", exc)

    # -- between parts ---------------------------------------------------------------------
    def notify(self, topic: str) -> None:
        """A service or the link watch has news (e.g. "link-up"): tell every service."""
        for service in self.services:
            handler = getattr(service, "notify", None)
            if handler is not None:
                try:
                    handler(topic)
                except Exception:
                    log.exception("service did not take %s", topic)

    def _on_sms(self, sender: str, text: str) -> None:
        try:
            self.store.record_message(self.pseudonymiser.pseudonym(sender), text)
        except StoreUnavailable as exc:
            log.error("an SMS could not be stored: %s", exc)
        else:
            log.info("SMS received and stored")

    def describe(self) -> str:
        return (f"survey {self.surveys.current().id}, lines "
                + ", ".join(line.name for line in self.lines))
