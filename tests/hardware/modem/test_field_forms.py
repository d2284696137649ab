"""Forms seen in the field: every DTMF report form, keys from a module that refused the DTMF
enable, +CMGR answering a bare OK after +CMTI, and AT+CREG? in the short form."""

from __future__ import annotations

import pytest

from edge.lines import KeyPressed

PROFILES = ("sim800", "ec25", "sim7600")


def _keys(call, count: int) -> list[str]:
    keys = []
    for _ in range(count):
        event = call.next_event(5)
        assert isinstance(event, KeyPressed), (keys, event)
        keys.append(event.digit)
    return keys


@pytest.mark.parametrize("profile", PROFILES)
def test_every_dtmf_form(rig_factory, profile: str) -> None:
    rig = rig_factory(profile, sim_args={"variants": {"dtmf_forms"}})
    rig.wait_ready()
    call = rig.ring()
    call.answer()
    rig.sim.press("1234567*#0ABCD9", duration_ms=160, gap_s=0.02)  # each form twice over
    assert "".join(_keys(call, 15)) == "1234567*#0ABCD9"


@pytest.mark.parametrize("profile", PROFILES)
def test_keys_arrive_though_the_dtmf_enable_was_refused(rig_factory, wait,
                                                        profile: str) -> None:
    rig = rig_factory(profile, sim_args={"variants": {"ddet_error"}})
    rig.wait_ready()  # the line keeps going
    assert rig.line.status().facts["dtmf_reporting"] == "refused"
    call = rig.ring()
    call.answer()
    rig.sim.press("42#")
    assert _keys(call, 3) == ["4", "2", "#"]


@pytest.mark.parametrize("profile", PROFILES)
def test_sms_stored_where_cmgr_does_not_look(rig_factory, wait, profile: str) -> None:
    rig = rig_factory(profile, sim_args={"variants": {"cmgr_empty"}})
    rig.wait_ready()
    rig.sim.sms_in("+255700000009", "Habari, first")
    wait(lambda: rig.sms)
    rig.sim.sms_in("+255700000008", "second")
    wait(lambda: len(rig.sms) == 2)
    assert rig.sms == [("+255700000009", "Habari, first"), ("+255700000008", "second")]
    wait(lambda: not rig.sim.model.sms)  # deleted where it was stored


@pytest.mark.parametrize("variant", ["creg_short", "creg_act"])
@pytest.mark.parametrize("profile", PROFILES)
def test_registration_forms(rig_factory, wait, profile: str, variant: str) -> None:
    rig = rig_factory(profile, sim_args={"variants": {variant}})
    rig.wait_ready()
    assert rig.line.status().facts["registration"] == "registered (home)"
    with rig.sim._lock:
        rig.sim.model.reg = 5  # roaming now; no URC: only the next poll tells
    wait(lambda: rig.line.status().facts["registration"] == "registered (roaming)", 10)
    assert rig.line.status().state == "ready"
    rig.sim.set_registration(2)  # a URC, in the variant's form
    wait(lambda: rig.line.status().facts["registration"] == "searching", 10)
