"""One thread running timed callbacks in order (for simulated lines: prompt ends, key presses),
so a simulated call costs no threads of its own."""

from __future__ import annotations

import heapq
import itertools
import threading
import time
from collections.abc import Callable

from ._events import PlaybackFinished


class Scheduler:
    def __init__(self, name: str = "scheduler") -> None:
        self._heap: list[tuple[float, int, Callable[[], None]]] = []
        self._counter = itertools.count()
        self._cancelled: set[int] = set()
        self._cv = threading.Condition()
        self._running = True
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    def after(self, seconds: float, fn: Callable[[], None]) -> int:
        with self._cv:
            handle = next(self._counter)
            heapq.heappush(self._heap, (time.monotonic() + seconds, handle, fn))
            self._cv.notify()
            return handle

    def cancel(self, handle: int) -> None:
        with self._cv:
            self._cancelled.add(handle)

    def stop(self) -> None:
        with self._cv:
            self._running = False
            self._cv.notify()
        self._thread.join(timeout=2)

    def _run(self) -> None:
        while True:
            with self._cv:
                while self._running and (
                    not self._heap or self._heap[0][0] > time.monotonic()
                ):
                    timeout = self._heap[0][0] - time.monotonic() if self._heap else None
                    self._cv.wait(timeout)
                if not self._running:
                    return
                _due, handle, fn = heapq.heappop(self._heap)
                if handle in self._cancelled:
                    self._cancelled.discard(handle)
                    continue
            fn()


class TimedPlayback:
    """A prompt that "plays" for a computed time on a Scheduler (simulated and console lines):
    each ``start`` yields exactly one PlaybackFinished through ``report``, interrupted when
    stopped or replaced — the Call contract, kept in one place."""

    def __init__(self, scheduler: Scheduler,
                 report: Callable[[PlaybackFinished], None]) -> None:
        self._scheduler = scheduler
        self._report = report
        self._lock = threading.Lock()
        self._playing: tuple[int, int] | None = None  # (play_id, scheduler handle)

    def start(self, play_id: int, seconds: float) -> None:
        self.stop()
        with self._lock:
            handle = self._scheduler.after(seconds, lambda: self._finish(play_id))
            self._playing = (play_id, handle)

    def stop(self) -> None:
        """Cut the current prompt short (reported as interrupted)."""
        playing = self._take()
        if playing is not None:
            self._report(PlaybackFinished(playing[0], interrupted=True))

    def cancel(self) -> None:
        """Forget the current prompt without a report (the call is over)."""
        self._take()

    def _take(self) -> tuple[int, int] | None:
        with self._lock:
            playing, self._playing = self._playing, None
        if playing is not None:
            self._scheduler.cancel(playing[1])
        return playing

    def _finish(self, play_id: int) -> None:
        with self._lock:
            if self._playing is None or self._playing[0] != play_id:
                return
            self._playing = None
        self._report(PlaybackFinished(play_id))
