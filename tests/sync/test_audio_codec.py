"""The link copy: made once per recording by opusenc, durably, beside the WAV; the same bytes
from any encode of the same recording; kept by the store's sweep; and, with no encoder,
recordings wait on the box (nothing lost) while records still go. A kill -9 in the middle of
an upload changes nothing: the restarted box sends the same bytes from where HQ stopped."""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from edge.lines import pcm_wav
from edge.lines._speech import speech_pcm
from edge.store import Store
from sync._audio_codec import (
    LINK_FORMAT,
    EncoderMissing,
    encoder_problem,
    ensure_link_copy,
    link_copy_path,
)
from sync._audio_http import HqAudio
from sync._audio_ledger import AudioLedger
from sync._audio_sync import AudioUploader, drain_then_upload
from sync._hq import HqSink
from sync._runner import drain
from sync.hq import DevServer, HqSettings, Storage, make_app
from tests.support import open_store
from tests.support._recorded import add_recordings

from .conftest import SECRET
from .helpers import ledger_for

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def wav(tmp_path: Path) -> Path:
    path = tmp_path / "a" / "message.wav"
    path.parent.mkdir()
    path.write_bytes(pcm_wav(speech_pcm(5.0)))
    return path


def test_one_copy_made_durably_and_the_same_bytes_every_time(
        opusenc: str, wav: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    copy = ensure_link_copy(wav)
    assert copy.path == link_copy_path(wav) == wav.with_suffix(".opus")
    data = copy.path.read_bytes()
    assert data[:4] == b"OggS" and copy.format == LINK_FORMAT
    assert copy.size == len(data) and copy.sha256 == hashlib.sha256(data).hexdigest()
    assert not list(wav.parent.glob(".*.part"))
    # 5 s of speech at 8 kbit/s: about 5 KB (WAV: 80 KB).
    assert 2_000 < copy.size < 8_000
    # Kept, not made again: the same file (inode) however often it is asked for...
    inode = copy.path.stat().st_ino
    assert ensure_link_copy(wav) == copy and copy.path.stat().st_ino == inode
    with monkeypatch.context() as patched:  # a copy made is sent even if opusenc went away
        patched.setenv("PATH", str(tmp_path))
        assert ensure_link_copy(wav) == copy
    # ...and an encode elsewhere of the same recording gives the same bytes (a fixed
    # serial number: a copy lost before its first send is made again identical).
    other = tmp_path / "b" / "message.wav"
    other.parent.mkdir()
    other.write_bytes(wav.read_bytes())
    assert ensure_link_copy(other).sha256 == copy.sha256


def test_without_the_encoder_recordings_wait_and_records_still_go(
        opusenc: str, tmp_path: Path, storage: Storage, monkeypatch: pytest.MonkeyPatch
        ) -> None:
    store, _sim = open_store(tmp_path / "box", fast=True)
    references = add_recordings(store, 2, seconds=3.0)
    settings = HqSettings(audio_dir=tmp_path / "hq-audio")
    server = DevServer(make_app(storage, settings)).start()
    try:
        ledger = ledger_for(store)
        sink = HqSink(server.url + "/v1/batches", store.box_id, SECRET)
        uploader = AudioUploader(ledger, HqAudio(sink), 10**7, 4096)

        def run():  # type: ignore[no-untyped-def]
            return drain_then_upload(
                lambda: drain(ledger, sink, wait=lambda s: False, max_wait_s=0), uploader)

        empty = tmp_path / "no-tools"
        empty.mkdir()
        monkeypatch.setenv("PATH", str(empty))
        assert "opus-tools" in (encoder_problem() or "")
        with pytest.raises(EncoderMissing):
            ensure_link_copy(store.recordings.path_of(references[0]))
        report, uploads = run()
        assert report.done and ledger.backlog() == 0  # the records went
        assert uploads is not None and uploads.stopped == "waiting"
        assert "opusenc is not installed" in uploads.reason and uploads.chunks == 0
        assert [r["reference"] for r in AudioLedger(ledger).to_send()] == references
        assert storage.audio_files() == []
        monkeypatch.undo()  # installed: the next run sends them
        _report, uploads = run()
        assert uploads is not None and uploads.done and uploads.confirmed == 2
    finally:
        server.stop()
        store.close()


def test_the_sweep_keeps_the_link_copy_and_removes_a_half_one(opusenc: str,
                                                              store: Store) -> None:
    (reference,) = add_recordings(store, 1, seconds=2.0)
    copy = ensure_link_copy(store.recordings.path_of(reference))
    half = copy.path.with_name(f".{copy.path.name}.part")  # an encode a kill cut short
    half.write_bytes(b"OggS...")
    stray = copy.path.with_name("other.opus")  # no recording of that name
    stray.write_bytes(b"x")
    removed = store.recordings.sweep()
    assert sorted(removed) == sorted([half, stray])
    assert copy.path.is_file() and store.recordings.path_of(reference).is_file()
    assert store.recordings.link_copies(reference) == [copy.path]


_CHILD = textwrap.dedent("""
    import os, signal, sys
    sys.path.insert(0, sys.argv[1])
    from sync._audio_http import HqAudio
    from sync._audio_sync import AudioUploader
    from sync._hq import HqSink
    from sync._ledger import Ledger, connect
    from sync.codec import batch_encoder

    db, url = sys.argv[2], sys.argv[3]
    ledger = Ledger(connect(db), "hq", "box-1", batch_encoder("box-1"), 10000, 65536)

    class KilledAfterTwo(HqAudio):
        sent = 0

        def send(self, reference, copy, offset, data):
            answer = super().send(reference, copy, offset, data)
            KilledAfterTwo.sent += 1
            if KilledAfterTwo.sent == 2:  # HQ holds two chunks; the box booked nothing
                os.kill(os.getpid(), signal.SIGKILL)
            return answer

    sink = HqSink(url + "/v1/batches", "box-1", b"box-1-secret-for-tests")
    AudioUploader(ledger, KilledAfterTwo(sink), 10**7, 1024).run()
""")


def test_a_kill_mid_upload_then_a_restart_sends_the_same_bytes(
        opusenc: str, tmp_path: Path, storage: Storage) -> None:
    store, _sim = open_store(tmp_path / "box", fast=True)
    (reference,) = add_recordings(store, 1, seconds=6.0)
    settings = HqSettings(audio_dir=tmp_path / "hq-audio")
    server = DevServer(make_app(storage, settings)).start()
    try:
        ledger = ledger_for(store)
        sink = HqSink(server.url + "/v1/batches", store.box_id, SECRET)
        assert drain(ledger, sink, wait=lambda s: False, max_wait_s=0).done
        child = subprocess.run([sys.executable, "-c", _CHILD, str(ROOT), str(store.path),
                                server.url], capture_output=True, text=True, timeout=120,
                               env={**os.environ, "PYTHONPATH": str(ROOT)})
        assert child.returncode == -signal.SIGKILL, child.stderr
        copy_path = link_copy_path(store.recordings.path_of(reference))
        before = copy_path.read_bytes()
        inode = copy_path.stat().st_ino
        known = AudioLedger(ledger).known(reference)
        assert known is not None and known.sha256 == hashlib.sha256(before).hexdigest()
        assert storage.audio_files() == []
        # Restarted: HQ is asked what it holds (two chunks) and gets only the rest.
        uploads = AudioUploader(ledger, HqAudio(sink), 10**7, 1024).run()
        assert uploads.done and uploads.confirmed == 1
        assert uploads.bytes_sent == len(before) - 2 * 1024
        assert copy_path.stat().st_ino == inode and copy_path.read_bytes() == before
        (held,) = storage.audio_files()
        assert held["sha256"] == known.sha256
        assert (settings.audio_dir / held["path"]).read_bytes() == before  # type: ignore[operator]
    finally:
        server.stop()
        store.close()
