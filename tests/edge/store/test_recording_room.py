"""Room for recordings: only recordings HQ holds lose the box's WAV, oldest first, then
their link copies; the choice is pure; a pass cut short by a crash is finished by the next;
files the box removed to make room are not reported missing."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from edge.records import AnswerInput, AudioFile
from edge.store import Store, mark_audio_held
from edge.store._recording_room import MB, OnDisk, Removal, plan_room


def disk(ref: str, wav: int, copy: int = 0, held: bool = True) -> OnDisk:
    return OnDisk(ref, wav, copy, held)


# -- the pure choice -----------------------------------------------------------------------
def test_under_the_cap_nothing_goes() -> None:
    files = [disk("a", 3 * MB), disk("b", 3 * MB)]
    assert plan_room(files, 1 * MB, 10 * MB, 500 * MB, 64 * MB) == ([], None)


def test_over_the_cap_the_oldest_held_wavs_go_first_and_unheld_never() -> None:
    files = [disk("old-unheld", 4 * MB, held=False), disk("a", 3 * MB),
             disk("b", 3 * MB), disk("c", 3 * MB)]
    removals, problem = plan_room(files, 2 * MB, 12 * MB, 500 * MB, 64 * MB)
    # 13 MB + 2 MB needed, cap 12: "a" (3 MB) brings it to exactly 12.
    assert problem is None
    assert removals == [Removal("a", True, 3 * MB)]


def test_link_copies_go_only_once_every_held_wav_is_gone() -> None:
    files = [disk("a", 2 * MB, 1 * MB), disk("b", 2 * MB, 1 * MB),
             disk("c", 4 * MB, held=False)]
    removals, problem = plan_room(files, 0, 5 * MB, 500 * MB, 64 * MB)
    assert problem is None
    assert removals == [Removal("a", True, 2 * MB), Removal("b", True, 2 * MB),
                        Removal("a", False, 1 * MB)]


def test_what_hq_does_not_hold_leaves_the_recording_refused_with_why() -> None:
    files = [disk("a", 5 * MB, held=False), disk("b", 1 * MB)]
    removals, problem = plan_room(files, 2 * MB, 6 * MB, 500 * MB, 64 * MB)
    assert removals == []  # removing "b" would not make room: kept (under the cap as is)
    assert problem is not None and "HQ does not hold them yet" in problem
    removals, problem = plan_room([*files, disk("c", 1 * MB)], 2 * MB, 6 * MB, 500 * MB,
                                  64 * MB)
    assert removals == [Removal("b", True, 1 * MB)]  # over the cap as is: back under it
    assert problem is not None
    _, problem = plan_room([], 8 * MB, 6 * MB, 500 * MB, 64 * MB)
    assert problem is not None and "more than [server] recordings_max_mb" in problem


def test_a_short_disk_makes_room_without_a_cap() -> None:
    files = [disk("a", 10 * MB), disk("b", 10 * MB), disk("c", 10 * MB)]
    # 70 MB free, 64 MB kept for answers, 9.6 MB asked: 3.6 MB short -> "a" goes.
    removals, problem = plan_room(files, 9_600_000, 0, 70 * MB, 64 * MB)
    assert problem is None and [r.reference for r in removals] == ["a"]
    removals, problem = plan_room(files, 9_600_000, 0, 45 * MB, 64 * MB)
    assert problem is None and [r.reference for r in removals] == ["a", "b", "c"]
    _, problem = plan_room([disk("a", 10 * MB, held=False)], 9_600_000, 0, 30 * MB, 64 * MB)
    assert problem is not None and "stays free for answers" in problem


# -- on a real store -----------------------------------------------------------------------
def recording(store: Store, call: str, state: str, size: int) -> tuple[str, Path]:
    reference, path = store.recordings.place(call, state, 1)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"R" * size)
    path.with_suffix(".opus").write_bytes(b"O" * (size // 16))
    store.record_answer(call, AnswerInput(state, "#", reference, 1, 0, 0), "en", "1",
                        audio=AudioFile(reference, size, "ab" * 32, 1.0,
                                        "wav/pcm_s16le/8000/1"))
    return reference, path


def held(store: Store, reference: str) -> None:
    conn = sqlite3.connect(store.path)
    with conn:
        mark_audio_held(conn, reference, "2026-12-02T10:00:00.000Z")
    conn.close()


def test_make_room_removes_held_wavs_keeps_their_copies_and_marks_the_rows(
        store: Store) -> None:
    call = store.begin_call("sim", "p:x", False, "s", "1")
    (a, a_path), (b, b_path), (c, c_path) = (recording(store, call, q, 160_000)
                                             for q in ("q1", "q2", "q3"))
    held(store, a)
    held(store, c)
    room = store.recordings.make_room(160_000, 400_000, 0)
    # 3 x 170,000 bytes + 160,000 asked, cap 400,000: a and c go (b is not held).
    assert room.problem is None and [r.reference for r in room.removed] == [a, c]
    assert not a_path.exists() and not c_path.exists() and b_path.exists()
    assert a_path.with_suffix(".opus").exists()  # the copy stays: listenable, sendable
    rows = {r["reference"]: r for r in store.reads.audio_room()}
    assert rows[a]["removed_utc"] and rows[c]["removed_utc"] and not rows[b]["removed_utc"]
    assert store.recordings.missing() == []  # removed to make room is not "missing"
    assert store.recordings.sweep() == []  # the copies are still named by their rows
    assert room.used == 170_000 + 2 * 10_000

    again = store.recordings.make_room(300_000, 400_000, 0)
    assert again.problem is not None and "HQ does not hold" in again.problem
    assert again.removed == []  # removing the copies would not make room: kept
    assert b_path.exists()  # never removed while HQ does not hold it
    too_long = store.recordings.make_room(500_000, 400_000, 0)
    assert too_long.problem is not None and "more than" in too_long.problem


def test_a_pass_cut_short_by_a_crash_is_finished_by_the_next(store: Store) -> None:
    call = store.begin_call("sim", "p:x", False, "s", "1")
    a, a_path = recording(store, call, "q1", 50_000)
    held(store, a)
    # As if killed between the committed mark and the unlink:
    store.db.execute("UPDATE audio SET removed_utc = '2026-12-02T10:00:00.000Z'")
    store.db.conn.commit()
    assert a_path.exists()
    room = store.recordings.make_room(0, 0, 0)
    assert not a_path.exists() and room.removed == [] and room.used == 50_000 // 16


def test_a_read_only_store_refuses_to_remove(tmp_path: Path) -> None:
    store = Store.open(tmp_path, box_id="t")
    call = store.begin_call("sim", "p:x", False, "s", "1")
    a, _ = recording(store, call, "q1", 50_000)
    held(store, a)
    store.close()
    reader = Store.open_read_only(tmp_path, box_id="t")
    with pytest.raises(Exception, match="read-only"):
        reader.recordings.make_room(0, 1, 0)
    reader.close()
