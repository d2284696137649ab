"""Recorded prompts on the module (issue #13), through the real driver over the pty: converted
once with SoX, uploaded with each module's file commands, played from its storage with the end
of play taken from its report (or its length when the report is lost), TTS when a recording is
not on the module; a restart uploads nothing unchanged; doctor says what each module holds."""

from __future__ import annotations

import math
import os
import re
import shutil
import struct
import subprocess
import time
import wave
from pathlib import Path

import pytest

from edge.lines import PlaybackFinished, Utterance
from hardware.modem import _audiofiles
from hardware.modem._convert import ConversionFailed, Converter

from .conftest import Rig, wait_for

PROFILES = ("sim800", "ec25", "sim7600")


@pytest.fixture(autouse=True)
def _sox() -> None:
    """SoX with AMR-NB (Debian: sox + libsox-fmt-base): a missing tool fails under CI."""
    found = shutil.which("sox")
    amr = found is not None and "amr-nb" in subprocess.run(
        [found, "-h"], capture_output=True, text=True, check=False).stdout
    if not amr:
        why = "sox with AMR-NB support is not installed (apt-get install sox)"
        if os.environ.get("CI") == "true":
            pytest.fail(why)
        pytest.skip(why)


def _wav(path: Path, seconds: float, *, hz: float = 440.0, rate: int = 16000,
         channels: int = 2) -> Path:
    """A recording as authors make them: any rate, stereo."""
    with wave.open(str(path), "wb") as out:
        out.setnchannels(channels)
        out.setsampwidth(2)
        out.setframerate(rate)
        frames = bytearray()
        for n in range(int(rate * seconds)):
            sample = int(8000 * math.sin(2 * math.pi * hz * n / rate))
            frames += struct.pack("<h", sample) * channels
        out.writeframes(bytes(frames))
    return path


@pytest.fixture
def recordings(tmp_path: Path) -> list[tuple[str, str, Path]]:
    folder = tmp_path / "survey"
    folder.mkdir()
    return [("welcome.prompt", "en", _wav(folder / "welcome.wav", 0.6)),
            ("q1.prompt", "en", _wav(folder / "q1.wav", 0.4, hz=660))]


def _rig(rig_factory, profile: str, recordings, **sim_args: object) -> Rig:
    rig = rig_factory(profile, recordings=lambda: recordings,
                      sim_args={"tts_char_s": 0.002, "play_scale": 1.0, **sim_args})
    rig.wait_ready()
    wait_for(lambda: len(rig.line.status().facts.get("recordings_held", [])) +
             len(rig.line.status().facts.get("recordings_tts", {})) == len(recordings))
    return rig


def _finished(call, play_id: int, timeout: float = 10.0) -> float:
    deadline = time.monotonic() + timeout
    while (left := deadline - time.monotonic()) > 0:
        if call.next_event(left) == PlaybackFinished(play_id):
            return time.monotonic()
    raise AssertionError(f"no PlaybackFinished({play_id})")


def _play(call, play_id: int, key: str, text: str, audio: Path | None) -> float:
    started = time.monotonic()
    call.play(play_id, [Utterance(key, "en", text, audio)])
    return _finished(call, play_id) - started


@pytest.mark.parametrize("profile", PROFILES)
def test_uploaded_once_played_from_the_module(rig_factory, tmp_path: Path, recordings,
                                              profile: str) -> None:
    rig = _rig(rig_factory, profile, recordings)
    facts = rig.line.status().facts
    assert facts["recordings_held"] == ["q1.prompt/en", "welcome.prompt/en"]
    assert facts["recordings_tts"] == {}
    files = rig.sim.snapshot()["files"]
    assert len(files) == 2
    stored = rig.sim.model.files[files[0]]
    if profile == "sim800":
        assert stored.startswith(b"#!AMR\n")  # AMR-NB, as AT+CREC plays it
    else:
        assert stored[:4] == b"RIFF" and struct.unpack("<I", stored[24:28])[0] == 8000
    call = rig.ring()
    call.answer()
    took = _play(call, 1, "welcome.prompt", "Welcome", recordings[0][2])
    assert 0.55 <= took < 1.6  # its real length, ended by the module's report
    _play(call, 2, "q1.prompt", "Question one", recordings[1][2])
    heard = rig.sim.snapshot()["heard"]
    assert len(heard) == 2 and all(h.startswith("file:") for h in heard)
    assert rig.sim.model.tts_started == 0
    # A restart (here: a second line on the same module and data dir) uploads nothing.
    uploads = rig.sim.model.uploads
    rig.line.stop()
    again = Rig(rig.sim, tmp_path, recordings=lambda: recordings, status_poll_s=2.0)
    again.start()
    try:
        again.wait_ready()
        wait_for(lambda: len(again.line.status().facts.get("recordings_held", [])) == 2)
        time.sleep(0.5)
        assert rig.sim.model.uploads == uploads
    finally:
        again.line.stop()


def test_a_changed_recording_is_uploaded_again(rig_factory, tmp_path: Path,
                                               recordings) -> None:
    rig = _rig(rig_factory, "ec25", recordings)
    uploads = rig.sim.model.uploads
    rig.line.stop()
    _wav(recordings[1][2], 0.5, hz=880)  # the author re-recorded question one
    again = Rig(rig.sim, tmp_path, recordings=lambda: recordings, status_poll_s=2.0)
    again.start()
    try:
        again.wait_ready()
        wait_for(lambda: rig.sim.model.uploads == uploads + 1)
        wait_for(lambda: len(again.line.status().facts.get("recordings_held", [])) == 2)
        assert len(rig.sim.snapshot()["files"]) == 3  # the old copy stays; nothing plays it
    finally:
        again.line.stop()


@pytest.mark.parametrize("profile", PROFILES)
def test_a_lost_end_report_costs_that_prompt_its_guard_only(rig_factory, recordings,
                                                            profile: str) -> None:
    rig = _rig(rig_factory, profile, recordings, variants={"lost_play_done=1"})
    call = rig.ring()
    call.answer()
    took = _play(call, 1, "welcome.prompt", "Welcome", recordings[0][2])
    assert took < 1.5 * 0.6 + 2.5  # the timing guard, as for TTS
    took = _play(call, 2, "q1.prompt", "Question one", recordings[1][2])
    assert took < 0.4 + 1.0  # the next one is reported again: no delay after the loss


@pytest.mark.parametrize("profile", PROFILES)
def test_a_failed_upload_falls_back_to_tts(rig_factory, recordings, profile: str) -> None:
    rig = _rig(rig_factory, profile, recordings, variants={"upload_fails=1"})
    facts = rig.line.status().facts
    (label, reason), = facts["recordings_tts"].items()
    assert reason.startswith("upload:") and len(facts["recordings_held"]) == 1
    failed = next(r for r in recordings if f"{r[0]}/{r[1]}" == label)
    call = rig.ring()
    call.answer()
    _play(call, 1, failed[0], "Spoken instead", failed[2])
    assert rig.sim.snapshot()["heard"] == ["Spoken instead"]


def test_a_file_gone_from_the_module_is_spoken_then_uploaded_again(rig_factory,
                                                                   recordings) -> None:
    rig = _rig(rig_factory, "sim800", recordings)
    name = next(n for n in rig.sim.snapshot()["files"])
    rig.sim._do(lambda m: m.files.pop(name))  # someone cleaned the module's storage
    call = rig.ring()
    call.answer()
    for play_id, (key, _lang, path) in enumerate(recordings, 1):
        _play(call, play_id, key, f"text of {key}", path)
    heard = rig.sim.snapshot()["heard"]
    assert sum(h.startswith("text of") for h in heard) == 1  # the missing one, spoken
    call.hang_up()
    wait_for(lambda: name in rig.sim.snapshot()["files"])  # back once the line was idle


def test_doctor_lists_what_the_module_holds(rig_factory, tmp_path: Path, recordings,
                                            capsys: pytest.CaptureFixture) -> None:
    import json

    from edge.cli import main

    rig = _rig(rig_factory, "sim800", recordings, variants={"upload_fails=1"})
    rig.line.stop()  # doctor runs with the service stopped: the port is free
    assert main(["init", str(tmp_path / "box")]) == 0
    config = tmp_path / "box" / "edgecall.toml"
    # The box's data dir is where the line kept what it uploaded.
    text = re.sub(r'(?m)^data_dir = ".*"$', f'data_dir = "{tmp_path}"', config.read_text())
    config.write_text(text + f'\n[modem]\nport = "{rig.sim.path}"\nprofile = "sim800"\n')
    capsys.readouterr()
    main(["doctor", "--config", str(config), "--json"])
    out = capsys.readouterr().out
    checks = {c["name"]: c for c in json.loads(out[out.index("{\n"):])["checks"]}
    check = checks["modem prompts"]
    assert check["status"] == "warn"
    assert "1 recorded prompt" in check["message"] and "TTS" in check["message"]
    assert "upload:" in check["fix"] or "upload:" in json.dumps(check["facts"])


def test_conversion_cache_and_audio_facts(tmp_path: Path, recordings) -> None:
    converter = Converter(tmp_path / "cache")
    first = converter.convert(recordings[0][2], "amr-nb-475")
    again = converter.convert(recordings[0][2], "amr-nb-475")
    assert first == again and len(list((tmp_path / "cache").iterdir())) == 1
    assert abs(first.seconds - 0.6) < 0.03
    wav = converter.convert(recordings[0][2], "wav-8k-s16")
    assert abs(_audiofiles.seconds(wav.path.read_bytes()) - 0.6) < 0.01
    with pytest.raises(ConversionFailed, match="sox"):
        Converter(tmp_path / "c2", tool=str(tmp_path / "no-sox")).convert(
            recordings[1][2], "wav-8k-s16")
    broken = tmp_path / "broken.wav"
    broken.write_bytes(b"RIFF not really")
    with pytest.raises(ConversionFailed):
        converter.convert(broken, "wav-8k-s16")


def test_quectel_checksum() -> None:
    # XOR of big-endian 16-bit words; an odd last byte is the high byte.
    assert _audiofiles.quectel_checksum(b"\x12\x34\x56\x78") == 0x1234 ^ 0x5678
    assert _audiofiles.quectel_checksum(b"\x12\x34\x56") == 0x1234 ^ 0x5600
