"""One outgoing call on the port: ``ATD<number>;``, call-list reads while it rings, the
module's reports, the ring timeout. What they mean is decided in ``_dialing``; this runs it.

Everything but :meth:`DialAttempt.wait` runs on the driver's port thread, in order with the
module's other output: URCs reach :meth:`DialAttempt.urc` from the line, command results and
timers come from the driver.
"""

from __future__ import annotations

import threading
import time
from typing import TYPE_CHECKING

from . import _parser as p
from ._commands import MEDIUM_S, SHORT_S, Command, Response
from ._dialing import DialProgress, Verdict

if TYPE_CHECKING:
    from ._driver import Driver

# ATD may take up to 20 s to answer on a SIM800 (AT manual V1.09 s.2.2.3, "Max Response
# Time 20s (voice call)"); firmware that answers only once connected takes as long as it rings.
ATD_GUARD_S = 25.0
DIAL_FINALS = ("NO CARRIER", "BUSY", "NO ANSWER", "NO DIALTONE", "NO DIAL TONE")


class DialAttempt:
    """Dial ``number``; :meth:`wait` returns the :class:`Verdict`. ``hangups``: the commands
    that put the module on hook (the profile's first), sent when the attempt is given up while
    the module may still hold the call."""

    def __init__(self, driver: Driver, number: str, ring_timeout_s: float, *,
                 hangups: tuple[str, ...], poll_s: float = 0.5,
                 unlisted_s: float = 8.0, ignore_index: int | None = None) -> None:
        self._driver = driver
        # A call already on the module that is not this one (the caller held during a
        # transfer, see _transfer): left out of every call-list reading.
        self._ignore_index = ignore_index
        self._number = number
        self._hangups = hangups
        self._poll_s = poll_s
        self.progress = DialProgress(time.monotonic(), ring_timeout_s, unlisted_s=unlisted_s)
        self._done = threading.Event()
        self._reading = False
        self._ending = False

    # ---- any thread

    def wait(self, timeout: float) -> Verdict:
        if not self._done.wait(timeout):
            # The port thread never came to a verdict (a driver stopping under us).
            return self.progress.verdict or Verdict("failed", "no result from the module")
        assert self.progress.verdict is not None
        return self.progress.verdict

    @property
    def over(self) -> bool:
        return self.progress.verdict is not None

    # ---- port thread

    def start(self) -> None:
        timeout = self.progress.ring_timeout_s + ATD_GUARD_S
        self._driver.submit(Command(f"ATD{self._number};", timeout=timeout, finals=DIAL_FINALS,
                                    on_done=self._dial_answered))
        self._driver.call_later(self.progress.ring_timeout_s, self._ring_timeout)
        self._driver.call_later(self._poll_s, self._poll)

    def urc(self, urc: p.Urc) -> None:
        """A URC the line received while this attempt runs."""
        if isinstance(urc, p.CallEnded):
            self._decided(self.progress.ended(urc.reason))
        elif isinstance(urc, p.MissedCall):
            self._decided(self.progress.ended("no carrier"))
        elif isinstance(urc, p.CallBegan | p.Connected):
            self._decided(self.progress.connected())
        elif isinstance(urc, p.Alerting):
            self.progress.alerting()
        elif isinstance(urc, p.ClccUrc):
            entry = urc.entry
            if entry.index == self._ignore_index:
                return
            if not entry.incoming and entry.stat == 6:
                self._decided(self.progress.ended("no carrier"))
            elif not entry.incoming:
                self._decided(self.progress.listed([entry], time.monotonic()))

    def lost(self, why: str) -> None:
        """The module restarted or the port went away: no call survives that."""
        self._decided(self.progress.lost(why))

    def _dial_answered(self, response: Response) -> None:
        self._decided(self.progress.dial_answered(response.final, response.ok))
        if self.over and not self._ending:
            self._finish()

    def _poll(self) -> None:
        if self.over:
            return
        # One read at a time, and none while ATD waits for its result: a read queued behind
        # it would only answer once ATD has.
        if not self._reading and not self.progress.dial_pending:
            self._reading = True
            self._driver.submit(Command("AT+CLCC", expect=("+CLCC",), timeout=SHORT_S,
                                        on_done=self._listed))
        self._driver.call_later(self._poll_s, self._poll)

    def _listed(self, response: Response) -> None:
        self._reading = False
        if not response.ok or self.over:
            return
        entries = [e for e in map(p.parse_clcc, response.lines)
                   if e is not None and e.index != self._ignore_index]
        self._decided(self.progress.listed(entries, time.monotonic()))

    def _ring_timeout(self) -> None:
        self._decided(self.progress.tick(time.monotonic()))

    def _decided(self, verdict: Verdict | None) -> None:
        if verdict is None or self._ending:
            return
        if self.progress.dial_pending and verdict.outcome != "answered" \
                and verdict.hang_up:
            # ATD still waits for its result (firmware that answers only once connected):
            # a character aborts it, and the profile's hang-up is one.
            self._driver.interrupt(self._hangups[0])
        if self.progress.dial_pending and not verdict.hang_up:
            return  # ATD's own result follows at once; finish on it
        self._finish()

    def _finish(self) -> None:
        verdict = self.progress.verdict
        assert verdict is not None
        self._ending = True
        if not verdict.hang_up:
            self._done.set()
            return
        # Given up while the module may hold the call: hang up both ways (ATH is ignored for
        # voice calls on a SIM800 until AT+CVHU=0; some firmware takes only AT+CHUP).
        for text in self._hangups[:-1]:
            self._driver.submit(Command(text, timeout=MEDIUM_S))
        self._driver.submit(Command(self._hangups[-1], timeout=MEDIUM_S,
                                    on_done=lambda _response: self._done.set()))
