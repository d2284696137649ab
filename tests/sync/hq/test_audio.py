"""HQ's side of recordings, over HTTP on 127.0.0.1, on SQLite and PostgreSQL: a wrong
SHA-256 is refused and nothing kept, a repeat is a duplicate, other bytes under a stored
reference are a signed conflict, recordings of no record or of another box are refused,
whole files are served only with the password, and the exports carry the file and its link.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest
import requests

from sync._audio_codec import LINK_FORMAT
from sync._hq import HqSink
from sync._hq_proof import signature_ok
from sync._runner import drain
from sync._signing import (
    HEADER_AUDIO_FORMAT,
    HEADER_AUDIO_SHA256,
    HEADER_AUDIO_SIZE,
    HEADER_AUTH,
    HEADER_BOX,
    HEADER_OFFSET,
    HEADER_TIMESTAMP,
    audio_auth,
)
from sync.hq import DevServer, HqSettings, Storage, make_app
from sync.hq._export import export_audio, export_calls
from tests.support import open_store
from tests.support._recorded import add_recording

from ..conftest import SECRET
from ..helpers import ledger_for

SOUND = bytes(range(256)) * 40  # stands for a link copy: HQ never decodes it


class Hq:
    def __init__(self, storage: Storage, audio_dir: Path) -> None:
        self.storage = storage
        self.settings = HqSettings(audio_dir=audio_dir, fleet_password="pw")
        self.server = DevServer(make_app(storage, self.settings)).start()
        self.url = self.server.url


@pytest.fixture
def hq(storage: Storage, tmp_path: Path) -> Iterator[Hq]:
    running = Hq(storage, tmp_path / "audio")
    yield running
    running.server.stop()


@pytest.fixture
def reference(tmp_path: Path, hq: Hq) -> Iterator[str]:
    """A recorded answer whose records HQ already holds."""
    store, _sim = open_store(tmp_path / "box", fast=True)
    wav = b"RIFF" + bytes(2000)
    ref, _path = add_recording(store, wav)
    ledger = ledger_for(store)
    assert drain(ledger, HqSink(hq.url + "/v1/batches", "box-1", SECRET),
                 wait=lambda s: False, max_wait_s=0).done
    yield ref
    store.close()


def put(hq: Hq, reference: str, data: bytes, offset: int = 0, size: int | None = None,
        sha256: str | None = None, box: str = "box-1", secret: bytes = SECRET,
        session: requests.Session | None = None) -> requests.Response:
    size = len(SOUND) if size is None else size
    sha256 = sha256 or hashlib.sha256(SOUND).hexdigest()
    stamp = int(time.time() * 1000)
    headers = {HEADER_BOX: box, HEADER_TIMESTAMP: str(stamp), HEADER_OFFSET: str(offset),
               HEADER_AUDIO_SIZE: str(size), HEADER_AUDIO_SHA256: sha256,
               HEADER_AUDIO_FORMAT: LINK_FORMAT, "Content-Type": "audio/ogg",
               HEADER_AUTH: audio_auth(secret, stamp, box, reference, offset, len(data), size,
                                       sha256, LINK_FORMAT)}
    return (session or requests).put(f"{hq.url}/v1/audio/{quote(reference, safe='')}",
                                     data=data, headers=headers, timeout=10)


def test_chunks_make_the_file_and_a_repeat_is_a_duplicate(hq: Hq, reference: str) -> None:
    first = put(hq, reference, SOUND[:4000])
    assert first.status_code == 200 and first.json() == {"audio": reference, "received": 4000}
    assert signature_ok(first.headers, first.content, SECRET)
    done = put(hq, reference, SOUND[4000:], offset=4000)
    assert done.status_code == 200 and done.json()["status"] == "stored"
    assert signature_ok(done.headers, done.content, SECRET)
    (held,) = hq.storage.audio_files()
    assert held["reference"] == reference and held["bytes"] == len(SOUND)
    assert held["path"] == f"box-1/{reference.removesuffix('.wav')}.opus"
    file = hq.settings.audio_dir / held["path"]  # type: ignore[operator]
    assert file.read_bytes() == SOUND
    stat = file.stat()
    with requests.Session() as session:  # the whole file again, twice on one connection
        for _ in range(2):
            again = put(hq, reference, SOUND, session=session)
            assert again.status_code == 200 and again.json()["status"] == "duplicate"
    assert len(hq.storage.audio_files()) == 1
    assert file.stat().st_ino == stat.st_ino and file.read_bytes() == SOUND


def test_a_wrong_sha256_is_refused_and_nothing_is_kept(hq: Hq, reference: str) -> None:
    wrong = hashlib.sha256(b"other bytes").hexdigest()
    answer = put(hq, reference, SOUND, sha256=wrong)
    assert answer.status_code == 422 and answer.json()["error"] == "sha256-mismatch"
    assert hq.storage.audio_files() == []
    assert not any(p.is_file() and p.suffix == ".opus"
                   for p in hq.settings.audio_dir.rglob("*"))  # type: ignore[union-attr]
    # HQ dropped the bytes: the right upload starts again from 0 and succeeds.
    assert put(hq, reference, SOUND).json()["status"] == "stored"


def test_other_bytes_under_a_stored_reference_are_a_signed_conflict(hq: Hq,
                                                                  reference: str) -> None:
    assert put(hq, reference, SOUND).json()["status"] == "stored"
    other = SOUND[::-1]
    answer = put(hq, reference, other, sha256=hashlib.sha256(other).hexdigest())
    assert answer.status_code == 409 and answer.json()["error"] == "conflict"
    assert signature_ok(answer.headers, answer.content, SECRET)
    assert (hq.settings.audio_dir / hq.storage.audio_files()[0]["path"]  # type: ignore[operator]
            ).read_bytes() == SOUND


def test_a_resume_at_the_wrong_offset_gets_hqs_count(hq: Hq, reference: str) -> None:
    assert put(hq, reference, SOUND[:1000]).json()["received"] == 1000
    answer = put(hq, reference, SOUND[3000:4000], offset=3000)
    assert answer.status_code == 416 and answer.json()["received"] == 1000


def test_refused_without_a_record_of_another_box_or_wrongly_signed(hq: Hq,
                                                                   reference: str) -> None:
    unknown = reference.replace("message", "never")
    assert put(hq, unknown, SOUND).json()["error"] == "unknown-audio"
    hq.storage.add_box("box-2", "box-2-secret-for-tests", "2000-01-01T00:00:00.000Z")
    theirs = put(hq, reference, SOUND, box="box-2", secret=b"box-2-secret-for-tests")
    assert theirs.status_code == 422 and theirs.json()["error"] == "foreign-records"
    forged = put(hq, reference, SOUND, secret=b"not-the-box-secret-at-all")
    assert forged.status_code == 401 and forged.json()["error"] == "bad-signature"
    climbing = put(hq, "box-1.x.1/../../etc.wav", SOUND)
    assert climbing.status_code == 400
    assert hq.storage.audio_files() == []


def test_files_are_served_with_the_password_and_exported_with_links(
        hq: Hq, reference: str, tmp_path: Path) -> None:
    assert put(hq, reference, SOUND).json()["status"] == "stored"
    path = hq.storage.audio_files()[0]["path"]
    page = f"{hq.url}/audio/{path}"
    assert requests.get(page, timeout=10).status_code == 401
    assert requests.get(page, auth=("x", "wrong"), timeout=10).status_code == 401
    served = requests.get(page, auth=("x", "pw"), timeout=10)
    assert served.status_code == 200 and served.content == SOUND
    assert served.headers["Content-Type"].startswith("audio/ogg")
    assert requests.get(f"{hq.url}/audio/.parts/x", auth=("x", "pw"),
                        timeout=10).status_code == 404

    out = tmp_path / "export"
    out.mkdir()
    assert export_audio(hq.storage, "csv", out, hq.settings.audio_dir, hq.url) == 1
    (row,) = csv.DictReader(io.StringIO((out / "audio.csv").read_text()))
    assert row["reference"] == reference and row["at_hq"] == "yes"
    assert row["file"] == path and (out / path).read_bytes() == SOUND
    assert row["link"] == page and row["sha256"] == hashlib.sha256(SOUND).hexdigest()
    # In the calls export, the recorded answer's value is the link (Studio's RecordingUrl).
    calls = tmp_path / "calls.json"
    export_calls(hq.storage, "json", calls, link_base=hq.url)
    (call,) = json.loads(calls.read_text())
    assert call["answers"]["message"]["value"] == page


def test_held_counts_and_a_recording_hq_does_not_hold_yet_exports_as_such(
        hq: Hq, reference: str, tmp_path: Path) -> None:
    put(hq, reference, SOUND[:100])
    stamp = int(time.time() * 1000)
    from sync._signing import HEADER_SIGNATURE, sign

    answer = requests.get(f"{hq.url}/v1/audio/{quote(reference, safe='')}", timeout=10,
                          headers={HEADER_BOX: "box-1", HEADER_TIMESTAMP: str(stamp),
                                   HEADER_SIGNATURE: sign(SECRET, stamp, reference.encode())})
    assert answer.json() == {"audio": reference, "received": 100}
    out = tmp_path / "audio.json"
    export_audio(hq.storage, "json", out, hq.settings.audio_dir, hq.url)
    (row,) = json.loads(out.read_text())
    assert row["at_hq"] == "no" and row["link"] == "" and row["wav_bytes"] == 2004


def test_a_receiver_without_an_audio_dir_takes_none(storage: Storage, tmp_path: Path) -> None:
    server = DevServer(make_app(storage, HqSettings())).start()
    try:
        answer = requests.put(f"{server.url}/v1/audio/x", data=b"x", timeout=10)
        assert answer.status_code in (404, 405)
    finally:
        server.stop()
