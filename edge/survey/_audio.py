"""Recordings a survey plays: can the box decode them, and DTMF tones as a recording.

Every line plays WAV (PCM, mu-law or A-law: what telephony tools write); a file that is
empty, cut short or in another format would play as silence, so the checker refuses it.
"""

from __future__ import annotations

import io
import math
import struct
import wave
from pathlib import Path

# WAVE format tags the lines convert: PCM, IEEE float, A-law, mu-law, extensible.
_PLAYABLE = {1: "PCM", 3: "float", 6: "A-law", 7: "mu-law", 0xFFFE: "extensible"}


def audio_problem(path: Path) -> str | None:
    """None when ``path`` is a recording the lines can play, else what is wrong with it."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return "not found"
    except OSError as exc:
        return f"cannot be read ({exc.strerror or exc})"
    if not data:
        return "is empty (0 bytes)"
    return wav_problem(data)


def wav_problem(data: bytes) -> str | None:
    if data[:4] != b"RIFF" or data[8:12] != b"WAVE":
        kind = "an MP3 file" if data[:3] == b"ID3" or data[:2] in (b"\xff\xfb", b"\xff\xf3") \
            else "not a WAV file"
        return (f"cannot be decoded: {kind}; convert it to WAV (e.g. 'sox in.mp3 -r 8000 -c 1 "
                "out.wav')")
    pos, tag, frames = 12, None, None
    while pos + 8 <= len(data):
        chunk, size = data[pos:pos + 4], struct.unpack("<I", data[pos + 4:pos + 8])[0]
        if chunk == b"fmt " and size >= 16:
            tag = struct.unpack("<H", data[pos + 8:pos + 10])[0]
        elif chunk == b"data":
            frames = len(data[pos + 8:pos + 8 + size])
        pos += 8 + size + (size & 1)
    if tag is None:
        return "cannot be decoded: a WAV file without its format chunk"
    if tag not in _PLAYABLE:
        return f"cannot be decoded: WAV encoding {tag} (use PCM, mu-law or A-law)"
    if not frames:
        return "has no sound in it (an empty data chunk)"
    return None


# Row and column frequencies of the keypad (ITU-T Q.23).
_ROWS = {"1": 697, "2": 697, "3": 697, "A": 697, "4": 770, "5": 770, "6": 770, "B": 770,
         "7": 852, "8": 852, "9": 852, "C": 852, "*": 941, "0": 941, "#": 941, "D": 941}
_COLUMNS = {"1": 1209, "4": 1209, "7": 1209, "*": 1209, "2": 1336, "5": 1336, "8": 1336,
            "0": 1336, "3": 1477, "6": 1477, "9": 1477, "#": 1477, "A": 1633, "B": 1633,
            "C": 1633, "D": 1633}
DTMF_KEYS = frozenset(_ROWS) | {"w", "W"}


def dtmf_wav(digits: str, rate: int = 8000) -> bytes:
    """Studio's say-play ``digits`` as a recording: 100 ms per tone, 100 ms gaps, ``w`` a half
    second pause. Modems and SIP lines play it like any prompt."""
    frames = bytearray()

    def silence(seconds: float) -> None:
        frames.extend(b"\x00\x00" * int(rate * seconds))

    for key in digits:
        if key in "wW":
            silence(0.5)
            continue
        low, high = _ROWS[key.upper()], _COLUMNS[key.upper()]
        for n in range(int(rate * 0.1)):
            t = n / rate
            sample = 0.35 * (math.sin(2 * math.pi * low * t) + math.sin(2 * math.pi * high * t))
            frames.extend(struct.pack("<h", int(sample * 32767)))
        silence(0.1)
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(bytes(frames))
    return buffer.getvalue()
