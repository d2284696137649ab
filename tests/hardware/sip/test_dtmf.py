"""The in-band DTMF detector (Goertzel), as a pure function over audio frames."""

from __future__ import annotations

import audioop
import math
import random
import struct

import pytest

from hardware.sip._dtmf import InbandDetector, classify, tone


def to_u8(samples: list[float]) -> bytes:
    lin = b"".join(struct.pack("<h", round(32767 * max(-1.0, min(1.0, s)))) for s in samples)
    mu = audioop.lin2ulaw(lin, 2)  # through G.711 as on the wire
    return audioop.bias(audioop.ulaw2lin(mu, 1), 1, 128)


def detect(samples: list[float], frame: int = 160) -> list[str]:
    d = InbandDetector()
    audio = to_u8(samples)
    out: list[str] = []
    for i in range(0, len(audio), frame):
        out += d.feed(audio[i : i + frame])
    return out


def gap(ms: int) -> list[float]:
    return [0.0] * (8 * ms)


@pytest.mark.parametrize("key", list("0123456789*#ABCD"))
def test_every_key(key):
    assert detect(gap(30) + tone(key, 80) + gap(60)) == [key]


def test_held_key_is_one_press_and_repeats_need_a_gap():
    assert detect(tone("5", 900) + gap(60) + tone("5", 60) + gap(60)) == ["5", "5"]


def test_frames_of_any_size():
    samples = gap(20) + tone("7", 100) + gap(80) + tone("#", 100) + gap(80)
    assert detect(samples, frame=37) == ["7", "#"]


def test_silence_noise_and_single_tones_give_nothing():
    rng = random.Random(7)
    noise = [rng.uniform(-0.3, 0.3) for _ in range(8000)]
    single = [0.4 * math.sin(2 * math.pi * 697 * i / 8000) for i in range(4000)]
    speechy = [0.3 * math.sin(2 * math.pi * 300 * i / 8000) + 0.2 * math.sin(
        2 * math.pi * 1100 * i / 8000) for i in range(4000)]
    assert detect(gap(500) + noise + single + speechy) == []


def test_short_blip_ignored():
    assert detect(gap(20) + tone("3", 25) + gap(100)) == []


def test_classify_block():
    block = [round(100 * s) for s in tone("9", 20)]
    assert classify(block) == "9"
    assert classify([0] * 160) is None
