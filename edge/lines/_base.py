"""The part of the call contract every line shares: the event queue and the hang-up rule.

Each line kind (simulated, console, modem, SIP) subclasses :class:`BaseCall` and adds what is
its own (answering, playing, hanging up on its hardware); the rules below are kept here once so
that no line can get them subtly wrong.
"""

from __future__ import annotations

import queue
import threading

from ._call import CallerId
from ._events import CallEvent, RemoteHangup


class BaseCall:
    """Owns a call's event queue. Line threads ``post`` events and ``post_hangup`` once; the
    server's thread reads them with ``next_event``.

    The rule (see :meth:`edge.lines.Call.next_event`): events come out in the order they were
    posted; once the far end has hung up, events already queued still come out in order, then
    ``RemoteHangup`` comes out on every later call without waiting, so a server thread that
    keeps asking never blocks on a call that is gone.
    """

    def __init__(self, line_name: str, caller: CallerId) -> None:
        self._line_name = line_name
        self._caller = caller
        self._events: queue.Queue[CallEvent] = queue.Queue()
        self._gone: RemoteHangup | None = None
        self._gone_lock = threading.Lock()

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
        """Queue a key or a playback report for the server thread."""
        self._events.put(event)

    def post_hangup(self, reason: str = "remote") -> bool:
        """The far end hung up or the line lost the call. Only the first report counts (a
        modem may send NO CARRIER and then drop the call from its list); returns whether this
        was it."""
        with self._gone_lock:
            if self._gone is not None:
                return False
            self._gone = RemoteHangup(reason)
        self._events.put(self._gone)
        return True

    # -- server thread ---------------------------------------------------------------------
    def next_event(self, timeout: float | None) -> CallEvent | None:
        gone = self._gone
        try:
            if gone is not None:
                return self._events.get_nowait()
            return self._events.get(timeout=timeout)
        except queue.Empty:
            return self._gone

    def reject(self) -> None:
        """Decline a ringing call without answering, so the caller pays nothing. Lines that
        can signal "busy" (SIP 486) override this; the default hangs up."""
        self.hang_up()

    def hang_up(self) -> None:  # pragma: no cover - every line overrides it
        raise NotImplementedError
