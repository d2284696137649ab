"""The caller's audio for a recording, laid on the RTP timeline (pure: time is passed in).

RTP does not arrive as a steady stream: packets are lost, come late or twice, and a gateway
may stop sending in silence (DTX, RFC 3551's comfort noise, PT 13) or send RFC 2833 key events
instead of audio. A recording fed only what arrives would be shorter than the call (its
durations wrong) and, with nothing arriving, never reach the recorder's silence timeout. Here
the length of what is written follows time:

- a gap in the timestamps (a lost packet, comfort noise, DTX, key events) becomes silence of
  its length, so keys and noise are never recorded as sound;
- a packet that comes late, twice, or overlapping what was written is cut to what is new;
- while nothing arrives, silence is written as time passes, ``holdoff`` behind the clock (a
  packet delayed less than that is not mistaken for a gap);
- a timestamp jump longer than the time that passed, or far backwards (a restarted sender, a
  new SSRC), is not filled: the clock already accounted for that time.

``audio`` and ``tick`` run on the RTP engine's thread; ``sink`` gets 16-bit PCM (the
recorder's ``feed``, which never blocks on the disk).
"""

from __future__ import annotations

import threading
from collections.abc import Callable

RATE = 8000
FRAME = 160  # silence is written in whole 20 ms frames
HOLDOFF_S = 0.5  # jitter tolerated before missing audio counts as silence
SLACK_S = 0.25  # how far a timestamp gap may exceed the time that passed (jitter, drift)


def _signed(delta: int) -> int:
    """A 32-bit RTP timestamp difference, signed."""
    return ((delta + 2**31) % 2**32) - 2**31


class AudioCapture:
    def __init__(self, sink: Callable[[bytes], object], now: float,
                 holdoff_s: float = HOLDOFF_S) -> None:
        self._sink = sink
        self._holdoff = holdoff_s
        self._lock = threading.Lock()
        self._next_ts: int | None = None  # RTP timestamp of the next sample to write
        self._anchor = now  # when the last packet came (or the capture began)
        self._written_at_anchor = 0
        self.written = 0  # samples handed to the sink
        self.filled = 0  # of which silence standing in for missing audio
        self.dropped = 0  # samples received again or too late

    def audio(self, timestamp: int, pcm: bytes, now: float) -> None:
        """One packet's decoded audio (16-bit, 8 kHz) and its RTP timestamp."""
        with self._lock:
            out = self._place(timestamp, pcm, now)
        for chunk in out:
            self._sink(chunk)

    def tick(self, now: float) -> None:
        """Time passes (every packet time): silence for audio that stopped coming."""
        with self._lock:
            due = self._written_at_anchor + int((now - self._anchor - self._holdoff) * RATE)
            missing = (due - self.written) // FRAME * FRAME
            if missing <= 0:
                return
            self._advance(missing)
        self._sink(bytes(2 * missing))

    # --- inside, with the lock held ------------------------------------------------------------

    def _place(self, timestamp: int, pcm: bytes, now: float) -> list[bytes]:
        samples = len(pcm) // 2
        if self._next_ts is None:
            self._next_ts = timestamp  # the first packet: the clock wrote the silence before it
        gap = _signed(timestamp - self._next_ts)
        out: list[bytes] = []
        if gap < -int((self._holdoff + SLACK_S) * RATE):
            gap = 0  # far behind: a sender that restarted its timestamps, not a late packet
        elif gap < 0:  # late, repeated, or overlapping silence already written: keep what is new
            cut = min(-gap, samples)
            self.dropped += cut
            pcm, samples = pcm[2 * cut:], samples - cut
            timestamp = (timestamp + cut) % 2**32
            if not samples:
                return out
            gap = 0
        elif gap > 0:
            unaccounted = int((now - self._anchor + SLACK_S) * RATE) - (
                self.written - self._written_at_anchor)
            if gap > unaccounted:
                gap = 0  # a jump, not a gap: the clock filled that time already
            else:
                out.append(bytes(2 * gap))
                self.filled += gap
        out.append(pcm)
        self.written += gap + samples
        self._next_ts = (timestamp + samples) % 2**32
        self._anchor, self._written_at_anchor = now, self.written
        return out

    def _advance(self, samples: int) -> None:
        self.written += samples
        self.filled += samples
        if self._next_ts is not None:
            self._next_ts = (self._next_ts + samples) % 2**32
