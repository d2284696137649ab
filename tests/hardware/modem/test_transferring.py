"""What a transfer's module answers come to (``_transferring``, pure): the AT+CHLD=? forms
manuals print, the held call, the way back to the caller, the statuses the survey hears."""

from __future__ import annotations

import pytest

from edge.lines import DIAL_OUTCOMES, TRANSFER_STATUSES
from hardware.modem._parser import ClccEntry
from hardware.modem._transferring import (
    STATUS_FOR_OUTCOME,
    WayBack,
    held_call,
    supported_holds,
    way_back,
)

HANGUPS = ("AT+CHUP", "ATH")


@pytest.mark.parametrize(("lines", "expected"), [
    # SIM7600 AT manual V1.07 (values)
    (["+CHLD: (0,1,1x,2,2x,3,4)"], {"0", "1", "1x", "2", "2x", "3", "4"}),
    # Multi-Tech / Westermo GSM manuals (ranges; 11-17 is "1x")
    (["+CHLD: (0-4, 11-17, 21-27)"], {"0", "1", "2", "3", "4", "1x", "2x"}),
    # A module without ECT (Fibocom G510 manual)
    (["+CHLD: (0,1,1x,2,2x,3)"], {"0", "1", "1x", "2", "2x", "3"}),
    (["+CHLD: (\"0\",\"1\",\"2\",\"3\",\"4\")"], {"0", "1", "2", "3", "4"}),
    (["OK"], set()),
])
def test_the_operations_a_module_lists(lines: list[str], expected: set[str]) -> None:
    assert supported_holds(lines) == expected


def call(index: int, stat: int, incoming: bool = True) -> ClccEntry:
    return ClccEntry(index, incoming, stat, True, "+255700000001")


def test_the_held_call_is_the_one_with_stat_1() -> None:
    assert held_call([call(2, 3, False), call(1, 1)]) == call(1, 1)
    assert held_call([call(1, 0)]) is None
    assert held_call([ClccEntry(1, True, 1, False, None)]) is None  # data, not voice


@pytest.mark.parametrize(("calls", "expected"), [
    # The number rings on after the ring timeout: release it, retrieve the caller.
    ([call(1, 1), call(2, 3, False)], WayBack(("AT+CHLD=12", "AT+CHLD=2"), False)),
    # The number was busy (already gone): retrieve the caller only.
    ([call(1, 1)], WayBack(("AT+CHLD=2",), False)),
    # A module that retrieved the caller by itself: nothing to do (2 would hold them again).
    ([call(1, 0)], WayBack((), False)),
    # A disconnected entry is gone already.
    ([call(1, 1), call(2, 6, False)], WayBack(("AT+CHLD=2",), False)),
    # The caller hung up while held; the number still rings: hang everything up.
    ([call(2, 3, False)], WayBack(HANGUPS, True)),
    ([], WayBack((), True)),
])
def test_the_way_back_to_the_caller(calls: list[ClccEntry], expected: WayBack) -> None:
    assert way_back(calls, 1, HANGUPS) == expected


def test_the_caller_held_as_call_2_after_a_callback() -> None:
    # A box that called back: its own call is outgoing; it may carry any index.
    assert way_back([call(2, 1, False), call(1, 0, False)], 2, HANGUPS) == \
        WayBack(("AT+CHLD=11", "AT+CHLD=2"), False)


def test_every_dial_outcome_is_a_status_the_survey_knows() -> None:
    assert set(STATUS_FOR_OUTCOME) == set(DIAL_OUTCOMES)
    assert set(STATUS_FOR_OUTCOME.values()) <= set(TRANSFER_STATUSES)
    assert STATUS_FOR_OUTCOME["answered"] == "completed"
