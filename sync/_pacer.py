"""Pacing writes per key (a Twilio Sync Map) under a sliding window.

Twilio allows 20 writes per second per Map. Spacing writes 1/rate apart is not enough: writes
at 0, 0.05, ..., 1.00 s are 21 in one second. The limiter here keeps the times of the last
writes and lets a write go only when at most ``limit - 1`` others fall in the window ending at
it, so no window of ``window_s`` ever holds more than ``limit`` writes."""

from __future__ import annotations

import math
import threading
from collections import deque
from collections.abc import Callable

# Writes leave this much later than the window strictly needs: Twilio counts arrivals, and two
# writes exactly window_s apart would share a closed window.
MARGIN_S = 0.005


def window_for(rate: float) -> tuple[int, float]:
    """``writes_per_s`` as (writes, per seconds): whole writes per second from 1/s up (15.5 is
    15 per second: never more than asked), one write per 1/rate s below."""
    if rate >= 1:
        return math.floor(rate), 1.0
    return 1, 1.0 / rate


class SlidingWindowPacer:
    """``wait(key)`` returns when a write to ``key`` may go (threads reserve their slots in
    turn). ``mono`` and ``sleep`` are injected for tests."""

    def __init__(self, rate: float, mono: Callable[[], float],
                 sleep: Callable[[float], None]) -> None:
        self.limit, self.window_s = window_for(rate)
        self.mono = mono
        self.sleep = sleep
        self._sent: dict[str, deque[float]] = {}  # key -> times of its last `limit` writes
        self._lock = threading.Lock()

    def wait(self, key: str) -> None:
        with self._lock:
            now = self.mono()
            sent = self._sent.setdefault(key, deque(maxlen=self.limit))
            at = now
            if len(sent) == self.limit:  # the oldest of the last `limit` must leave the window
                at = max(now, sent[0] + self.window_s + MARGIN_S)
            sent.append(at)  # reserved: the next caller counts this write
        if at > now:
            self.sleep(at - now)
