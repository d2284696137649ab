"""Faults: unplug, reboot mid-call, dropped OK, silent module, CME bursts, SIM problems,
noise, slow answers, URCs inside responses."""

from __future__ import annotations

import time

import pytest

from edge.lines import KeyPressed, PlaybackFinished, RemoteHangup, Utterance

PROFILES = ("sim800", "ec25", "sim7600")
RECONNECT_BOUND_S = 8.0  # max_backoff_s 0.5 in the rig: reconnect well inside this


@pytest.mark.parametrize("profile", PROFILES)
def test_unplug_mid_call_then_reconnect(rig_factory, wait, profile: str) -> None:
    rig = rig_factory(profile)
    rig.wait_ready()
    call = rig.ring()
    call.answer()
    rig.sim.unplug(down_s=1.0)
    assert isinstance(call.next_event(5), RemoteHangup)
    wait(lambda: rig.line.status().state == "down", 5)
    assert "retrying" in rig.line.status().detail
    unplugged = time.monotonic()
    rig.wait_ready(RECONNECT_BOUND_S)
    assert time.monotonic() - unplugged < RECONNECT_BOUND_S
    assert rig.line.status().facts["port_opened"] >= 2
    # Back in service, with the module's settings restored (echo off, DTMF on).
    call = rig.ring()
    call.answer()
    rig.sim.press("42")
    assert [call.next_event(5), call.next_event(5)] == [KeyPressed("4"), KeyPressed("2")]


@pytest.mark.parametrize("profile", PROFILES)
def test_reboot_mid_call(rig_factory, wait, profile: str) -> None:
    rig = rig_factory(profile)
    rig.wait_ready()
    call = rig.ring()
    call.answer()
    call.play(1, [Utterance("p", "en", "Hello")])
    rig.sim.reboot()
    events = [call.next_event(5) for _ in range(2)]
    assert RemoteHangup("modem reboot") in events
    assert call.next_event(0.01) == RemoteHangup("modem reboot")
    wait(lambda: rig.line.status().facts["call"] == "idle")
    rig.wait_ready()
    wait(lambda: rig.sim.snapshot()["dtmf_on"] and not rig.sim.snapshot()["echo"])
    call = rig.ring()
    call.answer()
    rig.sim.press("7")
    assert call.next_event(5) == KeyPressed("7")


def test_dropped_ok_times_out_probes_and_goes_on(rig_factory, wait) -> None:
    rig = rig_factory("sim800")
    rig.wait_ready()
    call = rig.ring()
    call.answer()
    rig.sim.fault(drop_ok=1)
    call.play(1, [Utterance("p", "en", "After a lost OK")])  # the TTS OK is the one dropped
    rig.sim.press("5")
    events = [call.next_event(10) for _ in range(2)]
    assert KeyPressed("5") in events
    assert PlaybackFinished(1) in events
    wait(lambda: rig.line.status().facts["command_timeouts"] >= 1)
    assert rig.line.status().facts["reopened_after_timeout"] == 0
    assert rig.sim.snapshot()["call"] == "active"


def test_silent_module_is_reopened(rig_factory, wait) -> None:
    rig = rig_factory("ec25", sim_args={"boot_s": 5.0})
    rig.wait_ready()
    rig.sim.fault(slow_s=30.0, slow_count=1)  # one answer never comes in time
    with rig.sim._lock:  # the module hangs: it reads nothing for boot_s
        rig.sim.model.reboot(silent=True)
    wait(lambda: rig.line.status().facts["command_timeouts"] >= 1, 40)
    wait(lambda: rig.line.status().facts["reopened_after_timeout"] >= 1, 40)
    rig.wait_ready(30)


@pytest.mark.parametrize("code", [515, 14])
def test_cme_burst_at_init_is_retried(rig_factory, code: int) -> None:
    rig = rig_factory("sim800", start=False)
    rig.sim.fault(cme_burst=[code] * 4)
    rig.start()
    rig.wait_ready(20)
    assert rig.line.status().facts["sim"] == "ready"


def test_sim_missing_then_inserted(rig_factory, wait) -> None:
    rig = rig_factory("sim800", start=False)
    rig.sim.set_sim("missing")
    rig.start()
    wait(lambda: rig.line.status().state == "down")
    status = rig.line.status()
    assert status.facts["sim"] == "missing"
    assert "insert a SIM" in status.detail
    rig.sim.set_sim("ready")  # a swap reboots the module
    rig.wait_ready(15)


def test_pin_required_without_and_with_pin(rig_factory, wait) -> None:
    rig = rig_factory("ec25", start=False)
    rig.sim.set_sim("pin")
    rig.start()
    wait(lambda: rig.line.status().state == "down")
    assert rig.line.status().facts["sim"] == "pin required"
    assert "set pin" in rig.line.status().detail

    other = rig_factory("ec25", start=False, pin="1234")
    other.sim.set_sim("pin")
    other.start()
    other.wait_ready(15)

    wrong = rig_factory("ec25", start=False, pin="9999")
    wrong.sim.set_sim("pin")
    wrong.start()
    wait(lambda: wrong.line.status().facts.get("sim") == "pin rejected")
    wait(lambda: wrong.line.status().state == "down")
    time.sleep(1.0)  # the module's own boot report comes later and triggers another init
    pins = [c for c in wrong.sim.model.commands_seen if c.startswith("AT+CPIN=")]
    assert pins == ['AT+CPIN="9999"']  # tried once only: three wrong PINs lock the SIM


@pytest.mark.parametrize("profile", PROFILES)
def test_noise_slow_answers_and_urcs_inside_responses(rig_factory, wait, profile: str) -> None:
    rig = rig_factory(profile)
    rig.wait_ready()
    rig.sim.noise()
    rig.sim.fault(sandwich=5, slow_s=0.8, slow_count=3)
    call = rig.ring()
    call.answer()
    rig.sim.noise()
    call.play(1, [Utterance("p", "en", "Still fine")])
    rig.sim.press("12")
    events = [call.next_event(10) for _ in range(3)]
    assert [e for e in events if isinstance(e, KeyPressed)] == [KeyPressed("1"), KeyPressed("2")]
    assert PlaybackFinished(1) in events
    assert rig.line.status().facts["command_timeouts"] == 0


def test_registration_and_signal_changes_show_in_status(rig_factory, wait) -> None:
    rig = rig_factory("sim800")
    rig.wait_ready()
    rig.sim.set_registration(2)  # a +CREG URC
    wait(lambda: rig.line.status().state == "degraded")
    assert "searching" in rig.line.status().detail
    rig.sim.set_signal(3)
    rig.sim.set_registration(5)
    wait(lambda: rig.line.status().facts.get("signal_dbm") == -107, 10)
    status = rig.line.status()
    assert status.state == "ready" and "roaming" in status.detail
    assert status.facts["signal"].startswith("marginal")
