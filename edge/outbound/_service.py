"""The dispatcher inside ``edgecall serve``: an APScheduler job on the box's scheduler that asks
the policy which queued calls to place, commits each attempt, dials on a line that can, runs
the survey on the answered call and records the outcome.

The truth about what is due lives in SQLite (``outbound``): the job only looks. A kill -9 or
power cut loses nothing; at start, attempts left without an outcome are recorded ``failed``
and retried per policy, never redialled under the same attempt. The scheduler's own misfire
rule is "run once, late": its job is coalesced and has no grace limit, and the policy expires
jobs older than ``expire_after_h``.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from edge.clock import format_utc
from edge.lines import Call, Dialer, DialResult, Line
from edge.logthrottle import LogThrottle
from edge.privacy import Pseudonymiser
from edge.store import Attempt, Store, StoreUnavailable
from edge.survey import Survey, load_survey

from ._numbers import BadNumber, to_e164
from ._policy import Job, OutboundPolicy, day_start, decide, retry_at

log = logging.getLogger("edgecall.outbound")
_throttled = LogThrottle(log, interval_s=600.0)

JOB_ID = "outbound-dispatch"


def _epoch(utc: str) -> float:
    return datetime.fromisoformat(utc.replace("Z", "+00:00")).timestamp()


class OutboundService:
    """Places queued calls. ``server`` is the box's CallServer (slots, running the survey);
    ``now`` gives UTC epoch seconds (injected in tests and the surge bench)."""

    def __init__(self, store: Store, server: Any, lines: Sequence[Line],
                 pseudonymiser: Pseudonymiser, policy: OutboundPolicy, *,
                 current_survey: Callable[[], Survey], kinds: set[str],
                 country_code: str = "", interval_s: float = 30.0,
                 now: Callable[[], float] = time.time, time_scale: float = 1.0) -> None:
        self.store = store
        self.server = server
        self.dialers = [line for line in lines if isinstance(line, Dialer)]
        self.pseudonymiser = pseudonymiser
        self.policy = policy
        self.current_survey = current_survey
        self.kinds = kinds  # callback kinds to queue: missed, busy, cut (requested: always)
        self.country_code = country_code
        self.interval_s = interval_s
        self.now = now
        # Policy seconds per real second: 1 on a box; the surge bench runs policy time faster.
        self.time_scale = time_scale
        self._lock = threading.Lock()
        self._active: dict[str, int] = {}  # line name -> placed calls up
        self._threads: set[threading.Thread] = set()
        self._surveys: dict[str, Survey] = {}
        self._stopping = threading.Event()
        # Set by a wake; a tick that sees it set when it ends looks again at once. The
        # scheduler skips a run that falls due while the job runs (max_instances=1), so
        # without this a call ending during a tick would leave its line idle until the next
        # check_interval_s.
        self._look_again = threading.Event()
        self._scheduler: Any = None
        self.attempts_started = 0

    # -- life cycle ------------------------------------------------------------------------
    def recover(self) -> None:
        """Attempts an earlier stop left open are recorded as failed; on a store that cannot
        take writes (a full disk at start) the Box asks again once it can."""
        try:
            recovered = self.store.outbound.recover_interrupted(
                lambda n: self._retry_utc("failed", n))
        except StoreUnavailable as exc:
            log.warning("attempts left open by an earlier stop are recorded once the store "
                        "takes writes (%s)", exc)
            return
        if recovered:
            log.warning("%d attempts left open by an earlier stop were recorded as failed",
                        recovered)

    def start(self, scheduler: Any) -> OutboundService:
        self.recover()
        if not self.dialers:
            log.warning("[outbound] is on but no line can place calls")
        self._scheduler = scheduler
        scheduler.add_job(self.tick, "interval", seconds=self.interval_s, id=JOB_ID,
                          max_instances=1, coalesce=True, misfire_grace_time=None,
                          next_run_time=datetime.now(UTC))
        return self

    def stop(self) -> None:
        self._stopping.set()
        for thread in list(self._threads):
            thread.join(timeout=60)

    def wake(self, at: float | None = None) -> None:
        """Look again now (a callback was queued, a call ended) or at ``at`` (epoch s)."""
        if self._scheduler is None or self._stopping.is_set():
            return
        if at is None:
            self._look_again.set()
        delay = 0.0 if at is None else max(0.0, at - self.now()) / self.time_scale
        when = datetime.now(UTC) + timedelta(seconds=delay)
        try:
            job = self._scheduler.get_job(JOB_ID)
            if job is not None and (job.next_run_time is None or when < job.next_run_time):
                job.modify(next_run_time=when)
        except Exception:  # the scheduler is shutting down
            log.debug("dispatcher not woken", exc_info=True)

    # -- queueing (from the call server) ---------------------------------------------------
    def queue_callback(self, kind: str, call: Call, call_id: str | None) -> str | None:
        if kind not in self.kinds or not call.caller.number:
            return None
        try:
            number = to_e164(call.caller.number, self.country_code)
        except BadNumber as exc:
            log.warning("call %s: caller id cannot be called back (%s)", call_id,
                        type(exc).__name__)
            return None
        caller = self.pseudonymiser.pseudonym(number)
        job = self.store.outbound.enqueue(kind, number, caller, source_call=call_id,
                                          dedup_window_s=self.policy.dedup_window_s)
        if job is not None:
            log.info("callback %s queued (%s, call %s)", job, kind, call_id)
            self.wake()
        return job

    # -- the job ---------------------------------------------------------------------------
    def tick(self) -> None:
        while not self._stopping.is_set():
            self._look_again.clear()
            try:
                self._tick()
            except StoreUnavailable as exc:  # a full disk: one line, the next check tries
                _throttled.warning("store", "outbound queue not worked: %s", exc)
                return
            if not self._look_again.is_set():
                return

    def _tick(self) -> None:
        now = self.now()
        rows = self.store.outbound.waiting(format_utc(now))
        jobs = [Job(r["id"], r["kind"], _epoch(r["created_utc"]), _epoch(r["due_utc"]),
                    r["attempts"]) for r in rows]
        with self._lock:
            outbound_active = sum(self._active.values())
        decision = decide(
            now, jobs, self.policy, free_lines=self.server.free_slots(),
            outbound_active=outbound_active,
            minutes_today=self.store.reads.placed_call_seconds_since(
                format_utc(day_start(now, self.policy))) / 60)
        if decision.expire:
            log.info("%d queued calls expired unplaced", len(decision.expire))
            self.store.outbound.expire(decision.expire)
        for job_id in decision.dial:
            if not self._place(job_id, decision.keep_free):
                break
        if decision.next_check is not None:
            self.wake(decision.next_check)

    def _place(self, job_id: str, keep_free: int) -> bool:
        line = self._free_dialer()
        if line is None:
            return False
        slot = self.server.claim_slot(keep_free)
        if slot is None:
            return False
        try:
            attempt = self.store.outbound.begin_attempt(job_id, line.name)
        except StoreUnavailable:
            self.server.release_slot(slot)  # else the slot is lost for good
            raise
        if attempt is None:
            self.server.release_slot(slot)
            return True
        with self._lock:
            self._active[line.name] = self._active.get(line.name, 0) + 1
            self.attempts_started += 1
        thread = threading.Thread(target=self._run, args=(line, attempt, slot), daemon=True,
                                  name=f"dial-{line.name}")
        self._threads.add(thread)
        thread.start()
        return True

    def _free_dialer(self) -> Line | None:
        with self._lock:
            for line in self.dialers:
                capacity = getattr(line, "outbound_capacity", 1)
                # A line may say it cannot dial now (a modem in a caller's call, or one
                # still ringing in): the attempt would only fail and wait for its retry.
                ready = getattr(line, "ready_to_dial", None)
                if self._active.get(line.name, 0) < capacity and (ready is None or ready()):
                    return line
        return None

    def _run(self, line: Any, attempt: Attempt, slot: object) -> None:
        call_id = None
        outcome = "failed"
        try:
            try:
                result: DialResult = line.dial(attempt.number, self.policy.ring_timeout_s)
            except Exception:
                log.exception("dialling attempt %s on %s failed", attempt.id, line.name)
                result = DialResult("failed", detail="line error")
            outcome = result.outcome
            log.info("attempt %s on %s: %s", attempt.id, line.name, outcome)
            if result.call is not None:
                call_id, _disposition = self.server.run_placed_call(
                    result.call, self._survey(attempt.survey), attempt.id)
        finally:
            self.server.release_slot(slot)
            with self._lock:
                self._active[line.name] -= 1
            retry = None if outcome == "answered" else self._retry_utc(outcome, attempt.n)
            self.store.outbound.finish_attempt(attempt.id, outcome, call_id=call_id,
                                               retry_utc=retry)
            self._threads.discard(threading.current_thread())
            self.wake()

    def _retry_utc(self, outcome: str, attempts: int) -> str | None:
        at = retry_at(outcome, attempts, self.now(), self.policy)
        return None if at is None else format_utc(at)

    def _survey(self, survey: str | None) -> Survey:
        if not survey:
            return self.current_survey()
        if survey not in self._surveys:
            self._surveys[survey] = load_survey(Path(survey))
        return self._surveys[survey]

