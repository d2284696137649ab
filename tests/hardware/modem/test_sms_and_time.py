"""SMS in and out (text mode, UCS2, a body reading OK, during a call) and network time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from edge.lines import KeyPressed, PlaybackFinished, Utterance

PROFILES = ("sim800", "ec25", "sim7600")


@pytest.mark.parametrize("profile", PROFILES)
def test_sms_in_with_ok_and_ring_in_the_body(rig_factory, wait, profile: str) -> None:
    rig = rig_factory(profile)
    rig.wait_ready()
    rig.sim.sms_in("+255700000009", "OK\nRING\nall OK")
    wait(lambda: rig.sms)
    assert rig.sms == [("+255700000009", "OK\nRING\nall OK")]
    wait(lambda: not rig.sim.model.sms)  # deleted from the SIM once handed over


def test_sms_in_non_latin(rig_factory, wait) -> None:
    rig = rig_factory("ec25")
    rig.wait_ready()
    rig.sim.sms_in("+255700000009", "مرحبا 1")
    wait(lambda: rig.sms)
    assert rig.sms == [("+255700000009", "مرحبا 1")]


@pytest.mark.parametrize("profile", PROFILES)
def test_sms_out_with_ok_in_the_body(rig_factory, profile: str) -> None:
    rig = rig_factory(profile)
    rig.wait_ready()
    assert rig.line.send_sms("+255700000001", "OK\r\nERROR is not a result", timeout=10) is not None
    assert rig.line.send_sms("+255700000002", "Asante sana, ружа", timeout=10) is not None
    assert rig.sim.snapshot()["sent_sms"] == [
        ("+255700000001", "OK\r\nERROR is not a result"),
        ("+255700000002", "Asante sana, ружа"),
    ]
    # Back to the GSM character set afterwards, or incoming SMS would arrive as hex.
    assert rig.sim.model.cscs == "GSM"


def test_sms_with_echo_on_is_not_confused(rig_factory) -> None:
    rig = rig_factory("sim800")
    rig.wait_ready()
    rig.line.driver.execute("ATE1")
    assert rig.line.send_sms("+255700000001", "OK\nERROR", timeout=10) is not None
    assert rig.line.driver.execute("AT+CSQ", expect=("+CSQ",)).lines == ["+CSQ: 20,99"]


@pytest.mark.parametrize("profile", PROFILES)
def test_sms_during_a_call_does_not_disturb_it(rig_factory, wait, profile: str) -> None:
    rig = rig_factory(profile)
    rig.wait_ready()
    call = rig.ring()
    call.answer()
    call.play(1, [Utterance("q", "en", "Press your answer after the tone")])
    rig.sim.press("1")
    rig.sim.sms_in("+255700000009", "OK during a call")
    rig.sim.press("2#", gap_s=0.02)
    events = []
    while PlaybackFinished(1) not in events or len(events) < 4:
        event = call.next_event(5)
        assert event is not None, events
        events.append(event)
    assert [e for e in events if isinstance(e, KeyPressed)] == [KeyPressed(d) for d in "12#"]
    wait(lambda: rig.sms)
    assert rig.sms == [("+255700000009", "OK during a call")]
    assert rig.sim.snapshot()["call"] == "active"
    assert call.next_event(0.2) is None  # no hang-up, no stray event


def test_network_time_psuttz_and_rejected_years(rig_factory, wait) -> None:
    rig = rig_factory("sim800")
    rig.wait_ready()
    assert rig.times == []  # the module's RTC says 2004: not passed on
    sent = datetime.now(UTC).replace(microsecond=0) + timedelta(hours=3)
    rig.sim.network_time(sent)
    wait(lambda: rig.times)
    assert all(t.tzinfo is not None for t in rig.times)
    assert abs(rig.times[0] - sent) < timedelta(seconds=3)


@pytest.mark.parametrize("profile", ["ec25", "sim7600"])
def test_network_time_by_polling(rig_factory, wait, profile: str) -> None:
    rig = rig_factory(profile)
    rig.wait_ready()
    sent = datetime.now(UTC).replace(microsecond=0) - timedelta(days=2)
    rig.sim.network_time(sent)  # these modules only answer when asked (+QLTS / +CCLK)
    wait(lambda: rig.times, 10)
    assert abs(rig.times[0] - sent) < timedelta(seconds=3)
    assert rig.times[0].utcoffset() == timedelta(0)
