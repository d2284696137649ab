"""An INVITE client transaction over UDP (RFC 3261 section 17.1.1, with RFC 6026's Accepted
state), sans I/O.

pyVoIP 1.6.8's outbound ``call()`` sends its INVITE once, blocks for ever on 486/403/407 and
ACKs a 2xx with a new random To-tag (reference defect 8); we do not use it. This object only
decides; the caller sends. Feed it ``sent(now)``, each ``response(code, now)`` and
``tick(now)``; it answers what to do.

Timers: A (retransmit the INVITE) starts at T1 and doubles while no response came; B (give up)
is 64*T1 after the first send, and stops at the first provisional response: from then on the
called phone rings as long as the TU lets it (our ring timeout, then CANCEL). After a CANCEL,
``cancelled(now)`` gives the INVITE 64*T1 more for its final response (RFC 3261 9.1). D keeps
a completed transaction 32 s to ACK retransmitted error responses; M keeps an accepted one
64*T1 to pass retransmitted 2xx to the TU, which ACKs each (RFC 6026 7.2).
"""

from __future__ import annotations

import enum

from ._transaction import T1

TIMER_D = 32.0  # RFC 3261 17.1.1.2: at least 32 s over UDP


class Step(enum.Enum):
    NOTHING = "nothing"
    RETRANSMIT = "retransmit"  # timer A: send the INVITE again
    PROVISIONAL = "provisional"  # a 1xx: tell the TU
    ACCEPTED = "accepted"  # the first 2xx: the TU ACKs it (a new transaction of its own)
    ACCEPTED_AGAIN = "accepted again"  # a retransmitted 2xx (or a forked one): the TU ACKs it
    FAILED = "failed"  # the first 300-699: ACK it (same branch) and tell the TU
    ACK_AGAIN = "ack again"  # a retransmitted 300-699: ACK again, nothing for the TU
    TIMEOUT = "timeout"  # timer B (or the post-CANCEL guard): no final response


class State(enum.Enum):
    IDLE = "idle"
    CALLING = "calling"
    PROCEEDING = "proceeding"
    ACCEPTED = "accepted"
    COMPLETED = "completed"
    TERMINATED = "terminated"


class InviteTransaction:
    def __init__(self, t1: float = T1) -> None:
        self.t1 = t1
        self.state = State.IDLE
        self.final: int | None = None
        self.retransmissions = 0
        self._interval = t1
        self._timer_a = 0.0
        self._timer_b: float | None = None
        self._timer_end = 0.0  # D in Completed, M in Accepted

    def sent(self, now: float) -> None:
        """The INVITE went out for the first time."""
        self.state = State.CALLING
        self._interval = self.t1
        self._timer_a = now + self.t1
        self._timer_b = now + 64 * self.t1

    def cancelled(self, now: float) -> None:
        """Our CANCEL went out: the INVITE's final response gets 64*T1 more (RFC 3261 9.1)."""
        if self.state in (State.CALLING, State.PROCEEDING):
            guard = now + 64 * self.t1
            self._timer_b = guard if self._timer_b is None else min(self._timer_b, guard)

    def response(self, code: int, now: float) -> Step:
        if self.state in (State.CALLING, State.PROCEEDING):
            if code < 200:
                if self.state == State.CALLING:
                    self._timer_b = None  # ringing: the TU's ring timeout governs now
                self.state = State.PROCEEDING
                return Step.PROVISIONAL
            self.final = code
            if code < 300:
                self.state = State.ACCEPTED
                self._timer_end = now + 64 * self.t1
                return Step.ACCEPTED
            self.state = State.COMPLETED
            self._timer_end = now + TIMER_D
            return Step.FAILED
        if self.state == State.ACCEPTED and 200 <= code < 300:
            return Step.ACCEPTED_AGAIN
        if self.state == State.COMPLETED and code >= 300:
            return Step.ACK_AGAIN
        return Step.NOTHING  # a late 1xx, or an error response after a 2xx: absorbed

    def tick(self, now: float) -> Step:
        if self.state in (State.CALLING, State.PROCEEDING):
            if self._timer_b is not None and now >= self._timer_b:
                self.state = State.TERMINATED
                return Step.TIMEOUT
            if self.state == State.CALLING and now >= self._timer_a:
                self.retransmissions += 1
                self._interval *= 2  # timer A doubles without a cap (17.1.1.2)
                self._timer_a = now + self._interval
                return Step.RETRANSMIT
        elif self.state in (State.ACCEPTED, State.COMPLETED) and now >= self._timer_end:
            self.state = State.TERMINATED
        return Step.NOTHING

    def due(self) -> float | None:
        """When ``tick`` next has something to do (None: only a response moves it)."""
        if self.state == State.CALLING:
            return min(self._timer_a, self._timer_b or self._timer_a)
        if self.state == State.PROCEEDING:
            return self._timer_b
        if self.state in (State.ACCEPTED, State.COMPLETED):
            return self._timer_end
        return None

    @property
    def terminated(self) -> bool:
        return self.state == State.TERMINATED
