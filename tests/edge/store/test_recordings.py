"""Recorded answers in the store: the answer, its audio row and its audio record commit
together; file names never climb out of recordings/; the sweep removes only what no row
names."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from edge.records import AnswerInput, AudioFile
from edge.store import Store


def audio_answer(store: Store, call: str, reference: str) -> str:
    return store.record_answer(
        call, AnswerInput("message", "#", reference, 1, 0, 0), "en", "1",
        audio=AudioFile(reference, 16_044, "ab" * 32, 1.0, "wav/pcm_s16le/8000/1"))


def test_answer_audio_row_and_record_commit_together(store: Store) -> None:
    call = store.begin_call("sim", "p:x", False, "s", "1")
    reference, _path = store.recordings.place(call, "message", 1)
    answer_id = audio_answer(store, call, reference)
    (row,) = store.reads.audio(call)
    assert row["reference"] == reference == f"{call}/message.wav"
    assert row["answer_id"] == answer_id and row["bytes"] == 16_044
    kinds = [(r["kind"], r["record_id"]) for r in store.query(
        "SELECT kind, record_id FROM outbox ORDER BY seq")]
    assert kinds[-2:] == [("answer", answer_id), ("audio", reference)]
    body = json.loads(store.query("SELECT body FROM outbox WHERE kind = 'audio'")[0]["body"])
    assert set(body) == {"id", "call", "answer", "q", "bytes", "sha256", "seconds", "format",
                         "utc", "mono", "boot", "clock"}
    # A second row for the same file fails, and takes its answer with it.
    with pytest.raises(sqlite3.IntegrityError):
        audio_answer(store, call, reference)
    assert len(store.reads.answers(call)) == 1


def test_file_names_are_safe_and_distinct(store: Store) -> None:
    call = "t.abc.1"
    reference, path = store.recordings.place(call, "../../etc/passwd", 1)
    assert reference == f"{call}/etc_passwd.wav"
    assert path.parent == store.recordings.root / call
    assert store.recordings.place(call, "q", 2)[0] == f"{call}/q-2.wav"
    path.parent.mkdir(parents=True)
    path.write_bytes(b"x")
    assert store.recordings.place(call, "etc/passwd", 1)[0] == f"{call}/etc_passwd~2.wav"
    assert store.recordings.place(call, "سؤال", 1)[0] == f"{call}/recording.wav"
    with pytest.raises(ValueError):
        store.recordings.path_of("../edgecall.db")


def test_the_sweep_removes_only_files_no_row_names(store: Store) -> None:
    call = store.begin_call("sim", "p:x", False, "s", "1")
    reference, path = store.recordings.place(call, "message", 1)
    path.parent.mkdir(parents=True)
    path.write_bytes(b"RIFF....")
    audio_answer(store, call, reference)
    half = path.with_name(".message-2.wav.part")
    half.write_bytes(b"RIFF")
    stray = store.recordings.root / "other.9" / "q.wav"
    stray.parent.mkdir()
    stray.write_bytes(b"RIFF")
    removed = store.recordings.sweep()
    assert sorted(removed) == sorted([half, stray])
    assert path.exists() and not stray.parent.exists()
    assert store.recordings.sweep() == [] and store.recordings.missing() == []
    path.unlink()
    assert store.recordings.missing() == [reference]


def test_no_recordings_directory_is_nothing_to_sweep(tmp_path: Path) -> None:
    store = Store.open(tmp_path / "d", box_id="t")
    assert store.recordings.sweep() == []
    store.close()
