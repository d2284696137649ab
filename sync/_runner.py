"""Drive one sink: seal, send, classify, record; wait between retries. The decisions are in
_batching; this loop only performs them."""

from __future__ import annotations

import logging
import random
from collections.abc import Callable
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


def drain(
    ledger: Ledger,
    sink: Sink,
    *,
    wait: Callable[[float], bool],
    max_wait_s: float,
    backoff: Backoff | None = None,
    rand: Callable[[], float] = random.random,
    progress: Callable[[DrainReport, Batch], None] | None = None,
) -> DrainReport:
    """Send until the outbox is drained, a transient failure needs a longer wait than the
    ``max_wait_s`` left, credentials are refused, or ``wait`` returns True (stop asked)."""
    backoff = backoff or Backoff()
    report = DrainReport(sink.name)
    waited = 0.0
    failures = 0
    after = 0
    while True:
        batch = ledger.next_sealed(after) or ledger.seal_next()
        if batch is None:
            report.done = True
            return report
        ledger.note_attempt(batch)
        report.attempts += 1
        outcome = sink.send(batch)
        if outcome.kind == ACK:
            ledger.acknowledge(batch, "" if outcome.reason == "stored" else outcome.reason)
            report.acked_batches += 1
            report.acked_records += batch.records
            failures = 0
            after = 0
            if progress:
                progress(report, batch)
            continue
        if outcome.kind in (PARK, CONFLICT):
            reason = f"{outcome.kind}: {outcome.reason}"
            log.warning("%s: batch %s parked (%s)", sink.name, batch.batch_id, reason)
            ledger.park(batch, reason)
            report.parked.append(batch.batch_id)
            after = batch.seq
            continue
        failures += 1
        report.failures += 1
        report.last_error = outcome.reason
        ledger.note_failure(outcome.reason)
        if outcome.kind == AUTH:
            log.error("%s: refused credentials (%s); stopping", sink.name, outcome.reason)
            report.retry_in_s = backoff.cap_s
            return report
        delay = backoff.delay(failures, rand, outcome.retry_after_s)
        if waited + delay > max_wait_s:
            report.retry_in_s = delay
            return report
        log.info("%s: %s; retrying batch %s in %.1f s", sink.name, outcome.reason,
                 batch.batch_id, delay)
        if wait(delay):
            return report
        waited += delay
