"""The thin adapter that runs our INVITE client transactions (``_invite``) on the SIP socket, as
``_outbound`` runs the non-INVITE ones: the client's receive loop hands it every response
(``on_response``) and calls ``run_timers`` between datagrams. Responses are matched by the top
Via branch and the CSeq method (RFC 3261 17.1.3); what they mean for the call is the
handler's business (``_placing``).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any, Protocol

from ._invite import InviteTransaction, State, Step
from ._transaction import T1

log = logging.getLogger(__name__)

Address = tuple[str, int]
Send = Callable[[bytes, Address], None]


class InviteHandler(Protocol):
    """What a transaction's outcome is told to; called on the SIP thread, no lock held."""

    def on_provisional(self, response: Any) -> None: ...

    def on_accepted(self, response: Any, source: Address | None, again: bool) -> None: ...

    def on_failed(self, response: Any, again: bool) -> None: ...

    def on_timeout(self) -> None: ...

    def on_closed(self) -> None: ...


class _Running:
    def __init__(self, data: bytes, destination: Address, transaction: InviteTransaction,
                 handler: InviteHandler) -> None:
        self.data = data
        self.destination = destination
        self.transaction = transaction
        self.handler = handler


class InviteClient:
    def __init__(self, send: Send, mono: Callable[[], float] = time.monotonic) -> None:
        self._send = send
        self._mono = mono
        self._lock = threading.Lock()
        self._running: dict[str, _Running] = {}  # by Via branch

    def start(self, data: bytes, destination: Address, branch: str, handler: InviteHandler,
              t1: float = T1) -> None:
        transaction = InviteTransaction(t1=t1)
        with self._lock:
            self._running[branch] = _Running(data, destination, transaction, handler)
            transaction.sent(self._mono())
        self._transmit(data, destination)

    def cancelled(self, branch: str) -> None:
        """Our CANCEL for ``branch`` went out (the INVITE's final answer gets 64*T1 more)."""
        with self._lock:
            running = self._running.get(branch)
            if running is not None:
                running.transaction.cancelled(self._mono())

    def on_response(self, message: Any, source: Address | None = None) -> bool:
        """True when the response belonged to one of our INVITEs (then it is handled)."""
        try:
            branch = message.headers["Via"][0].get("branch") or ""
            if message.headers["CSeq"]["method"] != "INVITE":
                return False
            code = int(message.status)
        except (KeyError, IndexError, TypeError, AttributeError, ValueError):
            return False
        with self._lock:
            running = self._running.get(branch)
            if running is None:
                return False
            step = running.transaction.response(code, self._mono())
        handler = running.handler
        if step is Step.PROVISIONAL:
            handler.on_provisional(message)
        elif step in (Step.ACCEPTED, Step.ACCEPTED_AGAIN):
            handler.on_accepted(message, source, step is Step.ACCEPTED_AGAIN)
        elif step in (Step.FAILED, Step.ACK_AGAIN):
            handler.on_failed(message, step is Step.ACK_AGAIN)
        return True

    def run_timers(self) -> None:
        now = self._mono()
        resend: list[_Running] = []
        timed_out: list[_Running] = []
        with self._lock:
            for branch, running in list(self._running.items()):
                step = running.transaction.tick(now)
                if step is Step.RETRANSMIT:
                    resend.append(running)
                elif step is Step.TIMEOUT:
                    timed_out.append(running)
                if running.transaction.terminated:
                    del self._running[branch]
        for running in resend:
            self._transmit(running.data, running.destination)
        for running in timed_out:
            try:
                running.handler.on_timeout()
            except Exception:
                log.exception("handling an INVITE timeout failed")

    def due(self) -> float | None:
        with self._lock:
            times = [t for r in self._running.values() if (t := r.transaction.due()) is not None]
        return min(times, default=None)

    def clear(self) -> None:
        """Forget every transaction (the socket is closing); those still waiting for a final
        answer are told (``on_closed``), so nobody waits on them."""
        with self._lock:
            waiting = [r for r in self._running.values()
                       if r.transaction.state in (State.CALLING, State.PROCEEDING)]
            self._running.clear()
        for running in waiting:
            try:
                running.handler.on_closed()
            except Exception:
                log.exception("handling an INVITE cut short failed")

    def __len__(self) -> int:
        with self._lock:
            return len(self._running)

    def send(self, data: bytes, destination: Address) -> None:
        """Send a request that is not retransmitted (an ACK)."""
        self._transmit(data, destination)

    def _transmit(self, data: bytes, destination: Address) -> None:
        try:
            self._send(data, destination)
        except OSError as exc:  # like a lost datagram: the timers go on
            log.debug("INVITE transaction send failed: %s", exc)
