"""Recordings from a real store to the reference HQ over HTTP on 127.0.0.1, on SQLite and on
PostgreSQL: they go after every record, chunk by chunk, resume where a cut upload stopped,
keep within the day's budget, and end as HQ's file with the SHA-256 of the box's link copy.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path

import pytest

from edge.store import Store
from sync._audio_codec import link_copy_path
from sync._audio_http import HqAudio
from sync._audio_ledger import AudioLedger
from sync._audio_sync import AudioUploader, drain_then_upload, utc_day
from sync._hq import HqSink
from sync._ledger import Ledger
from sync._runner import drain
from sync.hq import DevServer, HqSettings, Storage, make_app
from tests.support import FaultProxy, fill_surveys, open_store, scripted_plan
from tests.support._recorded import add_recordings

from .conftest import SECRET
from .helpers import assert_exactly_once, ledger_for

pytestmark = pytest.mark.usefixtures("opusenc")


class Hq:
    def __init__(self, storage: Storage, audio_dir: Path) -> None:
        self.storage = storage
        self.settings = HqSettings(audio_dir=audio_dir, fleet_password="pw")
        self.server = DevServer(make_app(storage, self.settings)).start()

    @property
    def url(self) -> str:
        return self.server.url


@pytest.fixture
def hq(storage: Storage, tmp_path: Path) -> Iterator[Hq]:
    running = Hq(storage, tmp_path / "hq-audio")
    yield running
    running.server.stop()


@pytest.fixture
def box(tmp_path: Path) -> Iterator[tuple[Store, list[str]]]:
    store, sim = open_store(tmp_path / "box", fast=True)
    fill_surveys(store, sim, 20)
    references = add_recordings(store, 3, seconds=6.0)
    fill_surveys(store, sim, 5)  # answers after the messages too
    yield store, references
    store.close()


class Watched(HqAudio):
    """The real transport, noting what the box had sent when each chunk left."""

    def __init__(self, sink: HqSink, ledger: Ledger, storage: Storage) -> None:
        super().__init__(sink)
        self.ledger, self.storage = ledger, storage
        self.at_chunks: list[tuple[int, int]] = []  # (box backlog, records at HQ)

    def send(self, reference, copy, offset, data):  # type: ignore[no-untyped-def]
        self.at_chunks.append((self.ledger.backlog(), self.storage.count()))
        return super().send(reference, copy, offset, data)


def _run(ledger: Ledger, sink: HqSink, uploader: AudioUploader):  # type: ignore[no-untyped-def]
    return drain_then_upload(lambda: drain(ledger, sink, wait=lambda s: False, max_wait_s=0),
                             uploader)


def _hq_copy(hq: Hq, reference: str) -> bytes:
    held = hq.storage.audio_file(reference)
    assert held is not None, f"HQ does not hold {reference}"
    return (hq.settings.audio_dir / held["path"]).read_bytes()  # type: ignore[operator]


def test_answers_first_then_every_recording_whole(box, hq: Hq) -> None:  # type: ignore[no-untyped-def]
    store, references = box
    ledger = ledger_for(store, max_records=50)  # several batches of records
    sink = HqSink(hq.url + "/v1/batches", store.box_id, SECRET)
    transport = Watched(sink, ledger, hq.storage)
    report, uploads = _run(ledger, sink, AudioUploader(ledger, transport, 10**7, 2048))
    assert report.done and uploads is not None and uploads.done
    assert uploads.confirmed == 3 and uploads.chunks > 3  # chunked: 6 s is ~6 KB of Opus
    # Every chunk left with nothing of the records waiting, all of them at HQ.
    total = len(store.query("SELECT 1 FROM outbox"))
    assert transport.at_chunks and all(c == (0, total) for c in transport.at_chunks)
    assert_exactly_once(store, hq.storage)
    for reference in references:
        copy = link_copy_path(store.recordings.path_of(reference)).read_bytes()
        assert _hq_copy(hq, reference) == copy
        assert hq.storage.audio_file(reference)["sha256"] == hashlib.sha256(copy).hexdigest()
    from sync.status import status_lines

    assert ("sync hq audio", "3 at hq, 0 waiting") in status_lines(store)
    # A second run sends nothing: HQ confirmed each.
    _report, again = _run(ledger, sink, AudioUploader(ledger, HqAudio(sink), 10**7, 2048))
    assert again is not None and again.done and again.chunks == 0
    # What HQ confirmed is held for the store: the box may remove its WAVs to make room.
    assert all(r["held_utc"] for r in store.reads.audio_room())
    room = store.recordings.make_room(0, 1, 0)
    assert [r.reference for r in room.removed if r.wav] == references
    _report, after = _run(ledger, sink, AudioUploader(ledger, HqAudio(sink), 10**7, 2048))
    assert after is not None and after.done and after.chunks == 0 and not after.parked


def test_records_that_arrive_meanwhile_go_before_the_next_chunk(box, hq: Hq) -> None:  # type: ignore[no-untyped-def]
    store, _references = box
    ledger = ledger_for(store)
    sink = HqSink(hq.url + "/v1/batches", store.box_id, SECRET)

    class CallsMeanwhile(Watched):
        def send(self, reference, copy, offset, data):  # type: ignore[no-untyped-def]
            answer = super().send(reference, copy, offset, data)
            if len(self.at_chunks) == 2:  # a call ends while recordings go up
                from tests.support import SimClock

                fill_surveys(store, SimClock(1_800_000_000.0), 2)
            return answer

    transport = CallsMeanwhile(sink, ledger, hq.storage)
    report, uploads = _run(ledger, sink, AudioUploader(ledger, transport, 10**7, 2048))
    assert report.done and uploads is not None and uploads.done
    backlogs = [backlog for backlog, _held in transport.at_chunks]
    assert backlogs and all(b == 0 for b in backlogs)  # the new records went first
    assert_exactly_once(store, hq.storage)


def test_a_cut_upload_resumes_where_hq_stopped(box, hq: Hq) -> None:  # type: ignore[no-untyped-def]
    store, references = box
    ledger = ledger_for(store, max_records=10_000)  # one batch
    # The batch passes; the first chunk is cut half way (HQ keeps that half); then all pass.
    proxy = FaultProxy((hq.server.host, hq.server.port), scripted_plan(["pass", "cut-upload"]))
    try:
        sink = HqSink(proxy.url + "/v1/batches", store.box_id, SECRET)
        uploader = AudioUploader(ledger, HqAudio(sink), 10**7, 4096)
        report, first = _run(ledger, sink, uploader)
        assert report.done and first is not None and first.stopped == "failed"
        held = hq.storage.audio_file(references[0])
        assert held is None
        part = uploader.transport.held(references[0], _copy(store, references[0]))
        assert part.kind == "more" and part.received == 2048  # half of the cut chunk
        _report, second = _run(ledger, sink, uploader)
        assert second is not None and second.done and second.confirmed == 3
    finally:
        proxy.close()
    copies = sum(len(_copy_bytes(store, r)) for r in references)
    # Only the lost half travelled again.
    assert first.bytes_sent + second.bytes_sent == copies + 2048
    for reference in references:
        assert _hq_copy(hq, reference) == _copy_bytes(store, reference)


def test_the_day_budget_holds_and_the_rest_goes_the_next_day(box, hq: Hq) -> None:  # type: ignore[no-untyped-def]
    store, references = box
    ledger = ledger_for(store)
    sink = HqSink(hq.url + "/v1/batches", store.box_id, SECRET)
    now = [1_796_000_000.0]
    per_day = 8000
    uploader = AudioUploader(ledger, HqAudio(sink), per_day, 2048, wall=lambda: now[0])
    report, uploads = _run(ledger, sink, uploader)
    assert report.done  # records are never held back by the budget
    assert uploads is not None and uploads.stopped == "budget"
    spent = AudioLedger(ledger).spent(utc_day(now[0]))
    assert spent <= per_day
    assert uploads.bytes_sent < per_day
    assert sum(1 for r in references if hq.storage.audio_file(r)) < 3
    days = 1
    while uploads.stopped == "budget":
        now[0] += 86400
        days += 1
        _report, uploads = _run(ledger, sink, uploader)
        assert AudioLedger(ledger).spent(utc_day(now[0])) <= per_day
    assert uploads.done and days >= 3
    for reference in references:
        assert _hq_copy(hq, reference) == _copy_bytes(store, reference)


def test_one_recording_hq_cannot_take_does_not_hold_up_the_others(box, hq: Hq) -> None:  # type: ignore[no-untyped-def]
    store, references = box
    ledger = ledger_for(store)
    sink = HqSink(hq.url + "/v1/batches", store.box_id, SECRET)
    assert drain(ledger, sink, wait=lambda s: False, max_wait_s=0).done
    with hq.storage._tx() as tx:  # HQ lost the first one's record (a restored backup)
        tx.execute("DELETE FROM records WHERE record_id = ?", [references[0]])
    # ...and holds other bytes under the second's reference.
    hq.storage.store_audio("box-1", references[1], "elsewhere.opus", 3, "cd" * 32, "x",
                           "2026-12-01T00:00:00.000Z")
    uploads = AudioUploader(ledger, HqAudio(sink), 10**7, 2048).run()
    assert uploads.stopped == "waiting" and uploads.skipped == [references[0]]
    assert "no record of this recording" in uploads.reason
    assert uploads.parked == [references[1]] and uploads.confirmed == 1
    # Only the one HQ confirmed is held: the others' WAVs are never removed for room.
    assert [r["reference"] for r in store.reads.audio_room() if r["held_utc"]] == \
        [references[2]]
    assert hq.storage.audio_file(references[2])["sha256"] == _copy(store, references[2]).sha256
    from sync.status import status_lines

    assert dict(status_lines(store))["sync hq audio"] == \
        "1 at hq, 1 waiting, 1 parked (see the log)"
    # A parked recording is not tried again; the skipped one is, on every run.
    again = AudioUploader(ledger, HqAudio(sink), 10**7, 2048).run()
    assert again.skipped == [references[0]] and again.parked == [] and again.chunks == 0


def _copy(store: Store, reference: str):  # type: ignore[no-untyped-def]
    from sync._audio_codec import describe

    return describe(link_copy_path(store.recordings.path_of(reference)))


def _copy_bytes(store: Store, reference: str) -> bytes:
    return link_copy_path(store.recordings.path_of(reference)).read_bytes()


def test_twilio_carries_no_sound_and_says_so_once(box, caplog: pytest.LogCaptureFixture
                                                  ) -> None:  # type: ignore[no-untyped-def]
    import logging

    from sync import _audio_sync
    from sync._setup import _uploader
    from sync._twilio import TwilioSink
    from sync.config import SYNC_DEFAULTS

    store, _references = box
    sink = TwilioSink("http://127.0.0.1:9", "IS" + "0" * 32, "SK" + "1" * 32, "secret",
                      ["edgecall-0"])
    ledger = ledger_for(store, sink="twilio")
    assert _uploader(ledger, sink, dict(SYNC_DEFAULTS), {"batch_max_bytes": 11264}) is None
    _audio_sync._twilio_said = False
    with caplog.at_level(logging.INFO, logger="sync._audio_sync"):
        for _ in range(3):
            _audio_sync.say_twilio_skips(ledger)
    said = [r.getMessage() for r in caplog.records if "Twilio Sync has no place" in
            r.getMessage()]
    assert len(said) == 1 and "sent to HQ only" in said[0]


def test_the_service_run_sends_records_then_recordings(box, hq: Hq) -> None:  # type: ignore[no-untyped-def]
    from sync._setup import Channel
    from sync.service import SyncService

    store, references = box
    ledger = ledger_for(store)
    sink = HqSink(hq.url + "/v1/batches", store.box_id, SECRET)
    service = SyncService([Channel(ledger, sink, AudioUploader(ledger, HqAudio(sink), 10**7,
                                                               4096))], 60.0, 600.0)
    service.run_once()  # the scheduler's job, run here at once (never started)
    assert service.failures == 0
    assert_exactly_once(store, hq.storage)
    assert all(hq.storage.audio_file(r) for r in references)
