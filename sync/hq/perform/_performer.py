"""A performer: takes in the request records HQ stored, then claims, performs and records
them one at a time (claiming one at a time means a crash leaves at most one request
``uncertain``). The network is a function passed in (``_send.send`` in production), the
clock too: the rules it follows are ``_rules``."""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field

from edge.clock import format_utc

from ..storage.request_queue import Claim, RequestQueue
from ._rules import (
    ABANDONED,
    WAITING,
    Contact,
    Failure,
    HttpCall,
    Outcome,
    PerformPolicy,
    Refusal,
    Reply,
    lease_cutoff,
    outcome,
    plan,
    waiting_cutoff,
    waits,
)

log = logging.getLogger("edgecall.hq.perform")

Sender = Callable[[HttpCall, float], Reply | Failure]


@dataclass
class PassReport:
    taken_in: int = 0
    abandoned: list[str] = field(default_factory=list)
    woken: list[str] = field(default_factory=list)  # waiting requests queued again
    outcomes: dict[str, str] = field(default_factory=dict)  # request id -> state

    def count(self, state: str) -> int:
        return sum(1 for s in self.outcomes.values() if s == state)


def default_owner() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


class Performer:
    def __init__(self, queue: RequestQueue, policy: PerformPolicy, send: Sender,
                 wall: Callable[[], float] = time.time, owner: str | None = None) -> None:
        self.queue = queue
        self.policy = policy
        self.send = send
        self.wall = wall
        self.owner = owner or default_owner()

    def _now(self) -> tuple[float, str]:
        now = self.wall()
        return now, format_utc(now)

    def run_once(self, limit: int | None = None, stop: threading.Event | None = None
                 ) -> PassReport:
        """Take in new records, mark abandoned claims, then perform until the queue is empty
        (or ``limit`` requests were performed, or ``stop`` is set: the request in hand is
        finished first)."""
        report = PassReport()
        now, now_utc = self._now()
        report.taken_in = self.queue.take_in(now_utc)
        report.abandoned = self.queue.abandon_expired(
            lease_cutoff(now, self.policy.lease_s), ABANDONED, now_utc)
        report.woken = self.queue.wake(format_utc(waiting_cutoff(now, self.policy)))
        for request_id in report.abandoned:
            log.warning("request %s: uncertain (its performer stopped mid-way)", request_id)
        while (limit is None or len(report.outcomes) < limit) and not (stop and stop.is_set()):
            now, now_utc = self._now()
            claim = self.queue.claim(uuid.uuid4().hex, self.owner, now, now_utc)
            if claim is None:
                break
            result = self.perform(claim)
            report.outcomes[claim.request_id] = result.state
        return report

    def perform(self, claim: Claim) -> Outcome:
        """Perform one claimed request and record what came of it."""
        body = claim.body
        contact = None
        if body.get("widget") == "send-message" and isinstance(body.get("call"), str):
            contact = Contact(*self.queue.caller(claim.box, body["call"]))
        call = plan(body, contact, self.policy)
        cutoff_utc = format_utc(waiting_cutoff(self.wall(), self.policy))
        if isinstance(call, Refusal) and claim.queued_utc and waits(
                call, claim.queued_utc, cutoff_utc):
            self.queue.wait(claim, call.reason)
            log.info("request %s widget=%s waits for the caller's number", claim.request_id,
                     body.get("widget"))
            return Outcome(WAITING, error=call.reason)
        result: Reply | Failure | Refusal = (
            call if isinstance(call, Refusal) else self.send(call, self.policy.timeout_s))
        done = outcome(result)
        _, now_utc = self._now()
        if not self.queue.finish(claim, done.state, done.status_code, done.excerpt, done.error,
                                 now_utc):
            log.warning("request %s: released by an operator while performed; outcome %s "
                        "not recorded", claim.request_id, done.state)
        log.info("request %s widget=%s result=%s%s", claim.request_id, body.get("widget"),
                 done.state, f" status={done.status_code}" if done.status_code else "")
        return done

    def run_forever(self, stop: threading.Event, poll_s: float) -> None:
        while not stop.is_set():
            try:
                self.run_once(stop=stop)
            except Exception:  # a database hiccup: log it and try again on the next round
                log.exception("performing queued requests failed; trying again")
            stop.wait(poll_s)
