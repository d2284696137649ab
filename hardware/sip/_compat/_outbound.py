"""The thin adapter that runs our non-INVITE client transactions (BYE, REGISTER) on a socket.

The client's receive loop hands it every response (``on_response``) and calls ``run_timers``
between datagrams; requests are started from any thread. Responses are matched to their
transaction by the top Via branch and the CSeq method (RFC 3261 section 17.1.3).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from ._transaction import T1, Action, NonInviteTransaction

log = logging.getLogger(__name__)

Address = tuple[str, int]
Send = Callable[[bytes, Address], None]


class Pending:
    """One running request: ``wait`` for its final response (None: no final response)."""

    def __init__(self, data: bytes, destination: Address, key: tuple[str, str],
                 transaction: NonInviteTransaction,
                 on_final: Callable[[Any | None], None] | None) -> None:
        self.data = data
        self.destination = destination
        self.key = key
        self.transaction = transaction
        self.on_final = on_final
        self.response: Any | None = None
        self.provisional: Any | None = None
        self._done = threading.Event()

    def finish(self, response: Any | None) -> None:
        # The outcome is handled before the request counts as done: a challenge answered
        # from on_final starts its own request first, so Outbound.busy() never drops to 0
        # in between (stop() waits on it).
        self.response = response
        if self.on_final is not None:
            try:
                self.on_final(response)
            except Exception:
                log.exception("handling the outcome of a %s failed", self.key[1])
        self._done.set()

    def wait(self, timeout: float | None = None) -> Any | None:
        self._done.wait(timeout)
        return self.response

    @property
    def done(self) -> bool:
        return self._done.is_set()


class Outbound:
    def __init__(self, send: Send, mono: Callable[[], float] = time.monotonic) -> None:
        self._send = send
        self._mono = mono
        self._lock = threading.Lock()
        self._pending: dict[tuple[str, str], Pending] = {}

    def start(self, data: bytes, destination: Address, branch: str, method: str,
              on_final: Callable[[Any | None], None] | None = None,
              t1: float = T1, timeout: float | None = None) -> Pending:
        """Send a request and keep re-sending it; ``timeout`` None: 64 * ``t1`` (timer F)."""
        transaction = NonInviteTransaction(t1=t1, timeout=timeout)
        pending = Pending(data, destination, (branch, method), transaction, on_final)
        with self._lock:
            self._pending[pending.key] = pending
            transaction.sent(self._mono())
        self._transmit(pending)
        return pending

    def on_response(self, message: Any) -> bool:
        """True when the response belonged to one of our transactions (then it is handled)."""
        try:
            branch = message.headers["Via"][0].get("branch") or ""
            method = message.headers["CSeq"]["method"]
        except (KeyError, IndexError, TypeError, AttributeError):
            return False
        with self._lock:
            pending = self._pending.get((branch, method))
            if pending is None:
                return False
            action = pending.transaction.response(int(message.status), self._mono())
            if action is Action.NOTHING and int(message.status) < 200:
                pending.provisional = message
        if action is Action.DONE:
            pending.finish(message)
        return True

    def run_timers(self) -> None:
        now = self._mono()
        resend: list[Pending] = []
        gave_up: list[Pending] = []
        with self._lock:
            for key, pending in list(self._pending.items()):
                action = pending.transaction.tick(now)
                if action is Action.RETRANSMIT:
                    resend.append(pending)
                elif action is Action.GIVE_UP:
                    gave_up.append(pending)
                if pending.transaction.terminated:
                    del self._pending[key]
        for pending in resend:
            self._transmit(pending)
        for pending in gave_up:
            pending.finish(None)

    def due(self) -> float | None:
        with self._lock:
            times = [t for p in self._pending.values() if (t := p.transaction.due()) is not None]
        return min(times, default=None)

    def clear(self) -> None:
        """Forget every request (the socket is closing: nothing more is sent or answered)."""
        with self._lock:
            self._pending.clear()

    def busy(self) -> int:
        """Requests still waiting for a final response."""
        with self._lock:
            return sum(1 for p in self._pending.values() if not p.done)

    def _transmit(self, pending: Pending) -> None:
        try:
            self._send(pending.data, pending.destination)
        except OSError as exc:  # like a lost datagram: the timers go on
            log.debug("%s not sent: %s", pending.key[1], exc)
