"""Prompt conversion to 8 kHz mono 16-bit linear, the cache, and text prompts."""

from __future__ import annotations

import audioop
import math
import shutil
import struct
import wave
from pathlib import Path

import pytest

from hardware.sip._audio import PromptCache, PromptUnavailable, to_line_format


def write_wav(path: Path, rate: int, width: int, channels: int, seconds: float = 0.5,
              freq: float = 500.0) -> None:
    n = int(rate * seconds)
    peak = (1 << (8 * width - 1)) - 1
    frames = bytearray()
    for i in range(n):
        v = round(0.5 * peak * math.sin(2 * math.pi * freq * i / rate))
        sample = (v + 128).to_bytes(1, "little") if width == 1 else v.to_bytes(
            width, "little", signed=True)
        frames += sample * channels
    with wave.open(str(path), "wb") as w:
        w.setnchannels(channels)
        w.setsampwidth(width)
        w.setframerate(rate)
        w.writeframes(bytes(frames))


def tone_fit(audio: bytes, freq: float = 500.0) -> float:
    """How well a 500 Hz sine at 8 kHz fits the 16-bit audio (findfit's scale factor)."""
    ref = b"".join(struct.pack("<h", round(15360 * math.sin(2 * math.pi * freq * i / 8000)))
                   for i in range(len(audio) // 2))
    _offset, factor = audioop.findfit(audio, ref[: len(ref) // 2])
    return abs(factor)


@pytest.mark.parametrize(
    ("rate", "width", "channels"),
    [(8000, 1, 1), (8000, 2, 1), (16000, 2, 2), (44100, 2, 1), (48000, 3, 2), (22050, 4, 6)],
)
def test_any_wav_becomes_8k_mono_16bit(tmp_path, rate, width, channels):
    path = tmp_path / "p.wav"
    write_wav(path, rate, width, channels)
    audio = to_line_format(path.read_bytes())
    assert abs(len(audio) - 8000) <= 16  # 0.5 s at 8 kHz, two bytes a sample
    rms = audioop.rms(audio, 2)
    assert 11000 < rms < 12100  # half scale sine: 32767 * 0.5 / sqrt(2) = 11585
    assert tone_fit(audio) > 0.5  # still the 500 Hz tone, not noise


def test_mulaw_wav(tmp_path):
    lin = b"".join(struct.pack("<h", round(16000 * math.sin(2 * math.pi * 500 * i / 8000)))
                   for i in range(4000))
    data = audioop.lin2ulaw(lin, 2)
    fmt = struct.pack("<HHIIHH", 7, 1, 8000, 8000, 1, 8)
    body = b"WAVE" + b"fmt " + struct.pack("<I", 16) + fmt + b"data" + struct.pack(
        "<I", len(data)) + data
    audio = to_line_format(b"RIFF" + struct.pack("<I", len(body)) + body)
    assert audio == audioop.ulaw2lin(data, 2)  # decoded, nothing else done: exact


def test_not_a_wav(tmp_path):
    with pytest.raises(PromptUnavailable):
        to_line_format(b"ID3 not a wav")


def test_converted_once_and_cached(tmp_path):
    path = tmp_path / "p.wav"
    write_wav(path, 16000, 2, 1)
    cache = PromptCache(tmp_path / "data", espeak="")
    first = cache.wav(path)
    files = list((tmp_path / "data" / "sip-prompts").glob("*.s16"))
    assert len(files) == 1 and files[0].read_bytes() == first
    path.write_bytes(b"broken now")  # a fresh cache still reads the converted copy...
    import os
    os.utime(path, ns=(files[0].stat().st_mtime_ns, path.stat().st_mtime_ns))
    fresh = PromptCache(tmp_path / "data", espeak="")
    with pytest.raises(PromptUnavailable):  # ...unless the file changed (size/mtime key)
        fresh.wav(path)


def test_text_prompt_without_espeak_says_what_to_do(tmp_path):
    cache = PromptCache(tmp_path, espeak="")
    with pytest.raises(PromptUnavailable, match="install espeak-ng"):
        cache.speech("Hello", "en")


def test_text_prompt_with_espeak(tmp_path):
    espeak = shutil.which("espeak-ng")
    if espeak is None:
        pytest.fail("espeak-ng is required (apt-get install espeak-ng)")
    cache = PromptCache(tmp_path, espeak=espeak)
    audio = cache.speech("Press one for yes.", "en")
    assert len(audio) > 8000 and audioop.rms(audio, 2) > 3 * 256
    assert cache.speech("Press one for yes.", "en") is audio  # from memory the second time
    assert len(cache.speech("Appuyez sur un.", "xx-unknown")) > 8000  # falls back to default


def test_g711_encoded_once_per_prompt_and_codec():
    from hardware.sip._audio import G711Cache

    cache = G711Cache(items=2)
    prompt = bytes(range(256)) * 40
    ulaw = cache.encode(prompt, "PCMU")
    assert cache.encode(prompt, "PCMU") is ulaw  # calls playing it share one copy
    assert ulaw == audioop.lin2ulaw(prompt, 2)
    assert cache.encode(prompt, "PCMA") == audioop.lin2alaw(prompt, 2)
    other = bytes(len(prompt))
    cache.encode(other, "PCMU")  # bounded: the oldest entry goes
    assert cache.encode(prompt, "PCMU") is not ulaw
