"""What a simulated caller says into a recording: speech-like sound made up on the spot, or a
WAV file. Only the simulated line uses it (tests and the demo leave messages with it)."""

from __future__ import annotations

import array
import functools
import math
import random
import sys
import wave
from dataclasses import dataclass
from pathlib import Path

from ._recording import RATE


@functools.lru_cache(maxsize=32)
def speech_pcm(seconds: float, seed: int = 7) -> bytes:
    """``seconds`` of something shaped like speech, 8 kHz 16-bit: a voice-like buzz (a
    wandering 110-190 Hz fundamental and its harmonics, some noise) shaped into syllables four
    or five times a second. Every 20 ms of it is louder than the recorder's silence level, so
    only the silence after it ends a recording."""
    rng = random.Random(seed)
    samples = array.array("h")
    phase = 0.0
    for n in range(round(seconds * RATE)):
        t = n / RATE
        pitch = 150 + 40 * math.sin(2 * math.pi * 0.7 * t)
        phase += 2 * math.pi * pitch / RATE
        voice = sum(math.sin(h * phase) / h for h in (1, 2, 3, 4))
        syllables = 0.65 + 0.35 * math.sin(2 * math.pi * 4.5 * t)
        value = 5000 * syllables * voice + rng.gauss(0, 300)
        samples.append(max(-32768, min(32767, int(value))))
    if sys.byteorder == "big":
        samples.byteswap()
    return samples.tobytes()


@dataclass(frozen=True)
class Speech:
    """``pcm``: the sound (8 kHz 16-bit mono); ``then``: keys pressed or ``HANGUP`` once it is
    over ("" for nothing: silence follows)."""

    pcm: bytes
    then: str = ""

    @classmethod
    def silence(cls) -> Speech:
        return cls(b"")

    @classmethod
    def parse(cls, text: str, hangup: str) -> Speech:
        """``3.5``, ``3.5;#``, ``10;HANGUP``, ``message.wav`` or ``message.wav;HANGUP``."""
        what, _, then = text.partition(";")
        then = then.strip()
        if then != hangup and any(k not in "0123456789*#ABCD" for k in then):
            raise ValueError(f"after speaking, keys or {hangup}, not {then!r}")
        try:
            seconds = float(what)
        except ValueError:
            return cls(_wav_pcm(Path(what.strip())), then)
        if not 0 <= seconds <= 3600:
            raise ValueError(f"speech of {seconds} s: expected 0 to 3600")
        return cls(speech_pcm(seconds), then)


def _wav_pcm(path: Path) -> bytes:
    with wave.open(str(path)) as wav:
        shape = (wav.getnchannels(), wav.getsampwidth(), wav.getframerate())
        if shape != (1, 2, RATE):
            raise ValueError(f"{path}: a caller's speech must be 8 kHz 16-bit mono WAV")
        return wav.readframes(wav.getnframes())
