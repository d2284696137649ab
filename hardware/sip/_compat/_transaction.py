"""A non-INVITE client transaction over UDP (RFC 3261 section 17.1.2), sans I/O.

pyVoIP 1.6.8 sends its BYE (and un-REGISTER) once: a lost datagram leaves the GSM call up. This
object only decides; the caller sends. Feed it ``sent(now)``, each ``response(code, now)`` and
``tick(now)``; it answers what to do: retransmit the request, give up, or done.

Timers: E (retransmit) starts at T1 and doubles up to T2 while no response came, and is T2 once
a provisional (1xx) one did; F (give up) is 64*T1 after the first send; K (absorb retransmitted
final responses) is T4 after the final response.
"""

from __future__ import annotations

import enum

T1 = 0.5
T2 = 4.0
T4 = 5.0


class Action(enum.Enum):
    NOTHING = "nothing"
    RETRANSMIT = "retransmit"
    GIVE_UP = "give up"  # timer F: no final response
    DONE = "done"  # the final response arrived (reported once)


class State(enum.Enum):
    IDLE = "idle"
    TRYING = "trying"
    PROCEEDING = "proceeding"
    COMPLETED = "completed"
    TERMINATED = "terminated"


class NonInviteTransaction:
    def __init__(self, t1: float = T1, t2: float = T2, t4: float = T4,
                 timeout: float | None = None) -> None:
        self.t1, self.t2, self.t4 = t1, t2, t4
        self.timeout = 64 * t1 if timeout is None else timeout
        self.state = State.IDLE
        self.final: int | None = None
        self.retransmissions = 0
        self._interval = t1
        self._timer_e = 0.0
        self._timer_f = 0.0
        self._timer_k = 0.0

    def sent(self, now: float) -> None:
        """The request went out for the first time."""
        self.state = State.TRYING
        self._interval = self.t1
        self._timer_e = now + self.t1
        self._timer_f = now + self.timeout

    def response(self, code: int, now: float) -> Action:
        if self.state in (State.TRYING, State.PROCEEDING):
            if code < 200:
                self.state = State.PROCEEDING
                return Action.NOTHING
            self.state = State.COMPLETED
            self.final = code
            self._timer_k = now + self.t4
            return Action.DONE
        return Action.NOTHING  # a retransmitted final response, or too late: absorbed

    def tick(self, now: float) -> Action:
        if self.state in (State.TRYING, State.PROCEEDING):
            if now >= self._timer_f:
                self.state = State.TERMINATED
                return Action.GIVE_UP
            if now >= self._timer_e:
                self.retransmissions += 1
                if self.state == State.PROCEEDING:
                    self._interval = self.t2
                else:
                    self._interval = min(self._interval * 2, self.t2)
                self._timer_e = now + self._interval
                return Action.RETRANSMIT
        elif self.state == State.COMPLETED and now >= self._timer_k:
            self.state = State.TERMINATED
        return Action.NOTHING

    def due(self) -> float | None:
        """When ``tick`` next has something to do (None: never)."""
        if self.state in (State.TRYING, State.PROCEEDING):
            return min(self._timer_e, self._timer_f)
        if self.state == State.COMPLETED:
            return self._timer_k
        return None

    @property
    def terminated(self) -> bool:
        return self.state == State.TERMINATED
