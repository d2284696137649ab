"""Recordings to HQ after the records: one sink's run of uploads, performing the decisions of
``sync._audio_plan`` (records first, the oldest recording, chunks within the day's budget)
with the link copies of ``sync._audio_codec`` and the HTTP of ``sync._audio_http``.

A recording is uploaded only once its ``audio`` record is acknowledged by the sink (HQ knows
what to expect and refuses anything else), and is done only when HQ's signed answer names
its SHA-256. A cut upload continues from what HQ holds (asked after a failure or a
restart), so the link never carries a byte twice unless HQ lost it."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from edge.store import Recordings
from edge.words import size

from . import _audio_http as answers
from ._audio_codec import EncodeFailed, EncoderMissing, LinkCopy, ensure_link_copy
from ._audio_http import AudioAnswer, HqAudio
from ._audio_ledger import AudioLedger
from ._audio_plan import BUDGET, DONE, RECORDS, DayBudget, Pending, Send, next_step
from ._ledger import Ledger
from ._runner import DrainReport

log = logging.getLogger(__name__)

RESTARTS_PER_RUN = 2  # HQ's copy failed its SHA-256 this often in a run: try next run
SAME, NEXT, STOP = "same", "next", "stop"  # after an answer: this recording, the next, none


@dataclass
class AudioReport:
    confirmed: int = 0
    chunks: int = 0
    bytes_sent: int = 0
    stopped: str = ""  # "" | records | budget | done | waiting | failed | auth | stop
    reason: str = ""  # in words, when it stopped for anything but done
    parked: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # HQ has no record of them yet
    retry_after_s: float | None = None

    @property
    def done(self) -> bool:
        return self.stopped == DONE


def utc_day(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%d")


class AudioUploader:
    """One sink's recording uploads. ``per_day``: the sink's bytes a UTC day; ``chunk``: the
    largest request body (the sink's batch_max_bytes: a dropped chunk costs no more than a
    dropped batch)."""

    def __init__(self, ledger: Ledger, transport: HqAudio, per_day: int, chunk: int,
                 wall: Callable[[], float] = time.time) -> None:
        self.ledger = ledger
        self.book = AudioLedger(ledger)
        self.transport = transport
        self.per_day = per_day
        self.chunk = chunk
        self.wall = wall
        self.recordings = Recordings(ledger.data_dir, ledger.store)
        # What HQ holds of each recording, as far as this process knows: None (or absent)
        # means "ask HQ first" (after a failure or a restart).
        self._held: dict[str, int | None] = {}

    def run(self, stop: Callable[[], bool] = lambda: False) -> AudioReport:
        """Upload until every recording is at HQ, records wait (they go first: the caller
        drains them and calls again), the day's budget is spent, or a failure."""
        report = AudioReport()
        if self.per_day <= 0:
            report.stopped = BUDGET
            report.reason = "recordings are off ([sync] audio_bytes_per_day = 0)"
            return report
        for row in self.book.to_send():
            reference = row["reference"]
            copy = self._copy(reference, report)
            if copy is None:
                if report.stopped:
                    return report
                continue
            if not self._upload(reference, copy, report, stop):
                return report
        report.stopped = "waiting" if report.skipped else DONE
        return report

    def _upload(self, reference: str, copy: LinkCopy, report: AudioReport,
                stop: Callable[[], bool]) -> bool:
        """Chunks of one recording until HQ holds it whole (True: go on with the next
        recording, also when this one is parked or HQ cannot take it yet) or the run stops
        (False, ``report.stopped`` says why)."""
        restarts = 0
        while True:
            if stop():
                report.stopped = "stop"
                return False
            held = self._held.get(reference)
            if held is None:
                verdict = self._book(reference, copy, self.transport.held(reference, copy),
                                     report)
                if verdict != SAME:
                    return verdict == NEXT
                held = self._held.get(reference) or 0
            day = utc_day(self.wall())
            budget = DayBudget(self.per_day, day, self.book.spent(day))
            step = next_step(self.ledger.records_waiting(),
                             [Pending(reference, copy.size, held)], budget, self.chunk)
            if not isinstance(step, Send):
                report.stopped = step.why
                if step.why == BUDGET:
                    report.reason = (f"the day's budget ({size(self.per_day)}) is spent on "
                                     "recordings; the rest goes tomorrow (UTC)")
                return False
            answer = self._send(reference, copy, step, day, report)
            if answer.kind == answers.RESTART:
                restarts += 1
                if restarts > RESTARTS_PER_RUN:
                    report.stopped, report.reason = "failed", answer.reason
                    return False
            verdict = self._book(reference, copy, answer, report)
            if verdict != SAME:
                return verdict == NEXT

    def _copy(self, reference: str, report: AudioReport) -> LinkCopy | None:
        """The recording's link copy, the same bytes as the first time it was sent; None
        when it cannot be had (report.stopped set when every upload must wait)."""
        try:
            copy = ensure_link_copy(self.recordings.path_of(reference))
        except EncoderMissing as exc:
            report.stopped, report.reason = "waiting", str(exc)
            return None
        except (EncodeFailed, FileNotFoundError, ValueError) as exc:
            self._park(reference, f"no link copy: {exc}", report)
            return None
        known = self.book.known(reference)
        if known is None:
            self.book.remember(reference, copy)
            self._held.setdefault(reference, 0)  # never sent: HQ holds nothing of it
        elif (known.size, known.sha256, known.format) != (copy.size, copy.sha256, copy.format):
            # Never other bytes under a reference already (partly) sent.
            self._park(reference, "its link copy changed since it was first sent", report)
            return None
        return copy

    def _send(self, reference: str, copy: LinkCopy, step: Send, day: str,
              report: AudioReport) -> AudioAnswer:
        with open(copy.path, "rb") as source:
            source.seek(step.offset)
            data = source.read(step.length)
        self.book.spend(day, step.cost)  # before the request: a cut one was still paid for
        self.book.attempt(reference)
        report.chunks += 1
        report.bytes_sent += len(data)
        return self.transport.send(reference, copy, step.offset, data)

    def _book(self, reference: str, copy: LinkCopy, answer: AudioAnswer,
              report: AudioReport) -> str:
        """Take in HQ's answer: SAME (go on with this recording), NEXT (it is done, parked,
        or HQ cannot take it yet: the next one) or STOP (this run's uploads end here)."""
        kind = answer.kind
        if kind == answers.STORED:
            self.book.confirmed(reference)
            self._held.pop(reference, None)
            report.confirmed += 1
            log.info("%s: recording %s at HQ (%d bytes)", self.ledger.sink, reference,
                     copy.size)
            return NEXT
        if kind in (answers.MORE, answers.RESTART):
            self._held[reference] = answer.received
            return SAME
        self._held[reference] = None  # what HQ holds is unknown now: ask before sending
        if kind == answers.CONFLICT:
            self._park(reference, answer.reason, report)
            return NEXT
        report.reason = answer.reason
        if kind == answers.UNKNOWN:  # HQ lacks its record (for now): the others may go
            report.skipped.append(reference)
            return NEXT
        report.stopped = {answers.WAIT: "waiting", answers.AUTH: "auth"}.get(kind, "failed")
        report.retry_after_s = answer.retry_after_s
        return STOP

    def _park(self, reference: str, reason: str, report: AudioReport) -> None:
        log.warning("%s: recording %s parked (%s)", self.ledger.sink, reference, reason)
        self.book.park(reference, reason)
        report.parked.append(reference)


ROUNDS = 20  # records arrived while recordings went up: drain them, go on (bounded)


def drain_then_upload(drain_records: Callable[[], DrainReport], audio: AudioUploader | None,
                      stop: Callable[[], bool] = lambda: False
                      ) -> tuple[DrainReport, AudioReport | None]:
    """A sink's sync run: records first; once they are all acknowledged, recordings, until
    records wait again (then records, then recordings again) or the recordings stop."""
    report = drain_records()
    uploads = None
    for _ in range(ROUNDS):
        if not report.done or audio is None or stop():
            break
        uploads = audio.run(stop)
        if uploads.stopped != RECORDS:
            break
        report = drain_records()
    return report, uploads


_twilio_said = False


def say_twilio_skips(ledger: Ledger) -> None:
    """Once per process, when the box has recordings: the Twilio sink carries their records
    only (docs/sync.md, "Recordings")."""
    global _twilio_said
    if _twilio_said or not ledger.store.audio_references():
        return
    _twilio_said = True
    log.info("%s: recordings are sent to HQ only (Twilio Sync has no place for audio "
             "bytes); their records go to Twilio as usual", ledger.sink)
