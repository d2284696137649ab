"""In-band DTMF: a Goertzel detector over 8 kHz audio frames (pure: bytes in, digits out).

Used when the gateway sends keys as tones in the audio instead of RFC 2833 events or SIP INFO.
numpy is used when installed (one matrix product per block); pure Python otherwise.
"""

from __future__ import annotations

import audioop
import math
from collections.abc import Sequence

ROWS = (697.0, 770.0, 852.0, 941.0)
COLS = (1209.0, 1336.0, 1477.0, 1633.0)
KEYPAD = ("123A", "456B", "789C", "*0#D")
RATE = 8000
BLOCK = 160  # 20 ms: 50 Hz resolution separates the closest DTMF tones (73 Hz apart)

try:  # optional speed-up
    import numpy as _np
except ImportError:  # pragma: no cover - depends on the machine
    _np = None


def _coeffs() -> list[float]:
    return [2.0 * math.cos(2.0 * math.pi * f / RATE) for f in ROWS + COLS]


_COEFFS = _coeffs()


def tone_powers(samples: Sequence[int]) -> list[float]:
    """Goertzel power at the 8 DTMF frequencies, normalised so a pure tone holding all the
    block's energy gives ~1.0 (power / (energy * N / 2))."""
    n = len(samples)
    energy = float(sum(s * s for s in samples)) if _np is None else float(
        _np.dot(_np.asarray(samples, dtype=float), _np.asarray(samples, dtype=float))
    )
    if energy <= 0.0:
        return [0.0] * 8
    powers = []
    if _np is not None:
        x = _np.asarray(samples, dtype=float)
        t = _np.arange(n)
        freqs = _np.asarray(ROWS + COLS)[:, None]
        ang = 2.0 * _np.pi * freqs * t / RATE
        re = (_np.cos(ang) * x).sum(axis=1)
        im = (_np.sin(ang) * x).sum(axis=1)
        powers = list((re * re + im * im) / (energy * n / 2.0))
        return [float(p) for p in powers]
    for coeff in _COEFFS:
        s1 = s2 = 0.0
        for x in samples:
            s1, s2 = x + coeff * s1 - s2, s1
        powers.append((s1 * s1 + s2 * s2 - coeff * s1 * s2) / (energy * n / 2.0))
    return powers


def classify(samples: Sequence[int], min_rms: float = 4.0) -> str | None:
    """The key whose two tones dominate this block, or None (silence, speech, one tone)."""
    n = len(samples)
    if n == 0:
        return None
    powers = tone_powers(samples)
    energy = sum(s * s for s in samples) / n
    if energy < min_rms * min_rms:
        return None
    rows, cols = powers[:4], powers[4:]
    r = max(range(4), key=rows.__getitem__)
    c = max(range(4), key=cols.__getitem__)
    pr, pc = rows[r], cols[c]
    if pr < 0.15 or pc < 0.15 or pr + pc < 0.6:
        return None
    # The runner-up in each group must be well below the winner (rejects chords and speech).
    if sorted(rows)[-2] > pr * 0.3 or sorted(cols)[-2] > pc * 0.3:
        return None
    if not 0.16 <= pr / pc <= 6.3:  # twist within +/- 8 dB
        return None
    return KEYPAD[r][c]


class InbandDetector:
    """Feeds on 8-bit unsigned frames (pyVoIP's audio format); returns a key once per press.

    A key is reported after two consecutive 20 ms blocks agree (40 ms of tone, as ITU-T Q.24
    allows) and again only after two blocks without it.
    """

    def __init__(self) -> None:
        self._pending = bytearray()
        self._candidate: str | None = None
        self._count = 0
        self._active: str | None = None
        self._quiet = 0

    def feed(self, frame_u8: bytes) -> list[str]:
        self._pending += frame_u8
        keys: list[str] = []
        while len(self._pending) >= BLOCK:
            block = bytes(self._pending[:BLOCK])
            del self._pending[:BLOCK]
            key = self._block(block)
            if key is not None:
                keys.append(key)
        return keys

    def _block(self, block_u8: bytes) -> str | None:
        signed = audioop.bias(block_u8, 1, -128)
        key = None
        # Cheap C-speed gate first: most frames are silence or low noise.
        if audioop.rms(signed, 1) >= 4:
            key = classify(memoryview(signed).cast("b").tolist())
        if key is not None and key == self._active:
            self._quiet = 0  # still held
            return None
        if self._active is not None:
            self._quiet += 1
            if self._quiet >= 2:
                self._active = None
        if key is None:
            self._candidate, self._count = None, 0
            return None
        if key == self._candidate:
            self._count += 1
        else:
            self._candidate, self._count = key, 1
        if self._count >= 2 and key != self._active:
            self._active, self._candidate, self._count, self._quiet = key, None, 0, 0
            return key
        return None


def tone(key: str, ms: int, amplitude: float = 0.35, rate: int = RATE) -> list[float]:
    """Samples in [-1, 1] of a DTMF key (for tests and the docs' examples)."""
    for r, row in enumerate(KEYPAD):
        if key in row:
            fr, fc = ROWS[r], COLS[row.index(key)]
            break
    else:
        raise ValueError(f"not a DTMF key: {key!r}")
    n = rate * ms // 1000
    return [
        amplitude * (math.sin(2 * math.pi * fr * i / rate) + math.sin(2 * math.pi * fc * i / rate))
        for i in range(n)
    ]
