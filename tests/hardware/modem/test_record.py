"""Recorded answers on modem lines (issue #13), through the real driver over the pty: a survey's
record state runs on each simulated module, which records what its simulated caller says into
a file of its own format (AMR, encoded with SoX); the line reads it back with the module's
file commands, decodes and trims it, writes it durably and the runner commits the answer.

Durations: the stored WAV holds what the caller said plus at most the recorder's margins
(0.2 s before the first word, 0.3 s after the last, where the recording has that much silence
there), and AMR frames are 20 ms. The caller starts speaking QUIET_S after the tone, which the
recording has begun by (its command follows the tone's end at once; QUIET_S leaves a loaded
2-core machine room for that). So a message of S seconds ended by a key or a hang-up is stored
as S - 0.1 (frame edges) to S + 0.6 seconds (both margins, a frame); measured: 2.76 s for
"SPEAK:2.5;#", 2.2 s for "SPEAK:2;HANGUP". One cut at max length M holds M seconds of which
the first QUIET_S are silence, trimmed to 0.2 s: about M - QUIET_S + 0.2; bounds M - QUIET_S -
0.1 (a caller thread late by up to 0.3 s on a loaded machine) to M + 0.1.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from edge.lines import recording_problem, temp_path
from edge.privacy import Pseudonymiser
from edge.server import run_call
from edge.store import Store
from edge.survey import Survey, compile_survey
from hardware.modem import _capture
from hardware.modem._audiofiles import amr_whole
from hardware.modem._profiles import PROFILES as MODULES
from hardware.modem._recorder import fetch_s

from .conftest import Rig, wait_for

PROFILES = ("sim800", "ec25", "sim7600")
KEY = b"modem-record-test-pseudonym-key-0123"
CALLER = "+255712345678"
MAX_S = 4
QUIET_S = 0.5  # the caller speaks this long after the tone ends

VOICE = {
    "id": "voice", "version": "1", "languages": ["en"],
    "states": [
        {"name": "consent", "type": "yesno", "prompt": {"en": "Leave a message? 1 yes, 2 no."},
         "no": "bye"},
        {"name": "message", "type": "record", "max_length": MAX_S, "timeout": 2,
         "min_length": 1, "prompt": {"en": "Speak after the tone; press hash when done."},
         "recordingComplete": "thanks", "noAudio": "nothing", "hangup": None},
        {"name": "nothing", "type": "say", "prompt": {"en": "We heard no message."},
         "next": "bye"},
        {"name": "thanks", "type": "say", "prompt": {"en": "Your message is saved."},
         "next": "bye"},
        {"name": "bye", "type": "end", "prompt": {"en": "Goodbye."}},
    ],
}


@pytest.fixture(autouse=True)
def _sox() -> None:
    """SoX with AMR-NB (Debian: sox + libsox-fmt-base): a missing tool fails under CI."""
    if not _capture.available():
        why = "sox with AMR-NB support is not installed (apt-get install sox)"
        if os.environ.get("CI") == "true":
            pytest.fail(why)
        pytest.skip(why)


@pytest.fixture
def voice() -> Survey:
    survey, problems = compile_survey(VOICE, None)
    assert survey is not None and not [p for p in problems if p.severity == "error"], problems
    return survey


@pytest.fixture
def store(tmp_path: Path) -> Any:
    opened = Store.open(tmp_path / "store", box_id="t")
    yield opened
    opened.close()


def _call(rig_factory, store: Store, voice: Survey, profile: str, said: str,
          **sim_args: object) -> tuple[Rig, str]:
    rig = rig_factory(profile, sim_args={"tts_char_s": 0.002, **sim_args})
    rig.wait_ready()
    caller = rig.sim.run_caller(CALLER, ["1", said], quiet_s=QUIET_S)
    wait_for(lambda: rig.calls)
    disposition = run_call(rig.calls[0], voice, store, Pseudonymiser(KEY))
    caller.join(3)  # done, or waiting for a prompt that will not come: the call is over
    return rig, disposition


def _files(store: Store) -> list[str]:
    root = store.recordings.root
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()) \
        if root.is_dir() else []


def _route(store: Store) -> list[dict]:
    return [json.loads(r["detail"]) for r in store.query(
        "SELECT detail FROM events WHERE kind = 'route' ORDER BY id")]


def _the_message(store: Store) -> tuple[dict, dict]:
    (answer,) = store.query("SELECT * FROM answers WHERE question = 'message'")
    (audio,) = store.reads.audio()
    assert answer["value"] == audio["reference"] and audio["answer_id"] == answer["id"]
    path = store.recordings.path_of(audio["reference"])
    assert recording_problem(path) is None
    assert audio["bytes"] == path.stat().st_size
    assert audio["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()
    assert audio["format"] == "wav/pcm_s16le/8000/1"
    assert _files(store) == [audio["reference"]]  # nothing else left on disk
    return answer, audio


def _nothing_left_on_the_module(rig: Rig) -> None:
    model = rig.sim.model
    wait_for(lambda: not any(name in model.files for name in model.recorded))


@pytest.mark.parametrize("profile", PROFILES)
def test_a_message_ends_on_the_finish_key(rig_factory, store: Store, voice: Survey,
                                          profile: str) -> None:
    rig, disposition = _call(rig_factory, store, voice, profile, "SPEAK:2.5;#")
    assert disposition == "complete"
    answer, audio = _the_message(store)
    assert answer["raw"] == "#" and 2.4 <= audio["seconds"] <= 3.1
    (route,) = _route(store)
    assert route["event"] == "recordingComplete" and route["reason"] == "key"
    # The module wrote its own format, and its copy is gone once read back.
    assert len(rig.sim.model.recorded) == 1
    _nothing_left_on_the_module(rig)
    # The caller heard the thanks: the survey went on after the message.
    assert "Your message is saved." in rig.sim.snapshot()["heard"]


@pytest.mark.parametrize("profile", PROFILES)
def test_max_length_ends_it(rig_factory, store: Store, voice: Survey, profile: str) -> None:
    rig, disposition = _call(rig_factory, store, voice, profile, "SPEAK:10")
    assert disposition == "complete"
    answer, audio = _the_message(store)
    assert answer["raw"] == "" and MAX_S - QUIET_S - 0.1 <= audio["seconds"] <= MAX_S + 0.1
    (route,) = _route(store)
    assert route["event"] == "recordingComplete" and route["reason"] == "max"
    _nothing_left_on_the_module(rig)


@pytest.mark.parametrize("profile", PROFILES)
def test_a_refused_record_command_takes_no_audio(rig_factory, store: Store, voice: Survey,
                                                 profile: str) -> None:
    rig, disposition = _call(rig_factory, store, voice, profile, "SPEAK:2;#",
                             variants={"record_fails=1"})
    assert disposition == "complete"
    (route,) = _route(store)
    assert route["event"] == "noAudio" and route["reason"] == "failed"
    assert store.reads.audio() == [] and _files(store) == []
    assert rig.sim.model.recorded == []


@pytest.mark.parametrize("profile", PROFILES)
def test_a_download_cut_short_keeps_nothing_half(rig_factory, store: Store, voice: Survey,
                                                 profile: str) -> None:
    rig, disposition = _call(rig_factory, store, voice, profile, "SPEAK:2;#",
                             variants={"download_cut=1"})
    assert disposition == "complete"
    (route,) = _route(store)
    assert route["event"] == "noAudio" and route["reason"] == "failed"
    # No row names a file, and no file (whole or half) is left under recordings/.
    assert store.reads.audio() == [] and _files(store) == []
    assert [r["question"] for r in store.reads.answers()] == ["consent"]
    _nothing_left_on_the_module(rig)


def test_hanging_up_mid_message_keeps_the_message(rig_factory, store: Store,
                                                  voice: Survey) -> None:
    rig, disposition = _call(rig_factory, store, voice, "ec25", "SPEAK:2;HANGUP")
    assert disposition == "complete"
    _answer, audio = _the_message(store)
    assert 1.9 <= audio["seconds"] <= 2.6
    (route,) = _route(store)
    assert route["event"] == "hangup" and route["reason"] == "hangup"
    _nothing_left_on_the_module(rig)


def test_nothing_said_keeps_no_file(rig_factory, store: Store, voice: Survey) -> None:
    # Modules cannot stop on silence: the message runs to its max length, then the file
    # (silence only) is not kept, and the survey hears the caller's silence.
    _rig, disposition = _call(rig_factory, store, voice, "sim800", "SPEAK:0")
    (route,) = _route(store)
    assert route["event"] == "noAudio" and route["reason"] == "silence"
    assert disposition == "no-input"  # the caller silent, as the simulated line says it
    assert store.reads.audio() == [] and _files(store) == []


def test_the_module_gone_mid_message_leaves_no_file(rig_factory, tmp_path: Path) -> None:
    """Unplugged while recording: reported failed, and no file (whole or half) at the name
    or its temporary name."""
    from edge.lines import RecordingFinished

    rig = rig_factory("sim7600", sim_args={"tts_char_s": 0.002})
    rig.wait_ready()
    call = rig.ring()
    call.answer()
    reports: list[RecordingFinished] = []
    path = tmp_path / "rec" / "m.wav"
    call.record(1, path, 30.0, 0.0, "#")
    rig.sim.speak(1.0)
    wait_for(lambda: rig.sim.model.recording is not None)
    rig.sim.unplug(0.5)  # the module goes mid-message
    while (event := call.next_event(15.0)) is not None:
        if isinstance(event, RecordingFinished):
            reports.append(event)
            break
    assert [r.reason for r in reports] == ["failed"]
    assert not path.exists() and not temp_path(path).exists()


def test_a_finish_key_before_the_module_answered_still_reports_once(rig_factory,
                                                                     tmp_path: Path) -> None:
    from edge.lines import KeyPressed, RecordingFinished

    rig = rig_factory("ec25", sim_args={"tts_char_s": 0.002})
    rig.wait_ready()
    rig.sim.fault(slow_s=0.5, slow_count=1, slow_command="+QAUDRD")
    call = rig.ring()
    call.answer()
    path = tmp_path / "rec" / "m.wav"
    call.record(1, path, 30.0, 2.0, "#")
    call.post(KeyPressed("#"))  # as the port thread does, before the record command's OK
    call.post(KeyPressed("#"))  # a second press changes nothing
    events = []
    while (event := call.next_event(10.0)) is not None:
        events.append(event)
        if isinstance(event, RecordingFinished):
            break
    assert events == [RecordingFinished(1, None, 0.0, "key", "#")]  # nothing said: no file
    assert call.next_event(0.5) is None
    assert not path.exists()
    _nothing_left_on_the_module(rig)


def test_grace_after_a_hang_up_covers_the_read_back() -> None:
    # A 120 s message at 115200 baud: AMR-NB 12.2 kbit/s is 1600 bytes a second, 192 kB,
    # 16.7 s on the wire (10 bits a byte), twice that for a slow module, plus guards.
    spec = MODULES["sim800"].recording
    assert spec is not None
    assert 40 <= fetch_s(spec, 120, 115200) <= 75
    # Over USB (the baud is nominal) or for short messages the server's 30 s stand.
    assert fetch_s(spec, 30, 921600) < 30


def test_sox_decodes_what_the_modules_write(tmp_path: Path) -> None:
    from edge.lines._speech import speech_pcm

    raw = tmp_path / "in.raw"
    raw.write_bytes(b"\0\0" * 4000 + speech_pcm(1.0) + b"\0\0" * 8000)
    for mode in ("0", "7"):
        amr = tmp_path / f"m{mode}.amr"
        subprocess.run([shutil.which("sox") or "sox", "-q", "-t", "raw", "-r", "8000", "-e",
                        "signed-integer", "-b", "16", "-c", "1", "-L", str(raw), "-t",
                        "amr-nb", "-C", mode, str(amr)], check=True)
        data = amr.read_bytes()
        # A read-back with a line slipped into it, or cut short, is not whole AMR.
        assert amr_whole(data) and not amr_whole(data[:20])  # cut inside a frame
        assert not amr_whole(data[:99] + b"\r\n+DTMF: 1\r\n" + data[99:])
        pcm = _capture.decode(data, "amr")
        assert abs(len(pcm) / 16000 - 2.5) < 0.05
        kept = _capture.trim(pcm)
        assert kept is not None and 1.3 <= _capture.seconds(kept) <= 1.6
    assert _capture.trim(b"\0\0" * 8000) is None
    with pytest.raises(_capture.DecodeFailed):
        _capture.decode(b"not audio", "amr")
