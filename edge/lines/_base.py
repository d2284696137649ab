"""The part of the call contract every line shares: the event queue and the hang-up rule.

Each line kind (simulated, console, modem, SIP) subclasses :class:`BaseCall` and adds what is
its own (answering, playing, hanging up on its hardware); the rules below are kept here once so
that no line can get them subtly wrong.

Recording follows the same idea: ``record``/``stop_recording`` and the rules around them
(exactly one ``RecordingFinished`` per ``record``, before the ``RemoteHangup``; finish keys
end it and are not posted as keys) live here; a line that records overrides two hooks,
``_start_recording`` and ``_stop_recording``, and reports with ``post_recording``.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from pathlib import Path

from ._call import CallerId
from ._events import CallEvent, KeyPressed, RecordingFinished, RemoteHangup, TransferFinished

log = logging.getLogger("edgecall.lines")


class BaseCall:
    """Owns a call's event queue. Line threads ``post`` events and ``post_hangup`` once; the
    server's thread reads them with ``next_event``.

    The rule (see :meth:`edge.lines.Call.next_event`): events come out in the order they were
    posted; once the far end has hung up, events already queued still come out in order, then
    ``RemoteHangup`` comes out on every later call without waiting, so a server thread that
    keeps asking never blocks on a call that is gone.
    """

    # After a hang-up, how long the server waits for a recording's report (a line finishing
    # its file; a modem fetching it) before it is given up as "failed". Lines may raise it.
    RECORDING_GRACE_S = 30.0

    def __init__(self, line_name: str, caller: CallerId) -> None:
        self._line_name = line_name
        self._caller = caller
        self._events: queue.Queue[CallEvent] = queue.Queue()
        self._gone: RemoteHangup | None = None
        self._gone_lock = threading.Lock()  # also guards the recording state below
        self._recording_id: int | None = None  # the recording not yet reported
        self._finish_keys = ""
        self._held_hangup: RemoteHangup | None = None  # waits for the recording's report
        self._held_until = 0.0

    @property
    def line_name(self) -> str:
        return self._line_name

    @property
    def caller(self) -> CallerId:
        return self._caller

    @property
    def hung_up_remotely(self) -> bool:
        return self._gone is not None

    # -- line threads ----------------------------------------------------------------------
    def post(self, event: CallEvent) -> None:
        """Queue a key or a playback report for the server thread. A finish key of the
        recording in progress ends it instead (as Twilio's finishOnKey: the key is not
        input)."""
        if isinstance(event, KeyPressed):
            with self._gone_lock:
                finishes = self._recording_id is not None and event.digit in self._finish_keys
            if finishes:
                self._stop_recording("key", event.digit)
                return
        if isinstance(event, RecordingFinished):
            self.post_recording(event)
            return
        self._events.put(event)

    def post_hangup(self, reason: str = "remote") -> bool:
        """The far end hung up or the line lost the call. Only the first report counts (a
        modem may send NO CARRIER and then drop the call from its list); returns whether this
        was it. A recording in progress is stopped ("hangup") and its report comes out before
        the ``RemoteHangup``."""
        with self._gone_lock:
            if self._gone is not None:
                return False
            self._gone = RemoteHangup(reason)
            recording = self._recording_id is not None
            if recording:
                self._held_hangup = self._gone
                self._held_until = time.monotonic() + self.RECORDING_GRACE_S
            else:
                self._events.put(self._gone)
        if recording:
            self._stop_recording("hangup", "")
        return True

    def post_recording(self, event: RecordingFinished) -> bool:
        """The recording ``event.record_id`` stopped (its file, if any, already durable).
        Only the first report of the recording in progress counts; returns whether this was
        it. A hang-up held back for it follows it into the queue."""
        with self._gone_lock:
            if self._recording_id != event.record_id:
                return False
            self._recording_id, self._finish_keys = None, ""
            held, self._held_hangup = self._held_hangup, None
            self._events.put(event)
            if held is not None:
                self._events.put(held)
        return True

    # -- server thread ---------------------------------------------------------------------
    def next_event(self, timeout: float | None) -> CallEvent | None:
        gone = self._gone
        try:
            if gone is None:
                return self._events.get(timeout=timeout)
            wait = self._held_wait()
            if wait is None:
                return self._events.get_nowait()
            # The caller has gone but a recording is being finished: wait for its report.
            return self._events.get(timeout=wait if timeout is None else min(wait, timeout))
        except queue.Empty:
            if self._held_wait() == 0.0:
                self._give_up_recording()
                return self.next_event(0)
            return None if self._held_hangup is not None else self._gone

    def record(self, record_id: int, path: Path, max_s: float, silence_s: float,
               finish_keys: str = "") -> None:
        """See :meth:`edge.lines.Call.record`. Lines override ``_start_recording``."""
        with self._gone_lock:
            stale = self._recording_id
        if stale is not None:  # never reported (the server gave up on it): replaced, as a
            self._stop_recording("stopped", "")  # play replaces a play
            self.post_recording(RecordingFinished(stale, None, 0.0, "failed"))
        with self._gone_lock:
            self._recording_id, self._finish_keys = record_id, finish_keys
            gone = self._gone is not None
        if gone:
            self.post_recording(RecordingFinished(record_id, None, 0.0, "hangup"))
            return
        try:
            self._start_recording(record_id, Path(path), max_s, silence_s, finish_keys)
        except Exception:  # a line that cannot start must still report, or the call waits
            log.exception("recording could not start on %s", self._line_name)
            self.post_recording(RecordingFinished(record_id, None, 0.0, "failed"))
            return
        if self._gone is not None:  # hung up while it started: make sure it stops
            self._stop_recording("hangup", "")

    def stop_recording(self) -> None:
        """See :meth:`edge.lines.Call.stop_recording`."""
        with self._gone_lock:
            recording = self._recording_id is not None
        if recording:
            self._stop_recording("stopped", "")

    @property
    def recording(self) -> bool:
        """A recording was started and has not been reported yet."""
        return self._recording_id is not None

    # -- what a line that records overrides ------------------------------------------------
    def _start_recording(self, record_id: int, path: Path, max_s: float, silence_s: float,
                         finish_keys: str) -> None:
        """Start recording the caller into ``path`` and return at once; report with
        ``post_recording`` when it stops. The default: this line cannot record."""
        self.post_recording(RecordingFinished(record_id, None, 0.0, "unsupported"))

    def _stop_recording(self, reason: str, key: str) -> None:
        """Stop the recording in progress for ``reason`` ("key", "hangup", "stopped") and
        return at once; the report follows through ``post_recording``. Called from any thread
        (the server's, the line's own), maybe more than once: only the first call counts."""

    # -- internals -------------------------------------------------------------------------
    def _held_wait(self) -> float | None:
        """Seconds left to wait for a held-back recording report; None when none is held."""
        with self._gone_lock:
            if self._held_hangup is None:
                return None
            return max(0.0, self._held_until - time.monotonic())

    def _give_up_recording(self) -> None:
        with self._gone_lock:
            record_id = self._recording_id
        if record_id is not None:
            log.error("recording %s on %s never reported; given up", record_id, self._line_name)
            self.post_recording(RecordingFinished(record_id, None, 0.0, "failed"))

    def transfer(self, transfer_id: int, number: str, timeout_s: float) -> None:
        """See :meth:`edge.lines.Call.transfer`. The default: this line cannot transfer."""
        self.post(TransferFinished(transfer_id, "unsupported", "this line cannot transfer "
                                   "calls"))

    def reject(self) -> None:
        """Decline a ringing call without answering, so the caller pays nothing. Lines that
        can signal "busy" (SIP 486) override this; the default hangs up."""
        self.hang_up()

    def hang_up(self) -> None:  # pragma: no cover - every line overrides it
        raise NotImplementedError
