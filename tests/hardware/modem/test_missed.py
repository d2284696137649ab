"""Missed calls through the real driver: a caller who rings off before the box answers
reaches the server as a call whose ``answer()`` raises ``CallGone`` (so the server queues a
"missed" callback), whatever the module says about it."""

from __future__ import annotations

import pytest

from edge.lines import CallGone

PROFILES = ("sim800", "ec25", "sim7600")


@pytest.mark.parametrize("profile", PROFILES)
def test_ring_then_gone_is_a_call_already_gone(rig_factory, wait, profile: str) -> None:
    rig = rig_factory(profile)
    rig.wait_ready()
    before = len(rig.sim.model.commands_seen)
    rig.sim.incoming_call("+255700000111", rings=1)  # RING, +CLIP, then NO CARRIER/MISSED_CALL
    wait(lambda: rig.calls)
    call = rig.calls[0]
    assert call.caller.number == "+255700000111"
    wait(lambda: call.hung_up_remotely)
    with pytest.raises(CallGone):
        call.answer()
    assert "ATA" not in rig.sim.model.commands_seen[before:]  # nobody picked up, nobody paid
    assert rig.line.ready_to_dial()  # nothing rings any more: the box may call back at once


def test_missed_call_report_alone_still_reaches_the_server(rig_factory, wait) -> None:
    # SIM7600 reports a caller who gave up as MISSED_CALL; when the RING and +CLIP before it
    # were lost, the server must still hear of the call to call it back.
    rig = rig_factory("sim7600")
    rig.wait_ready()
    rig.sim._do(lambda m: m.urc("MISSED_CALL: 08:48AM +255700000112"))
    wait(lambda: rig.calls)
    call = rig.calls[0]
    assert call.caller.number == "+255700000112"
    with pytest.raises(CallGone):
        call.answer()
    call.reject()  # the server may still decline it: nothing to do
