"""What a dialled call's reports come to (``_dialing``, pure: no port, no clock)."""

from __future__ import annotations

import pytest

from hardware.modem._dialing import DialProgress
from hardware.modem._parser import ClccEntry


def _out(stat: int) -> ClccEntry:
    return ClccEntry(1, False, stat, True, "+255700000001")


def _placed(ring_timeout_s: float = 30.0) -> DialProgress:
    dial = DialProgress(0.0, ring_timeout_s, unlisted_s=5.0)
    assert dial.dial_answered("OK", True) is None  # AT+COLP=0: OK at once
    return dial


def test_connected_from_the_call_list() -> None:
    dial = _placed()
    assert dial.listed([_out(2)], 1.0) is None
    assert dial.listed([_out(3)], 2.0) is None and dial.stage == "alerting"
    verdict = dial.listed([_out(0)], 3.0)
    assert verdict is not None and verdict.outcome == "answered"
    assert dial.ended("no carrier") is None  # the first report decides


@pytest.mark.parametrize(("alerted", "reason", "outcome"), [
    (True, "busy", "busy"), (False, "busy", "busy"),
    (True, "no answer", "no-answer"),
    (True, "no carrier", "rejected"), (True, "voice call end", "rejected"),
    (False, "no carrier", "unreachable"),
    (False, "no dialtone", "failed"),
])
def test_ends(alerted: bool, reason: str, outcome: str) -> None:
    dial = _placed()
    if alerted:
        dial.alerting()
    verdict = dial.ended(reason)
    assert verdict is not None and verdict.outcome == outcome and not verdict.hang_up


@pytest.mark.parametrize(("final", "outcome"), [
    ("BUSY", "busy"), ("NO CARRIER", "unreachable"), ("NO ANSWER", "no-answer"),
    ("NO DIALTONE", "failed"), ("ERROR", "failed"), ("+CME ERROR: 30", "failed"),
])
def test_dial_results_of_firmware_that_waits(final: str, outcome: str) -> None:
    dial = DialProgress(0.0, 30.0)
    verdict = dial.dial_answered(final, False)
    assert verdict is not None and verdict.outcome == outcome


def test_ok_once_connected_then_the_list_confirms() -> None:
    dial = DialProgress(0.0, 30.0)
    assert dial.connected() is not None  # +COLP / MO CONNECTED / VOICE CALL: BEGIN
    assert dial.dial_answered("OK", True) is None


def test_ring_timeout_hangs_up() -> None:
    dial = _placed(ring_timeout_s=20.0)
    dial.alerting()
    assert dial.tick(19.9) is None
    verdict = dial.tick(20.0)
    assert verdict is not None and verdict.outcome == "no-answer" and verdict.hang_up


def test_a_call_never_listed_is_gone_only_after_a_while() -> None:
    dial = _placed()
    assert dial.listed([], 1.0) is None
    assert dial.listed([ClccEntry(1, False, 0, False, None)], 2.0) is None  # an LTE data call
    assert dial.listed([], 5.9) is None
    verdict = dial.listed([], 6.0)
    assert verdict is not None and verdict.outcome == "unreachable"


def test_an_empty_list_before_atd_answered_says_nothing() -> None:
    dial = DialProgress(0.0, 30.0, unlisted_s=1.0)
    assert dial.listed([], 50.0) is None


def test_a_lost_module_fails_the_attempt() -> None:
    verdict = _placed().lost("module restarted (RDY)")
    assert verdict is not None and verdict.outcome == "failed"
