"""Prompt audio as it goes on the wire: the RTP the box sends, decoded from G.711, against the
source recording. Goal (issue #11): >= 30 dB SNR for an 8 kHz prompt at -30 dBFS, >= 28 dB for
a 44.1 kHz stereo one (the 8-bit intermediate gave 4.8 dB; G.711 alone allows ~32 dB).

The prompts are sums of tones inside the telephone band at -30 dBFS; the 44.1 kHz one also
carries tones above 4 kHz (different in each channel), which a resampler without an
anti-alias filter folds back into the band. The reference is the in-band part, computed at
8 kHz.
"""

from __future__ import annotations

import array
import audioop
import math
import shutil
import struct
import time
import wave
from pathlib import Path

import pytest

from edge.lines import PlaybackFinished, Utterance

from .rawsip import RawCaller, sdp

# Frequencies with no common period, so the prompt is found at one offset only.
IN_BAND = ((311.3, 0.3), (687.7, 1.9), (1129.1, 4.1), (1871.9, 2.6), (2933.3, 5.5))
ABOVE = (((5213.7, 0.7), (11093.1, 2.2)), ((7307.9, 1.1), (14711.3, 3.3)))  # per channel
LEVEL_DBFS = -30.0
ABOVE_DBFS = -36.0  # each channel's out-of-band part, RMS
SECONDS = 2.0


def _tones(tones: tuple[tuple[float, float], ...], t: float) -> float:
    return sum(math.sin(2 * math.pi * f * t + phase) for f, phase in tones)


def _scale(tones: tuple[tuple[float, float], ...], dbfs: float) -> float:
    # A sum of sines of distinct frequencies has RMS sqrt(count / 2).
    return 32768 * 10 ** (dbfs / 20) / math.sqrt(len(tones) / 2)


def write_prompt(path: Path, rate: int, channels: int) -> None:
    n = int(rate * SECONDS)
    inband = _scale(IN_BAND, LEVEL_DBFS)
    frames = bytearray()
    for i in range(n):
        t = i / rate
        base = inband * _tones(IN_BAND, t)
        for ch in range(channels):
            extra = _scale(ABOVE[ch], ABOVE_DBFS) * _tones(ABOVE[ch], t) if rate > 8000 else 0
            frames += struct.pack("<h", round(base + extra))
    with wave.open(str(path), "wb") as w:
        w.setnchannels(channels)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(bytes(frames))


def reference(start_s: float, seconds: float) -> bytes:
    inband = _scale(IN_BAND, LEVEL_DBFS)
    return b"".join(struct.pack("<h", round(inband * _tones(IN_BAND, (start_s * 8000 + i) / 8000)))
                    for i in range(int(seconds * 8000)))


def snr_db(decoded: bytes) -> tuple[float, float]:
    """(SNR in dB, gain) of the prompt found in ``decoded`` (16-bit) against the reference:
    the middle second, away from the resampler's edges."""
    ref = reference(0.5, 1.0)
    offset, factor = audioop.findfit(decoded, ref)
    got = array.array("h", decoded[offset * 2 : offset * 2 + len(ref)])
    want = array.array("h", ref)
    noise = sum((a - b) ** 2 for a, b in zip(got, want, strict=True))
    signal = sum(b * b for b in want)
    return 10 * math.log10(signal / max(noise, 1e-9)), factor


def wire_audio(line, prompt: Path, codec_formats: str = "0 101") -> bytes:
    """Call the box, let it play ``prompt``, decode what it sent (G.711 -> 16-bit)."""
    caller = RawCaller(line.port)
    try:
        caller.sip.settimeout(5)
        import threading

        result: dict[str, object] = {}

        def serve() -> None:
            call = line.next_call()
            call.answer()
            call.play(1, [Utterance("quality", "en", "", audio=prompt)])
            end = time.monotonic() + SECONDS + 5
            while time.monotonic() < end:
                if isinstance(call.next_event(0.2), PlaybackFinished):
                    break
            time.sleep(0.2)
            call.hang_up()
            result["done"] = True

        server = threading.Thread(target=serve, daemon=True)
        server.start()
        response = caller.invite(sdp(caller.rtp_port, formats=codec_formats))
        assert response.code == 200
        caller.ack()
        packets = [p for _, p in caller.rtp_packets(SECONDS + 1.0)]
        server.join(10)
    finally:
        caller.close()
    packets.sort(key=lambda p: struct.unpack(">H", p[2:4])[0])
    payload = b"".join(p[12:] for p in packets)
    pt = packets[0][1] & 0x7F
    return (audioop.alaw2lin if pt == 8 else audioop.ulaw2lin)(payload, 2)


def test_8k_prompt_keeps_30_db_on_the_wire(make_line, tmp_path):
    prompt = tmp_path / "8k.wav"
    write_prompt(prompt, 8000, 1)
    line = make_line(data_dir=tmp_path / "data")
    snr, gain = snr_db(wire_audio(line, prompt))
    assert 0.95 < gain < 1.05
    assert snr >= 30.0, snr


def test_44k_stereo_prompt_keeps_28_db_on_the_wire(make_line, tmp_path):
    if shutil.which("sox") is None:
        pytest.fail("sox is required (apt-get install sox): it resamples the prompts")
    prompt = tmp_path / "44k.wav"
    write_prompt(prompt, 44100, 2)
    line = make_line(data_dir=tmp_path / "data")
    snr, gain = snr_db(wire_audio(line, prompt))
    assert 0.95 < gain < 1.05
    assert snr >= 28.0, snr


def test_pcma_keeps_the_quality_too(make_line, tmp_path):
    prompt = tmp_path / "8k.wav"
    write_prompt(prompt, 8000, 1)
    line = make_line(data_dir=tmp_path / "data", codecs=["PCMA"])
    snr, _ = snr_db(wire_audio(line, prompt, "8 101"))
    assert snr >= 30.0, snr


def test_resampler_is_not_the_limit(tmp_path):
    """Before G.711: sox keeps the band clean; audioop's ratecv (the fallback without sox)
    lets the tones above 4 kHz fold in."""
    from hardware.sip._audio import to_line_format
    from hardware.sip._resample import RatecvResampler, sox_path

    sox = sox_path()
    if sox is None:
        pytest.fail("sox is required (apt-get install sox)")
    from hardware.sip._resample import SoxResampler

    prompt = tmp_path / "44k.wav"
    write_prompt(prompt, 44100, 2)
    with_sox, _ = snr_db(to_line_format(prompt.read_bytes(), SoxResampler(sox)))
    with_ratecv, _ = snr_db(to_line_format(prompt.read_bytes(), RatecvResampler()))
    assert with_sox >= 50.0, with_sox
    assert with_ratecv < with_sox - 10, (with_ratecv, with_sox)
