"""The shared recorder: silence by RMS over 20 ms frames, max length, trimming, and a file that
is complete and durable before it is reported (temporary name, fsync, rename)."""

from __future__ import annotations

import os
import struct
import wave
from pathlib import Path

import pytest

from edge.lines import Recorder, RecordingFinished, recording_problem, temp_path, write_durably
from edge.lines._recording import BYTES_PER_S, FRAME_BYTES, HEADER_BYTES, pcm_wav, rms
from edge.lines._speech import Speech, speech_pcm


def silence(seconds: float) -> bytes:
    return bytes(int(seconds * BYTES_PER_S))


def record(tmp_path: Path, pcm: bytes, max_s: float = 30, silence_s: float = 2,
           chunk: int = 333, stop: tuple[str, str] | None = None) -> RecordingFinished:
    """Feed ``pcm`` in odd-sized chunks (as RTP payloads may come), then stop if asked."""
    reports: list[RecordingFinished] = []
    recorder = Recorder(1, tmp_path / "call" / "q.wav", max_s, silence_s, reports.append,
                        background=False)
    for start in range(0, len(pcm), chunk):
        recorder.feed(pcm[start:start + chunk])
    if stop:
        recorder.stop(*stop)
    recorder.stop("stopped")  # a second stop changes nothing
    assert len(reports) == 1
    return reports[0]


def test_speech_then_silence_ends_on_silence_with_the_silence_trimmed(tmp_path: Path) -> None:
    report = record(tmp_path, silence(1) + speech_pcm(2.0) + silence(5), silence_s=2)
    assert report.reason == "silence" and report.path == tmp_path / "call" / "q.wav"
    # 0.2 s kept before the first word, 0.3 s after the last
    assert report.seconds == pytest.approx(2.5, abs=0.03)
    assert recording_problem(report.path) is None
    with wave.open(str(report.path)) as wav:
        assert (wav.getnchannels(), wav.getsampwidth(), wav.getframerate()) == (1, 2, 8000)
        assert wav.getnframes() == round(report.seconds * 8000)
    assert not temp_path(report.path).exists()


def test_nothing_said_keeps_no_file(tmp_path: Path) -> None:
    report = record(tmp_path, silence(3), silence_s=2)
    assert report == RecordingFinished(1, None, 0.0, "silence")
    assert not (tmp_path / "call").exists() or not any((tmp_path / "call").iterdir())


def test_max_length_cuts_a_long_message(tmp_path: Path) -> None:
    report = record(tmp_path, speech_pcm(6.0), max_s=4)
    assert report.reason == "max" and report.seconds == pytest.approx(4.0, abs=0.03)


def test_a_finish_key_or_a_hang_up_stops_it_with_what_was_said(tmp_path: Path) -> None:
    report = record(tmp_path, speech_pcm(3.0), stop=("key", "#"))
    assert (report.reason, report.key) == ("key", "#")
    assert report.seconds == pytest.approx(3.0, abs=0.03)
    assert record(tmp_path, speech_pcm(1.0), stop=("hangup", "")).reason == "hangup"


def test_silence_zero_never_ends_on_silence(tmp_path: Path) -> None:
    report = record(tmp_path, speech_pcm(1.0) + silence(8), max_s=60, silence_s=0,
                    stop=("stopped", ""))
    assert report.reason == "stopped"


def test_silence_is_judged_by_rms_over_20ms_frames() -> None:
    quiet = struct.pack("<160h", *([300, -300] * 80))
    loud = struct.pack("<160h", *([3000, -3000] * 80))
    assert len(quiet) == FRAME_BYTES
    assert rms(quiet) == pytest.approx(300) and rms(loud) == pytest.approx(3000)
    speech = speech_pcm(2.0)
    frames = [speech[i:i + FRAME_BYTES] for i in range(0, len(speech), FRAME_BYTES)]
    assert min(rms(f) for f in frames) > 400  # every frame of the made-up speech is heard


def test_a_write_that_fails_reports_failed_and_leaves_nothing(tmp_path: Path) -> None:
    (tmp_path / "call").write_text("a file where the directory should be")
    report = record(tmp_path, speech_pcm(1.0))
    assert report.reason == "failed" and report.path is None


def test_a_report_comes_on_its_own_thread_after_the_file_is_in_place(tmp_path: Path) -> None:
    seen: list[tuple[RecordingFinished, bool]] = []
    path = tmp_path / "q.wav"
    recorder = Recorder(4, path, 10, 1, lambda r: seen.append((r, path.is_file())))
    recorder.feed(speech_pcm(1.0) + silence(1.5))
    assert recorder.done.wait(5)
    ((report, existed),) = seen
    assert existed and report.reason == "silence" and report.record_id == 4


def test_recording_problem_finds_every_kind_of_bad_file(tmp_path: Path) -> None:
    good = tmp_path / "good.wav"
    write_durably(good, pcm_wav(speech_pcm(0.5)))
    assert recording_problem(good) is None
    cases = {
        "missing.wav": None,
        "empty.wav": b"",
        "text.wav": b"hello, not a recording at all " * 3,
        "cut.wav": good.read_bytes()[:-1000],
        "silent.wav": pcm_wav(b""),
    }
    problems = {}
    for name, data in cases.items():
        if data is not None:
            (tmp_path / name).write_bytes(data)
        problems[name] = recording_problem(tmp_path / name)
    assert problems["missing.wav"] == "not found"
    assert problems["empty.wav"] == "is empty"
    assert problems["text.wav"] == "is not a WAV file"
    assert problems["cut.wav"].startswith("is incomplete")
    assert problems["silent.wav"] == "has no sound in it"
    loud16k = tmp_path / "16k.wav"
    with wave.open(str(loud16k), "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(16000)
        wav.writeframes(speech_pcm(0.5))
    assert recording_problem(loud16k) == "is not 8 kHz 16-bit mono PCM WAV"


def test_write_durably_never_leaves_a_half_file_at_the_final_name(tmp_path: Path,
                                                                 monkeypatch) -> None:
    path = tmp_path / "a" / "b" / "m.wav"
    synced: list[int] = []
    real_fsync = os.fsync
    monkeypatch.setattr(os, "fsync", lambda fd: synced.append(fd) or real_fsync(fd))
    write_durably(path, pcm_wav(speech_pcm(0.3)))
    assert recording_problem(path) is None and not temp_path(path).exists()
    assert len(synced) >= 4  # the file, its directory, and each directory made for it
    assert HEADER_BYTES + round(0.3 * BYTES_PER_S) == path.stat().st_size


def test_speech_parses_seconds_a_file_and_what_follows(tmp_path: Path) -> None:
    assert Speech.parse("1.5", "HANGUP").pcm == speech_pcm(1.5)
    assert Speech.parse("2;#", "HANGUP").then == "#"
    assert Speech.parse("2;HANGUP", "HANGUP").then == "HANGUP"
    wav = tmp_path / "hello.wav"
    write_durably(wav, pcm_wav(speech_pcm(0.4)))
    assert Speech.parse(f"{wav};9", "HANGUP").pcm == speech_pcm(0.4)
    with pytest.raises(ValueError):
        Speech.parse("2;later", "HANGUP")
