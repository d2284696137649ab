"""Repeated warnings summarised: the first of a kind is logged at once, the rest at most once per
interval as one line with a count, so a flood (refused INVITEs, malformed datagrams, callers
finding every line busy) cannot fill the disk."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable


class LogThrottle:
    def __init__(self, logger: logging.Logger, interval_s: float = 60.0,
                 mono: Callable[[], float] = time.monotonic) -> None:
        self._log = logger
        self._interval_s = interval_s
        self._mono = mono
        self._lock = threading.Lock()
        self._last: dict[str, float] = {}  # kind -> when it was last written
        self._held: dict[str, int] = {}  # kind -> occurrences not written since

    def warning(self, kind: str, message: str, *args: object) -> None:
        self.log(logging.WARNING, kind, message, *args)

    def log(self, level: int, kind: str, message: str, *args: object) -> None:
        """Write ``message`` unless one of ``kind`` was written less than an interval ago; then
        count it, and the next one written says how many were held back."""
        now = self._mono()
        with self._lock:
            last = self._last.get(kind)
            if last is not None and now - last < self._interval_s:
                self._held[kind] = self._held.get(kind, 0) + 1
                return
            held = self._held.pop(kind, 0)
            self._last[kind] = now
        if held:
            seconds = round(self._interval_s)
            message += f" (and {held} more like it in the last {seconds} s)"
        self._log.log(level, message, *args)
