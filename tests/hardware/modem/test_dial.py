"""Placing calls through the real driver over the pty (``ModemLine.dial``): each outcome as
the module reports it, for each profile, with firmware that answers ATD at once (the
manuals' factory default) and firmware that answers only once connected (``atd_ok_late``)."""

from __future__ import annotations

import logging
import threading
import time

import pytest

from edge.lines import Dialer, DialResult, KeyPressed, PlaybackFinished, Utterance
from hardware.modem import KIND
from hardware.modem.simulator import SimPhone

PROFILES = ("sim800", "ec25", "sim7600")
NUMBER = "+255700000123"


def _sent(rig, since: int) -> list[str]:
    return list(rig.sim.model.commands_seen[since:])


def _ready(rig_factory, profile: str = "sim800", variants: frozenset[str] = frozenset(),
           **sim_args: object):
    rig = rig_factory(profile, sim_args={"tts_char_s": 0.002, "variants": set(variants),
                                         **sim_args})
    rig.wait_ready()
    return rig


def test_the_modem_kind_dials() -> None:
    assert KIND.dials


@pytest.mark.parametrize("profile", PROFILES)
@pytest.mark.parametrize("variants", [frozenset(), frozenset({"atd_ok_late"})],
                         ids=["ok-at-once", "atd_ok_late"])
def test_answered_call_takes_prompts_and_keys(rig_factory, wait, profile: str,
                                              variants: frozenset[str],
                                              caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    rig = _ready(rig_factory, profile, variants)
    assert isinstance(rig.line, Dialer) and rig.line.outbound_capacity == 1
    rig.sim.set_phone(NUMBER, SimPhone("answers", rings=1, keys=("1",)))
    result = rig.line.dial(NUMBER, 10.0)
    assert result.outcome == "answered", result
    call = result.call
    assert call.caller.number == NUMBER
    call.answer()  # already answered: nothing happens
    assert rig.line.status().facts["call"] == "active"
    assert not rig.line.ready_to_dial()
    call.play(1, [Utterance("q1.prompt", "en", "Press one")])
    events = []
    while KeyPressed("1") not in events:
        event = call.next_event(5.0)
        assert event is not None, events
        events.append(event)
    assert events[0] == PlaybackFinished(1)
    assert rig.sim.snapshot()["heard"] == ["Press one"]
    call.hang_up()
    wait(lambda: rig.sim.snapshot()["call"] == "idle")
    wait(rig.line.ready_to_dial)
    assert rig.sim.snapshot()["dialled"] == [NUMBER]
    assert NUMBER[4:] not in caplog.text  # logs never carry the number dialled


@pytest.mark.parametrize("profile", PROFILES)
def test_busy(rig_factory, profile: str) -> None:
    rig = _ready(rig_factory, profile)
    rig.sim.set_phone(NUMBER, SimPhone("busy"))
    result = rig.line.dial(NUMBER, 10.0)
    assert (result.outcome, result.call) == ("busy", None)
    assert rig.line.ready_to_dial()


def test_busy_as_the_dial_result_on_late_firmware(rig_factory) -> None:
    rig = _ready(rig_factory, "ec25", frozenset({"atd_ok_late"}))
    rig.sim.set_phone(NUMBER, SimPhone("busy"))
    assert rig.line.dial(NUMBER, 10.0).outcome == "busy"


@pytest.mark.parametrize("profile", PROFILES)
def test_the_network_gives_up_ringing(rig_factory, profile: str) -> None:
    rig = _ready(rig_factory, profile)
    rig.sim.set_phone(NUMBER, SimPhone("no-answer", rings=2))
    start = len(rig.sim.model.commands_seen)
    result = rig.line.dial(NUMBER, 30.0)
    assert result.outcome == "no-answer" and "NO ANSWER" in result.detail
    assert not {"ATH", "AT+CHUP"} & set(_sent(rig, start))  # nothing left to hang up


@pytest.mark.parametrize("profile", PROFILES)
@pytest.mark.parametrize("variants", [frozenset(), frozenset({"atd_ok_late"})],
                         ids=["ok-at-once", "atd_ok_late"])
def test_ring_timeout_hangs_up(rig_factory, wait, profile: str,
                               variants: frozenset[str]) -> None:
    rig = _ready(rig_factory, profile, variants)
    rig.sim.set_phone(NUMBER, SimPhone("no-answer", rings=None))  # rings on and on
    start = len(rig.sim.model.commands_seen)
    began = time.monotonic()
    result = rig.line.dial(NUMBER, 2.0)
    assert result.outcome == "no-answer" and "no answer in 2 s" in result.detail
    assert time.monotonic() - began < 6.0
    sent = _sent(rig, start)
    assert {"ATH", "AT+CHUP"} <= {c.removeprefix("(abort) ") for c in sent}
    if variants:  # ATD still waited for its result: a character aborted it first
        assert any(c.startswith("(abort) ") for c in sent)
    wait(lambda: rig.sim.snapshot()["call"] == "idle")
    wait(rig.line.ready_to_dial)


@pytest.mark.parametrize("profile", PROFILES)
def test_no_dialtone_is_a_failure_on_our_side(rig_factory, profile: str) -> None:
    rig = _ready(rig_factory, profile)
    rig.sim.set_phone(NUMBER, SimPhone("no-dialtone"))
    result = rig.line.dial(NUMBER, 10.0)
    assert result.outcome == "failed" and "NO DIALTONE" in result.detail


@pytest.mark.parametrize(("behaviour", "outcome"), [("rejects", "rejected"),
                                                    ("unreachable", "unreachable")])
@pytest.mark.parametrize("profile", PROFILES)
def test_declined_and_unreachable(rig_factory, profile: str, behaviour: str,
                                  outcome: str) -> None:
    rig = _ready(rig_factory, profile)
    rig.sim.set_phone(NUMBER, SimPhone(behaviour, rings=1))
    assert rig.line.dial(NUMBER, 10.0).outcome == outcome


def test_the_callee_hangs_up_after_answering(rig_factory) -> None:
    rig = _ready(rig_factory, "sim7600")
    rig.sim.set_phone(NUMBER, SimPhone("answers", rings=1, hang_up_after_s=0.3))
    call = rig.line.dial(NUMBER, 10.0).call
    assert call is not None
    event = call.next_event(5.0)
    assert event is not None and type(event).__name__ == "RemoteHangup"


def test_no_dial_when_not_registered_or_busy(rig_factory, wait) -> None:
    rig = _ready(rig_factory, "ec25")
    rig.sim.set_registration(2)
    wait(lambda: rig.line.status().facts.get("registered") is False)
    result = rig.line.dial(NUMBER, 10.0)
    assert result == DialResult("failed", detail="the module is not registered on the network")
    assert rig.sim.snapshot()["dialled"] == []
    rig.sim.set_registration(1)
    wait(rig.line.ready_to_dial)
    rig.ring("+255700000999")  # a caller takes the module
    assert not rig.line.ready_to_dial()
    assert rig.line.dial(NUMBER, 10.0).outcome == "failed"


def test_a_module_dialling_takes_no_incoming_call(rig_factory, wait) -> None:
    rig = _ready(rig_factory, "sim800")
    rig.sim.set_phone(NUMBER, SimPhone("answers", rings=2))
    results: list[DialResult] = []
    dialler = threading.Thread(target=lambda: results.append(rig.line.dial(NUMBER, 10.0)))
    dialler.start()
    wait(lambda: rig.line.status().facts["call"] == "dialling")
    # A caller rings the same number meanwhile (the network would give them busy or
    # call waiting): the server never hears of it.
    rig.sim._do(lambda m: (m.urc("RING"), m.urc('+CLIP: "+255700000777",145,"",0,"",0')))
    dialler.join(10)
    assert results and results[0].outcome == "answered"
    assert rig.calls == []
    results[0].call.hang_up()


def test_module_reboot_while_dialling_fails_the_attempt(rig_factory, wait) -> None:
    rig = _ready(rig_factory, "sim800")
    rig.sim.set_phone(NUMBER, SimPhone("no-answer", rings=None))
    results: list[DialResult] = []
    dialler = threading.Thread(target=lambda: results.append(rig.line.dial(NUMBER, 20.0)))
    dialler.start()
    wait(lambda: rig.sim.snapshot()["call"] != "idle")
    rig.sim.reboot()
    dialler.join(15)
    assert results and results[0].outcome == "failed"
    wait(rig.line.ready_to_dial, timeout=15)
