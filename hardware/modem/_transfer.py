"""One transfer on the module (what the steps mean: ``_transferring``). It runs on a thread of
its own: ``Call.transfer`` returns at once, and the port thread is never made to wait. The
second call is placed by a ``DialAttempt`` that leaves the held caller out of its call-list
readings; while the transfer runs the line gives that attempt the module's call reports, and
swallows the ones that follow a completed transfer (the caller is the number's now).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Protocol

from edge.privacy import redact

from . import _parser as p
from ._commands import MEDIUM_S, Response
from ._dialer import ATD_GUARD_S, DialAttempt
from ._driver import Driver
from ._settings import ModemSettings
from ._transferring import STATUS_FOR_OUTCOME, held_call, supported_holds, way_back

log = logging.getLogger(__name__)

# The network may take a while to join the two calls (ECT goes to the switch and back).
ECT_TIMEOUT_S = 20.0


class TransferHost(Protocol):
    """What a transfer needs of its line (``ModemLine``)."""

    driver: Driver
    settings: ModemSettings
    holds: set[str] | None  # the module's AT+CHLD operations, once read

    @property
    def every_hangup(self) -> tuple[str, ...]: ...

    def transfer_leg(self, attempt: DialAttempt | None) -> None: ...


@dataclass(frozen=True)
class Outcome:
    status: str  # edge.lines.TRANSFER_STATUSES
    detail: str  # never the number
    caller_gone: bool = False  # the caller hung up meanwhile: the call is over


def run_transfer(host: TransferHost, number: str, ring_timeout_s: float) -> Outcome:
    """Hold the caller, call ``number``, join them once it answers; else back to the caller.
    Not on the port thread (it waits for the module)."""
    driver = host.driver
    if host.holds is None:
        listed = driver.execute("AT+CHLD=?", expect=("+CHLD",), timeout=MEDIUM_S)
        if listed.ok:
            host.holds = supported_holds(listed.lines)
    if host.holds is None or "4" not in host.holds:
        return Outcome("unsupported", "the module does not offer explicit call transfer "
                       f"(AT+CHLD=? lists {sorted(host.holds or [])})")
    hold = driver.execute("AT+CHLD=2", timeout=MEDIUM_S)
    if not hold.ok:
        return Outcome("failed", f"the module would not hold the caller ({hold.final})")
    calls = _calls(driver)
    held = held_call(calls or [])
    if held is None:
        detail = "the caller was not held after AT+CHLD=2"
        # Not held after all: the caller is where they were (unless the list is unreadable).
        return _hang_up_all(host, detail) if calls is None else Outcome("failed", detail)
    leg_index = min(i for i in range(1, 8) if i != held.index)  # 27.007: lowest free number
    attempt = DialAttempt(driver, number, ring_timeout_s,
                          hangups=(f"AT+CHLD=1{leg_index}",), poll_s=host.settings.dial_poll_s,
                          unlisted_s=host.settings.ringing_gone_s, ignore_index=held.index)
    log.info("modem: caller held; calling %s to hand them over", redact(number))
    host.transfer_leg(attempt)
    try:
        driver.call_later(0.0, attempt.start)
        verdict = attempt.wait(ring_timeout_s + ATD_GUARD_S + 2 * MEDIUM_S)
    finally:
        host.transfer_leg(None)
    if verdict.outcome != "answered":
        return _back(host, _calls(driver), held.index, STATUS_FOR_OUTCOME[verdict.outcome],
                     f"the number: {verdict.outcome} ({verdict.detail})")
    joined = driver.execute("AT+CHLD=4", timeout=ECT_TIMEOUT_S)
    if joined.ok:
        log.info("modem: caller handed over (explicit call transfer)")
        return Outcome("completed", "joined by AT+CHLD=4")
    return _back(host, _calls(driver), held.index, "failed",
                 f"the network refused the transfer ({joined.final})")


def _calls(driver: Driver) -> list[p.ClccEntry] | None:
    """The call list (None: the module did not give it, twice)."""
    for _ in range(2):
        response: Response = driver.execute("AT+CLCC", expect=("+CLCC",), timeout=MEDIUM_S)
        if response.ok:
            return [e for e in map(p.parse_clcc, response.lines) if e is not None]
    return None


def _hang_up_all(host: TransferHost, detail: str) -> Outcome:
    """A module that will not list its calls leaves no safe way back: everything is hung up."""
    for text in host.every_hangup:
        host.driver.execute(text, timeout=MEDIUM_S)
    return Outcome("failed", detail + "; the call list could not be read, call ended",
                   caller_gone=True)


def _back(host: TransferHost, calls: list[p.ClccEntry] | None, held_index: int,
          status: str, detail: str) -> Outcome:
    """Release the second call and retrieve the caller (``way_back``)."""
    if calls is None:
        return _hang_up_all(host, detail)
    plan = way_back(calls, held_index, host.every_hangup)
    for text in plan.commands:
        response = host.driver.execute(text, timeout=MEDIUM_S)
        if not response.ok:
            log.warning("modem: %s on the way back to the caller: %s", text, response.final)
    if plan.caller_gone:
        return Outcome("failed", detail + "; the caller hung up while held", caller_gone=True)
    log.info("modem: transfer not made (%s); caller back with the survey", status)
    return Outcome(status, detail)
