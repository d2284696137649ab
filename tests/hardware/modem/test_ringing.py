"""A ringing call on modules that list it late or never, callers without caller id, an answer
for a call already given up, and declining a call unanswered (the busy policy)."""

from __future__ import annotations

import threading
import time

import pytest

from edge.lines import CallGone, KeyPressed, RemoteHangup
from hardware.modem._ringing import RingingCheck, UnknownRings

PROFILES = ("sim800", "ec25", "sim7600")


def test_ringing_is_over_only_when_empty_and_silent_for_the_whole_window() -> None:
    check = RingingCheck(10.0, now=0.0)
    assert not check.empty(1.0)
    check.ring(4.0)  # RINGs keep coming: the call rings whatever the list says
    assert not check.empty(12.0)
    assert check.empty(14.0)
    late = RingingCheck(10.0, now=0.0)
    assert not late.empty(1.0)
    late.listed()  # listed at last: the empty reads before it do not count
    assert not late.empty(11.5)
    assert late.empty(21.5)


def test_unknown_rings_count_per_run() -> None:
    rings = UnknownRings(3, gap_s=10.0)
    for now in (0.0, 4.0):
        rings.ring(now)
    assert not rings.due
    rings.ring(30.0)  # a new caller: the run starts again
    assert not rings.due
    rings.ring(34.0)
    rings.ring(38.0)
    assert rings.due
    rings.reset()
    assert not rings.due


def _commands(rig, since: int = 0) -> list[str]:
    return list(rig.sim.model.commands_seen[since:])


@pytest.mark.parametrize("profile", PROFILES)
def test_a_late_listing_does_not_drop_a_ringing_call(rig_factory, wait, profile: str) -> None:
    rig = rig_factory(profile, sim_args={"variants": {"late_clcc=3"}})
    rig.wait_ready()
    call = rig.ring()
    start = len(rig.sim.model.commands_seen)
    # The server answers a moment later: by then the line has read an empty call list.
    wait(lambda: _commands(rig, start).count("AT+CLCC") >= 2)
    assert call.next_event(0) is None  # no hang-up: the call still rings
    call.answer()
    wait(lambda: rig.sim.snapshot()["call"] == "active")
    rig.sim.press("7")
    assert call.next_event(5) == KeyPressed("7")
    call.hang_up()
    wait(lambda: rig.sim.snapshot()["call"] == "idle")


@pytest.mark.parametrize("profile", PROFILES)
def test_never_listed_while_ringing_and_no_caller_id(rig_factory, wait, profile: str) -> None:
    rig = rig_factory(profile, sim_args={"variants": {"no_clcc_ringing", "no_clip"}})
    rig.wait_ready()
    call = rig.ring("+255712345678")  # RING only, and an empty list: answered all the same
    assert call.caller.number is None and not call.caller.withheld  # unknown, not withheld
    call.answer()
    rig.sim.press("12")
    assert [call.next_event(5), call.next_event(5)] == [KeyPressed("1"), KeyPressed("2")]
    rig.sim.remote_hangup()
    assert isinstance(call.next_event(5), RemoteHangup)


@pytest.mark.parametrize("rings", [1, 4])
def test_unknown_caller_is_answered_after_the_configured_rings(rig_factory, wait,
                                                               rings: int) -> None:
    rig = rig_factory("sim800", sim_args={"variants": {"no_clcc_ringing", "no_clip"},
                                          "ring_interval": 0.4},
                      answer_unknown_after_rings=rings)
    rig.wait_ready()
    started = time.monotonic()
    rig.ring()
    took = time.monotonic() - started
    assert (rings - 1) * 0.4 - 0.1 <= took < (rings - 1) * 0.4 + 1.0


def test_answer_for_a_call_given_up_meanwhile_hangs_up(rig_factory, wait) -> None:
    # One RING (the next would come after 30 s) and never listed: after 2 s of empty lists
    # without a RING the line gives the call up. The read that decides it is slow, and ATA
    # is queued behind it: the module then answers a call the line no longer has.
    rig = rig_factory("sim800", sim_args={"variants": {"no_clcc_ringing"}, "ring_interval": 30},
                      ringing_gone_s=2.0, clcc_poll_s=0.5)
    rig.wait_ready()
    call = rig.ring()
    start = len(rig.sim.model.commands_seen)
    wait(lambda: _commands(rig, start).count("AT+CLCC") >= 2)  # lists read empty, < 2 s
    rig.sim.fault(slow_s=1.6, slow_count=1, slow_command="+CLCC")  # < timeout
    seen = _commands(rig, start).count("AT+CLCC")
    wait(lambda: _commands(rig, start).count("AT+CLCC") > seen)  # the slow read is in flight
    with pytest.raises(CallGone):
        call.answer()
    tail = _commands(rig, start)
    assert "ATA" in tail
    after = tail[tail.index("ATA"):]
    assert "ATH" in after and "AT+CHUP" in after  # back on hook, both ways
    wait(lambda: rig.sim.snapshot()["call"] == "idle")
    assert isinstance(call.next_event(1), RemoteHangup)


@pytest.mark.parametrize("profile", PROFILES)
@pytest.mark.parametrize("where", ["line thread", "server thread"])
def test_reject_declines_a_ringing_call_unanswered(rig_factory, wait, profile: str,
                                                   where: str) -> None:
    declined = threading.Event()

    def decline(call) -> None:
        call.reject()
        declined.set()

    rig = rig_factory(profile, sim_args={"ring_interval": 0.2},
                      on_call=decline if where == "line thread" else None)
    rig.wait_ready()
    start = len(rig.sim.model.commands_seen)
    call = rig.ring()
    if where == "server thread":
        call.reject()
        declined.set()
    assert declined.wait(5)
    wait(lambda: rig.sim.snapshot()["call"] == "idle")  # the caller hears busy
    hangup = rig.line.profile.hangup
    assert hangup in _commands(rig, start)
    assert "ATA" not in _commands(rig, start)  # never answered: the caller pays nothing
    time.sleep(0.6)  # several ring intervals: no RING may turn into a new call
    assert rig.calls == [call]
    call.reject()  # again: nothing happens
    call.hang_up()
    assert "ATA" not in _commands(rig, start)
