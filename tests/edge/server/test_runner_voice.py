"""Recorded answers through run_call on the simulated line, with real files: a message that
ends in silence, on the finish key, at max length, by hanging up; a line that cannot record;
nothing said; and the order of durability (the file is complete before its answer commits)."""

from __future__ import annotations

import hashlib
import json
import os
import threading
from pathlib import Path

import pytest

from edge.lines import recording_problem, temp_path
from edge.lines.simulated import CallerScript, SimulatedLine
from edge.privacy import Pseudonymiser
from edge.records import AnswerInput, AudioFile
from edge.server import CallServer, SurveySource, run_call
from edge.server import _recording as server_recording
from edge.store import Store, mark_audio_held
from edge.survey import Survey, compile_survey
from tests.support import fill_disk, small_disk

from .conftest_helpers import answered_call

VOICE = {
    "id": "voice", "version": "1", "languages": ["en"],
    "states": [
        {"name": "consent", "type": "yesno", "prompt": {"en": "Leave a message? 1 yes, 2 no."},
         "no": "bye"},
        {"name": "message", "type": "record", "max_length": 8, "timeout": 2, "min_length": 1,
         "prompt": {"en": "Speak after the tone; press hash when done."},
         "recordingComplete": "thanks", "noAudio": "nothing", "hangup": None},
        {"name": "nothing", "type": "say", "prompt": {"en": "We heard no message."},
         "next": "bye"},
        {"name": "thanks", "type": "say", "prompt": {"en": "Your message is saved."},
         "next": "bye"},
        {"name": "bye", "type": "end", "prompt": {"en": "Goodbye."}},
    ],
}


@pytest.fixture
def voice() -> Survey:
    survey, problems = compile_survey(VOICE, None)
    assert survey is not None and not [p for p in problems if p.severity == "error"], problems
    return survey


def speak(response: str) -> CallerScript:
    return CallerScript({"consent.prompt": ["1"], "message.beep": [response]},
                        key_delay_s=0.2)


def files(store: Store) -> list[str]:
    root = store.recordings.root
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()) \
        if root.is_dir() else []


def route(store: Store) -> list[str]:
    return [json.loads(r["detail"])["event"] for r in store.query(
        "SELECT detail FROM events WHERE kind = 'route' ORDER BY id")]


def the_message(store: Store) -> tuple[dict, dict]:
    (answer,) = store.query("SELECT * FROM answers WHERE question = 'message'")
    (audio,) = store.reads.audio()
    assert answer["value"] == audio["reference"] and audio["answer_id"] == answer["id"]
    path = store.recordings.path_of(audio["reference"])
    assert recording_problem(path) is None
    assert audio["bytes"] == path.stat().st_size
    assert audio["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()
    assert audio["format"] == "wav/pcm_s16le/8000/1"
    assert files(store) == [audio["reference"]]  # nothing else left on disk
    return answer, audio


def test_a_message_ending_in_silence_is_a_committed_answer_with_its_file(
        store: Store, line: SimulatedLine, voice: Survey,
        pseudonymiser: Pseudonymiser) -> None:
    call, disposition = answered_call(line, speak("SPEAK:3"), voice, store, pseudonymiser)
    assert disposition == "complete"
    answer, audio = the_message(store)
    assert audio["reference"] == f"{answer['call_id']}/message.wav"
    assert answer["raw"] == "" and 3.0 <= audio["seconds"] <= 3.4
    assert route(store) == ["recordingComplete"]
    played = [u.key for _id, us in call.played for u in us]
    assert played[1:5] == ["message.prompt", "message.beep", "thanks.prompt", "bye.prompt"]
    # The audio record goes to HQ in the answer's transaction, pseudonymous like the rest.
    rows = store.query("SELECT kind, record_id, body FROM outbox ORDER BY seq")
    kinds = [r["kind"] for r in rows]
    assert kinds.index("audio") == kinds.index("answer", kinds.index("answer") + 1) + 1
    record = json.loads(next(r["body"] for r in rows if r["kind"] == "audio"))
    assert record["id"] == audio["reference"] and record["call"] == answer["call_id"]
    assert record["answer"] == answer["id"] and record["sha256"] == audio["sha256"]
    assert "+255700000001" not in json.dumps([dict(r) for r in rows])


def test_the_finish_key_ends_it(store: Store, line: SimulatedLine, voice: Survey,
                                pseudonymiser: Pseudonymiser) -> None:
    _call, disposition = answered_call(line, speak("SPEAK:2.5;#"), voice, store, pseudonymiser)
    assert disposition == "complete"
    answer, audio = the_message(store)
    assert answer["raw"] == "#" and 2.4 <= audio["seconds"] <= 2.9
    assert json.loads(store.query("SELECT detail FROM events WHERE kind = 'route'")[0][
        "detail"])["reason"] == "key"


def test_max_length_cuts_a_long_message(store: Store, line: SimulatedLine, voice: Survey,
                                        pseudonymiser: Pseudonymiser) -> None:
    _call, disposition = answered_call(line, speak("SPEAK:20"), voice, store, pseudonymiser)
    assert disposition == "complete"
    _answer, audio = the_message(store)
    assert 7.9 <= audio["seconds"] <= 8.1
    assert route(store) == ["recordingComplete"]


def test_hanging_up_mid_message_keeps_the_message(store: Store, line: SimulatedLine,
                                                  voice: Survey,
                                                  pseudonymiser: Pseudonymiser) -> None:
    call, disposition = answered_call(line, speak("SPEAK:4;HANGUP"), voice, store,
                                      pseudonymiser)
    # The message is the point of the call: kept, and hangup (to nothing) ends it complete.
    assert disposition == "complete" and call.ended_by == "caller"
    _answer, audio = the_message(store)
    assert 3.9 <= audio["seconds"] <= 4.4
    assert route(store) == ["hangup"]


def test_a_line_that_cannot_record_takes_no_audio(store: Store, voice: Survey,
                                                  pseudonymiser: Pseudonymiser) -> None:
    line = SimulatedLine("sim", speed=50, records=False)
    _call, disposition = answered_call(line, speak("SPEAK:3"), voice, store, pseudonymiser)
    line.close()
    assert disposition == "complete"
    assert route(store) == ["noAudio"]
    assert store.reads.audio() == [] and files(store) == []
    assert "record_unavailable" in store.query(
        "SELECT detail FROM events WHERE kind = 'route'")[0]["detail"]


def test_nothing_said_or_too_little_leaves_no_file(store: Store, line: SimulatedLine,
                                                   voice: Survey,
                                                   pseudonymiser: Pseudonymiser) -> None:
    _call, silent = answered_call(line, speak(""), voice, store, pseudonymiser)
    _call, short = answered_call(line, speak("SPEAK:0.3"), voice, store, pseudonymiser)
    assert silent == "no-input" and short == "complete"  # said something, just too little
    assert route(store) == ["noAudio", "noAudio"]
    assert store.reads.audio() == [] and files(store) == []
    assert [r["question"] for r in store.reads.answers()] == ["consent", "consent"]


def test_the_file_is_complete_before_its_answer_commits(tmp_path: Path, line: SimulatedLine,
                                                       voice: Survey,
                                                       pseudonymiser: Pseudonymiser) -> None:
    seen: list[tuple[str | None, bool]] = []

    class Checking(Store):
        def record_answer(self, *args, **kwargs):  # type: ignore[no-untyped-def]
            audio = kwargs.get("audio")
            if audio is not None:
                path = self.recordings.path_of(audio.reference)
                seen.append((recording_problem(path), temp_path(path).exists()))
            return super().record_answer(*args, **kwargs)

    store = Checking.open(tmp_path / "data", box_id="t")
    _call, disposition = answered_call(line, speak("SPEAK:2"), voice, store, pseudonymiser)
    assert disposition == "complete" and seen == [(None, False)]
    store.close()


def test_a_call_cut_by_shutdown_mid_message_keeps_no_half_message(
        store: Store, line: SimulatedLine, pseudonymiser: Pseudonymiser) -> None:
    long = json.loads(json.dumps(VOICE))
    long["states"][1]["max_length"] = 600
    survey, _problems = compile_survey(long, None)
    assert survey is not None
    abort = threading.Event()
    line.start(lambda _call: None)
    call = line.place_call("+255700000001", speak("SPEAK:300"))
    threading.Timer(1.0, abort.set).start()  # well into the 6 s (at speed 50) of speech
    disposition = run_call(call, survey, store, pseudonymiser, abort=abort,
                           timer_scale=1 / line.speed)
    assert disposition == "partial"
    assert store.reads.audio() == [] and files(store) == []


def test_no_room_on_the_disk_means_no_recording(store: Store, line: SimulatedLine,
                                                voice: Survey, pseudonymiser: Pseudonymiser,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(server_recording, "KEEP_FREE_BYTES", 1 << 60)
    _call, disposition = answered_call(line, speak("SPEAK:3"), voice, store, pseudonymiser)
    assert disposition == "complete" and route(store) == ["noAudio"]
    kinds = [r["kind"] for r in store.query("SELECT kind FROM events")]
    assert "recording_refused" in kinds and files(store) == []


def test_the_server_sweeps_files_no_answer_names_at_start(
        store: Store, line: SimulatedLine, voice: Survey, pseudonymiser: Pseudonymiser,
        tmp_path: Path) -> None:
    answered_call(line, speak("SPEAK:2"), voice, store, pseudonymiser)
    (kept,) = files(store)
    root = store.recordings.root
    call_dir = root / kept.split("/")[0]
    (call_dir / ".message-2.wav.part").write_bytes(b"RIFF half")  # cut by a crash
    (call_dir / "message-3.wav").write_bytes((root / kept).read_bytes())  # never answered
    (root / "box.x.9").mkdir()
    (root / "box.x.9" / "q.wav").write_bytes(b"RIFF")
    survey_path = tmp_path / "voice.json"
    survey_path.write_text(json.dumps(VOICE), encoding="utf-8")
    server = CallServer(store, SurveySource(survey_path, store.path.parent), [line],
                        pseudonymiser)
    server.start()
    server.stop(1)
    assert files(store) == [kept]
    assert store.recordings.missing() == []


def test_over_the_recordings_cap_only_what_hq_holds_makes_room(
        store: Store, line: SimulatedLine, voice: Survey,
        pseudonymiser: Pseudonymiser) -> None:
    # max_length 8 s: 128,000 bytes asked of the room; a 2 s message keeps ~32,000.
    cap = 150_000

    def leave_message() -> list[str]:
        answered_call(line, speak("SPEAK:2"), voice, store, pseudonymiser,
                      recordings_max_bytes=cap)
        return route(store)

    assert leave_message()[-1] == "recordingComplete"
    (first,) = store.reads.audio()
    # 32,000 kept + 128,000 asked > 150,000, and HQ does not hold the first: refused.
    assert leave_message()[-1] == "noAudio"
    refused = [json.loads(r["detail"]) for r in store.query(
        "SELECT detail FROM events WHERE kind = 'recording_refused'")]
    assert len(refused) == 1 and "HQ does not hold" in refused[0]["why"]
    assert files(store) == [first["reference"]]

    store.db.execute("UPDATE audio SET held_utc = '2026-12-02T10:00:00.000Z'")  # HQ has it
    store.db.conn.commit()
    assert leave_message()[-1] == "recordingComplete"
    second = store.reads.audio()[-1]
    assert files(store) == [second["reference"]]  # the first WAV made room
    assert store.reads.audio_removed() == [first["reference"]]
    assert store.recordings.missing() == []


def test_on_a_nearly_full_disk_a_recording_hq_holds_makes_room(
        tmp_path: Path, line: SimulatedLine, voice: Survey, pseudonymiser: Pseudonymiser,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """On a real 8 MiB filesystem: 2 MiB kept free for answers, 1.6 MB free; an old 2 MiB
    recording HQ holds goes so that a new message can be left; one HQ lacks stays."""
    monkeypatch.setattr(server_recording, "KEEP_FREE_BYTES", 2 << 20)

    def leave_free(disk: Path, name: str) -> None:
        filler = fill_disk(disk)
        filler.rename(disk / name)
        os.truncate(disk / name, (disk / name).stat().st_size - 1_600_000)

    with small_disk(tmp_path / "disk", "8m") as disk:
        store = Store.open(disk / "data", box_id="t")
        try:
            call = store.begin_call("sim", None, True, "voice", "1")
            old = []
            for state in ("old1", "old2"):
                reference, path = store.recordings.place(call, state, 1)
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_bytes(b"\0" * (2 << 20))
                store.record_answer(call, AnswerInput(state, "#", reference, 1, 0, 0), "en",
                                    "1", audio=AudioFile(reference, 2 << 20, "ab" * 32, 65.5,
                                                         "wav/pcm_s16le/8000/1"))
                old.append(reference)
            store.end_call(call, "complete")
            leave_free(disk, "filler-1")
            with store._write(frees=True) as db:  # HQ holds the second only
                mark_audio_held(db.conn, old[1], "2026-12-02T10:00:00.000Z")

            answered_call(line, speak("SPEAK:2"), voice, store, pseudonymiser)
            assert route(store)[-1] == "recordingComplete"
            assert store.reads.audio_removed() == [old[1]]
            assert store.recordings.path_of(old[0]).is_file()  # HQ lacks it: kept

            leave_free(disk, "filler-2")
            answered_call(line, speak("SPEAK:2"), voice, store, pseudonymiser)
            assert route(store)[-1] == "noAudio"  # nothing more HQ holds: refused
            (refused,) = store.query("SELECT detail FROM events"
                                     " WHERE kind = 'recording_refused'")
            assert "stays free for answers" in json.loads(refused["detail"])["why"]
        finally:
            store.close()
