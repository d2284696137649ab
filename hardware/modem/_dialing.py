"""Placing a call: what the module's reports about a dialled call come to. Pure: every reading
of the clock is passed in, and nothing here writes to the port.

How modules report a dialled call (``ATD<number>;``):

- SIM800 (AT manual V1.09 s.2.2.3) and EC25 (EC2x AT manual V2.0 s.7.2): with ``AT+COLP=0``,
  the factory default, ``OK`` comes as soon as dialling is done; with ``AT+COLP=1`` it comes
  once the call is connected, and ``BUSY``, ``NO DIALTONE`` or ``NO CARRIER`` instead when
  it is not. ``BUSY`` and ``NO DIALTONE`` are given only with ``ATX3``/``ATX4`` and
  ``ATX2``/``ATX4`` (s.2.2.26); otherwise they read ``NO CARRIER``.
- After an early ``OK`` the call's progress shows in ``AT+CLCC`` (stat 2 dialling, 3 alerting,
  0 active; 3GPP TS 27.007 s.7.18) and its end as unsolicited ``BUSY``, ``NO ANSWER`` or
  ``NO CARRIER``. SIM800 with ``AT+MORING=1`` also says ``MO RING`` and ``MO CONNECTED``;
  SIM7600 says ``VOICE CALL: BEGIN`` when the call connects and ``VOICE CALL: END`` then
  ``NO CARRIER`` when it ends; ``+COLP`` (AT+COLP=1) means connected.

What each report means for the attempt (:data:`edge.lines.DIAL_OUTCOMES`):

========================================  ==============  =================================
report                                    outcome         why
========================================  ==============  =================================
connected (CLCC stat 0, +COLP, BEGIN,     answered
MO CONNECTED)
BUSY                                      busy            the callee is in a call, or
                                                          declined (networks send busy)
NO ANSWER                                 no-answer       the network gave up ringing
NO CARRIER / VOICE CALL: END after it     rejected        declined while it rang
alerted
NO CARRIER before it alerted; the call    unreachable     switched off, out of coverage,
never listed                                              no such number
NO DIALTONE, ERROR, +CME ERROR, no        failed          our side: no network, SIM, or a
answer to ATD                                             module in trouble
ring timeout                              no-answer       the line hangs up (ATH/AT+CHUP)
========================================  ==============  =================================
"""

from __future__ import annotations

from dataclasses import dataclass

from ._parser import ClccEntry

# Stats of a dialled call in AT+CLCC (3GPP TS 27.007 s.7.18).
ACTIVE, DIALLING, ALERTING, DISCONNECTED = 0, 2, 3, 6


@dataclass(frozen=True)
class Verdict:
    outcome: str  # one of edge.lines.DIAL_OUTCOMES
    detail: str  # for the log: never the number
    hang_up: bool = False  # the module may still hold the call: put it on hook


class DialProgress:
    """One dial attempt. Feed it the module's reports; each feeding returns the attempt's
    :class:`Verdict` once there is one (and None before). ``unlisted_s``: how long a call that
    ``AT+CLCC`` never lists, and that no report ended, may go on before it counts as gone."""

    def __init__(self, started: float, ring_timeout_s: float, *,
                 unlisted_s: float = 8.0) -> None:
        self.started = started
        self.ring_timeout_s = ring_timeout_s
        self.unlisted_s = unlisted_s
        self.stage = "dialling"  # dialling (ATD sent), placed (ATD's OK), alerting, answered
        self.verdict: Verdict | None = None
        self.dial_pending = True  # ATD has not answered yet
        self._listed_once = False
        self._empty_since: float | None = None

    # ---- reports

    def dial_answered(self, final: str, ok: bool) -> Verdict | None:
        """ATD's final result: ``OK`` (placed, or connected with AT+COLP=1), a call-progress
        result, or an error."""
        self.dial_pending = False
        if ok:
            if self.stage == "dialling":
                self.stage = "placed"
            return None
        if final in ("NO CARRIER", "BUSY", "NO ANSWER", "NO DIALTONE", "NO DIAL TONE"):
            return self.ended(final.lower().replace("dial tone", "dialtone"))
        if final == "TIMEOUT":
            return self._decide("failed", "the module did not answer ATD", hang_up=True)
        if final in ("CANCELLED", "MODULE RESTARTED"):
            return self._decide("failed", f"dial lost ({final.lower()})")
        return self._decide("failed", f"the module refused to dial ({final})")

    def listed(self, entries: list[ClccEntry], now: float) -> Verdict | None:
        """An ``AT+CLCC`` read: the module's outgoing voice calls."""
        ours = [e for e in entries if not e.incoming and e.voice and e.stat != DISCONNECTED]
        if ours:
            self._listed_once = True
            self._empty_since = None
            stat = ours[0].stat
            if stat == ACTIVE:
                return self.connected()
            if stat == ALERTING:
                self.alerting()
            return None
        if self.dial_pending or self.verdict is not None:
            return None  # not placed yet (or already decided): an empty list says nothing
        if self._empty_since is None:
            self._empty_since = now
        # Placed but not listed: some firmware lists a call late; the reports that end a
        # call can be lost. Gone only once the list stayed empty for a while.
        if now - self._empty_since < self.unlisted_s:
            return None
        if self._listed_once and self.stage == "alerting":
            return self._decide("rejected", "the call left the call list while it rang")
        return self._decide("unreachable", "the call was never listed as ringing")

    def alerting(self) -> None:
        if self.stage in ("dialling", "placed"):
            self.stage = "alerting"

    def connected(self) -> Verdict | None:
        return self._decide("answered", "connected")

    def ended(self, reason: str) -> Verdict | None:
        """A report that the call is over: ``busy``, ``no answer``, ``no carrier``,
        ``voice call end``, ``no dialtone``, ``missed``."""
        if reason == "busy":
            return self._decide("busy", "BUSY")
        if reason == "no answer":
            return self._decide("no-answer", "NO ANSWER: the network stopped ringing")
        if reason == "no dialtone":
            return self._decide("failed", "NO DIALTONE: the module has no service")
        if self.stage == "alerting":
            return self._decide("rejected", f"{reason.upper()} while it rang")
        return self._decide("unreachable", f"{reason.upper()} before it rang")

    def lost(self, why: str) -> Verdict | None:
        """The module restarted or the port went away."""
        return self._decide("failed", why)

    def tick(self, now: float) -> Verdict | None:
        """The ring timeout: unanswered after ``ring_timeout_s`` from the dial."""
        if self.verdict is None and now - self.started >= self.ring_timeout_s:
            return self._decide("no-answer", f"no answer in {self.ring_timeout_s:g} s",
                                hang_up=True)
        return None

    def next_deadline(self) -> float:
        return self.started + self.ring_timeout_s

    # ---- inside

    def _decide(self, outcome: str, detail: str, *, hang_up: bool = False) -> Verdict | None:
        if self.verdict is not None:
            return None  # the first report decides; later ones are echoes of it
        if outcome == "answered":
            self.stage = "answered"
        self.verdict = Verdict(outcome, detail, hang_up)
        return self.verdict
