"""Drive one sink: seal, send, classify, record; wait between retries. The decisions are in
_batching; this loop only performs them."""

from __future__ import annotations

import logging
import random
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Protocol

from ._batching import ACK, AUTH, CONFLICT, PARK, Backoff, Outcome
from ._ledger import Batch, Ledger

log = logging.getLogger(__name__)


class Sink(Protocol):
    name: str

    def send(self, batch: Batch) -> Outcome: ...


@dataclass
class DrainReport:
    sink: str
    acked_batches: int = 0
    acked_records: int = 0
    parked: list[str] = field(default_factory=list)
    attempts: int = 0
    failures: int = 0
    last_error: str = ""
    done: bool = False  # nothing left to send (parked batches aside)
    retry_in_s: float | None = None  # when stopped by a transient failure: suggested wait
    last_outcome: Outcome = field(default_factory=lambda: Outcome(ACK))


def drain(
    ledger: Ledger,
    sink: Sink,
    *,
    wait: Callable[[float], bool],
    max_wait_s: float,
    backoff: Backoff | None = None,
    rand: Callable[[], float] = random.random,
    progress: Callable[[DrainReport, Batch], None] | None = None,
    seal_ahead: bool = True,
    window: int | None = None,
) -> DrainReport:
    """Send until the outbox is drained, a transient failure needs a longer wait than the
    ``max_wait_s`` left, credentials are refused, or ``wait`` returns True (stop asked).

    With ``seal_ahead`` the next batch is sealed on a second thread while this one is on the
    wire, so that encoding (seconds on a Pi) overlaps the link's transfer time.

    ``window`` (default: the sink's ``window`` attribute, else 1) batches may be on the wire
    at once: the next batch uploads while HQ stores the previous one and its answer crosses
    the link (a round trip and a commit per batch, ~1 s on GPRS). Acknowledgements still move
    the cursor only over contiguous batches; receivers deduplicate, so exactly-once holds."""
    window = max(1, window if window is not None else getattr(sink, "window", 1))
    if window > 1:
        with ThreadPoolExecutor(window, thread_name_prefix=f"send-{sink.name}") as senders:
            return _drain_pipelined(ledger, sink, wait, max_wait_s, backoff or Backoff(), rand,
                                    progress, senders, window)
    with ThreadPoolExecutor(1, thread_name_prefix=f"seal-{sink.name}") as pool:
        return _drain(ledger, sink, wait, max_wait_s, backoff or Backoff(), rand, progress,
                      pool if seal_ahead else None)


def _drain(ledger: Ledger, sink: Sink, wait: Callable[[float], bool], max_wait_s: float,
           backoff: Backoff, rand: Callable[[], float],
           progress: Callable[[DrainReport, Batch], None] | None,
           pool: ThreadPoolExecutor | None) -> DrainReport:
    report = DrainReport(sink.name)
    waited = 0.0
    failures = 0
    after = 0
    ahead: Future[Batch | None] | None = None
    try:
        while True:
            if ahead is not None:
                ahead.result()  # the batch sealed ahead (or its error)
                ahead = None
            batch = ledger.next_sealed(after) or ledger.seal_next()
            if batch is None:
                report.done = True
                return report
            if pool is not None and ledger.next_sealed(batch.seq) is None:
                ahead = pool.submit(ledger.seal_next)
            if _send(ledger, sink, batch, report, progress):
                failures = 0
                after = 0
                continue
            if report.parked and report.parked[-1] == batch.batch_id:
                after = batch.seq
                continue
            failures += 1
            slept = _wait_to_retry(sink, batch, report.last_outcome, report, backoff, failures,
                                   rand, max_wait_s - waited, wait)
            if slept is None:
                return report
            waited += slept
    finally:
        if ahead is not None:
            ahead.result()


def _drain_pipelined(ledger: Ledger, sink: Sink, wait: Callable[[float], bool],
                     max_wait_s: float, backoff: Backoff, rand: Callable[[], float],
                     progress: Callable[[DrainReport, Batch], None] | None,
                     senders: ThreadPoolExecutor, window: int) -> DrainReport:
    report = DrainReport(sink.name)
    waited = 0.0
    failures = 0
    last = 0  # batch seq of the last one put on the wire in this round
    inflight: deque[tuple[Batch, Future[Outcome]]] = deque()
    try:
        while True:
            while len(inflight) < window:  # sealing here overlaps the uploads in flight
                batch = ledger.next_sealed(last) or ledger.seal_next()
                if batch is None:
                    break
                ledger.note_attempt(batch)
                report.attempts += 1
                inflight.append((batch, senders.submit(sink.send, batch)))
                last = batch.seq
            if not inflight:
                report.done = True
                return report
            batch, future = inflight.popleft()
            outcome = future.result()
            if _record(ledger, sink, batch, outcome, report, progress):
                failures = 0
                continue
            if outcome.kind in (PARK, CONFLICT):
                continue
            # A transient failure: let the others in flight finish, then wait and start
            # again from the oldest batch not acknowledged.
            while inflight:
                other, pending = inflight.popleft()
                _record(ledger, sink, other, pending.result(), report, progress)
            report.last_outcome = outcome
            report.last_error = outcome.reason
            last = 0
            failures += 1
            slept = _wait_to_retry(sink, batch, outcome, report, backoff, failures, rand,
                                   max_wait_s - waited, wait)
            if slept is None:
                return report
            waited += slept
    finally:
        for _batch, pending in inflight:
            pending.result()


def _wait_to_retry(sink: Sink, batch: Batch, outcome: Outcome, report: DrainReport,
                   backoff: Backoff, failures: int, rand: Callable[[], float], budget_s: float,
                   wait: Callable[[float], bool]) -> float | None:
    """After a failed attempt: the seconds waited before the retry, or None to stop now
    (credentials refused, the backoff would exceed what is left of ``max_wait_s``, or a stop
    was asked during the wait); ``report.retry_in_s`` then says when to come back."""
    if outcome.kind == AUTH:  # credentials refused: retrying now will not help
        report.retry_in_s = backoff.cap_s
        return None
    delay = backoff.delay(failures, rand, outcome.retry_after_s)
    if delay > budget_s:
        report.retry_in_s = delay
        return None
    log.info("%s: %s; retrying batch %s in %.1f s", sink.name, outcome.reason, batch.batch_id,
             delay)
    return None if wait(delay) else delay


def _send(ledger: Ledger, sink: Sink, batch: Batch, report: DrainReport,
          progress: Callable[[DrainReport, Batch], None] | None) -> bool:
    """One attempt; True when acknowledged. Records the outcome in the ledger and report."""
    ledger.note_attempt(batch)
    report.attempts += 1
    return _record(ledger, sink, batch, sink.send(batch), report, progress)


def _record(ledger: Ledger, sink: Sink, batch: Batch, outcome: Outcome, report: DrainReport,
            progress: Callable[[DrainReport, Batch], None] | None) -> bool:
    """Book an attempt's outcome in the ledger and report; True when acknowledged."""
    report.last_outcome = outcome
    if outcome.kind == ACK:
        ledger.acknowledge(batch, "" if outcome.reason == "stored" else outcome.reason)
        report.acked_batches += 1
        report.acked_records += batch.records
        if progress:
            progress(report, batch)
        return True
    if outcome.kind in (PARK, CONFLICT):
        reason = f"{outcome.kind}: {outcome.reason}"
        log.warning("%s: batch %s parked (%s)", sink.name, batch.batch_id, reason)
        ledger.park(batch, reason)
        report.parked.append(batch.batch_id)
        return False
    report.failures += 1
    report.last_error = outcome.reason
    ledger.note_failure(outcome.reason)
    if outcome.kind == AUTH:
        log.error("%s: refused credentials (%s); stopping", sink.name, outcome.reason)
    return False
