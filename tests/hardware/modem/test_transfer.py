"""Handing a caller to a number through the real driver over the pty (``ModemCall.transfer``,
explicit call transfer): the simulator's hold, second call and AT+CHLD=4 were written from
the manuals (hardware/modem/simulator/_transfer.py), not from this driver."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from edge.lines import Call, CallEvent, PlaybackFinished, RemoteHangup, TransferFinished, Utterance
from edge.privacy import Pseudonymiser
from edge.server import run_call
from edge.store import Store
from edge.survey import compile_survey
from hardware.modem.simulator import SimPhone

PROFILES = ("sim800", "ec25", "sim7600")
CALLER = "+255712345678"
DESK = "+255700000100"


def _answered(rig_factory, profile: str = "sim800", variants: tuple[str, ...] = (),
              **settings: object):  # type: ignore[no-untyped-def]
    rig = rig_factory(profile, sim_args={"tts_char_s": 0.002, "variants": set(variants)},
                      **settings)
    rig.wait_ready()
    call = rig.ring(CALLER)
    call.answer()
    return rig, call


def _events_until(call: Call, wanted: type, timeout: float = 20.0) -> list[CallEvent]:
    events: list[CallEvent] = []
    while not any(isinstance(e, wanted) for e in events):
        event = call.next_event(timeout)
        assert event is not None, f"no {wanted.__name__} in {timeout} s; got {events}"
        events.append(event)
    return events


def _calls(rig) -> list[tuple[int, str]]:  # type: ignore[no-untyped-def]
    return rig.sim._do(lambda m: [(c.index, c.state) for c in m.calls()])


def _sent(rig, prefix: str) -> list[str]:  # type: ignore[no-untyped-def]
    return [c for c in rig.sim.model.commands_seen if c.startswith(prefix)]


def _back_with_the_survey(call: Call) -> None:
    """The caller hears the survey again: a prompt plays to its end."""
    call.play(7, [Utterance("sorry.prompt", "en", "Nobody is free")])
    assert PlaybackFinished(7) in _events_until(call, PlaybackFinished)


@pytest.mark.parametrize("profile", PROFILES)
def test_the_caller_is_handed_over_once_the_number_answers(rig_factory, wait,
                                                           profile: str) -> None:
    rig, call = _answered(rig_factory, profile)
    rig.sim.set_phone(DESK, SimPhone("answers", rings=2))
    call.transfer(1, DESK, 10.0)
    events = _events_until(call, RemoteHangup)
    assert TransferFinished(1, "completed", "joined by AT+CHLD=4") in events
    assert events.index(TransferFinished(1, "completed", "joined by AT+CHLD=4")) < \
        next(i for i, e in enumerate(events) if isinstance(e, RemoteHangup))
    assert rig.sim.transferred() == [(CALLER, DESK)]
    assert _sent(rig, "AT+CHLD") == ["AT+CHLD=?", "AT+CHLD=2", "AT+CHLD=4"]
    assert _calls(rig) == []
    wait(lambda: rig.line.ready_to_dial(), 15)  # the module is free for the next caller
    call.hang_up()  # what the server does next: nothing left to hang up
    assert rig.sim.transferred() == [(CALLER, DESK)]


@pytest.mark.parametrize(("phone", "status"), [
    (SimPhone("busy", rings=1), "busy"),
    (SimPhone("rejects", rings=1), "busy"),
    (SimPhone("unreachable"), "failed"),
])
def test_a_number_that_does_not_answer_gives_the_caller_back(rig_factory, phone: SimPhone,
                                                             status: str) -> None:
    rig, call = _answered(rig_factory)
    rig.sim.set_phone(DESK, phone)
    call.transfer(1, DESK, 10.0)
    (finished,) = [e for e in _events_until(call, TransferFinished)
                   if isinstance(e, TransferFinished)]
    assert finished.status == status and finished.transfer_id == 1
    assert _calls(rig) == [(1, "active")]  # retrieved, not left on hold
    assert rig.sim.transferred() == []
    _back_with_the_survey(call)


def test_no_answer_in_time_releases_the_number_and_retrieves_the_caller(rig_factory) -> None:
    rig, call = _answered(rig_factory, "ec25")
    rig.sim.set_phone(DESK, SimPhone("no-answer", rings=None))
    call.transfer(1, DESK, 2.0)
    events = _events_until(call, TransferFinished)
    assert events[-1].status == "no-answer"  # type: ignore[union-attr]
    assert "AT+CHLD=12" in _sent(rig, "AT+CHLD") and _sent(rig, "AT+CHLD")[-1] == "AT+CHLD=2"
    assert _calls(rig) == [(1, "active")]
    _back_with_the_survey(call)


def test_a_network_that_refuses_the_transfer(rig_factory) -> None:
    rig, call = _answered(rig_factory, "sim7600", ("ect_refused",))
    rig.sim.set_phone(DESK, SimPhone("answers", rings=1))
    call.transfer(3, DESK, 10.0)
    finished = _events_until(call, TransferFinished)[-1]
    assert finished == TransferFinished(3, "failed", finished.detail)  # type: ignore[union-attr]
    assert "refused the transfer" in finished.detail  # type: ignore[union-attr]
    assert _calls(rig) == [(1, "active")]  # the desk released, the caller back
    _back_with_the_survey(call)


def test_a_module_without_ect_never_holds_the_caller(rig_factory) -> None:
    rig, call = _answered(rig_factory, "sim800", ("no_ect",))
    call.transfer(1, DESK, 10.0)
    finished = _events_until(call, TransferFinished)[-1]
    assert finished.status == "unsupported"  # type: ignore[union-attr]
    assert _sent(rig, "AT+CHLD") == ["AT+CHLD=?"] and not _sent(rig, "ATD")
    call.transfer(2, DESK, 10.0)  # the list is read once per line
    assert _events_until(call, TransferFinished)[-1].status == "unsupported"  # type: ignore[union-attr]
    assert _sent(rig, "AT+CHLD") == ["AT+CHLD=?"]
    _back_with_the_survey(call)


def test_transfers_turned_off(rig_factory) -> None:
    rig, call = _answered(rig_factory, transfers=False)
    call.transfer(1, DESK, 10.0)
    assert _events_until(call, TransferFinished)[-1].status == "unsupported"  # type: ignore[union-attr]
    assert not _sent(rig, "AT+CHLD")


def test_the_caller_hangs_up_while_the_number_rings(rig_factory, wait) -> None:
    rig, call = _answered(rig_factory)
    rig.sim.set_phone(DESK, SimPhone("no-answer", rings=None))
    call.transfer(1, DESK, 20.0)
    wait(lambda: [s for _i, s in _calls(rig)] == ["held", "ringing"]
         or len(_calls(rig)) == 2, 10)
    rig.sim.caller_hangs_up()
    events = _events_until(call, RemoteHangup)
    (finished,) = [e for e in events if isinstance(e, TransferFinished)]
    assert finished.status == "failed" and "hung up while held" in finished.detail
    assert _calls(rig) == []  # the number's call was hung up too: nobody pays for it
    assert rig.sim.transferred() == []


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    opened = Store.open(tmp_path / "store")
    yield opened
    opened.close()


HOTLINE = {
    "id": "hotline", "version": "1", "languages": ["en"],
    "states": [
        {"name": "operator", "type": "connect", "noun": "number", "to": DESK, "timeout": 10,
         "callCompleted": "check", "hangup": None},
        {"name": "check", "type": "split", "input": "{{widgets.operator.DialCallStatus}}",
         "cases": [{"equal_to": "busy", "next": "busy"}], "noMatch": "bye"},
        {"name": "busy", "type": "say", "prompt": {"en": "Everyone is busy."}, "next": "bye"},
        {"name": "bye", "type": "end", "prompt": {"en": "Goodbye."}},
    ],
}


@pytest.mark.parametrize(("phone", "disposition", "heard"), [
    (SimPhone("answers", rings=1), "complete", []),
    (SimPhone("busy", rings=1), "complete", ["Everyone is busy.", "Goodbye."]),
])
def test_a_survey_hands_the_caller_over_on_a_modem(rig_factory, store, phone: SimPhone,
                                                   disposition: str, heard: list[str]) -> None:
    survey, problems = compile_survey(json.loads(json.dumps(HOTLINE)), None)
    assert survey is not None, problems
    rig = rig_factory("sim800", sim_args={"tts_char_s": 0.002})
    rig.wait_ready()
    rig.sim.set_phone(DESK, phone)
    call = rig.ring(CALLER)
    assert run_call(call, survey, store, Pseudonymiser(bytes(32))) == disposition
    assert rig.sim.model.heard == heard
    events = [r["kind"] for r in store.query("SELECT kind FROM events ORDER BY id")]
    assert ("transferred" in events) == (phone.behaviour == "answers")
    assert rig.sim.transferred() == ([(CALLER, DESK)] if phone.behaviour == "answers" else [])


def test_a_caller_the_box_called_back_is_handed_over_too(rig_factory) -> None:
    # The held call is then the box's own outgoing call: the second call's readings must not
    # take it for the number being called.
    rig = rig_factory("sim7600", sim_args={"tts_char_s": 0.002})
    rig.wait_ready()
    rig.sim.set_phone(CALLER, SimPhone("answers", rings=1))
    rig.sim.set_phone(DESK, SimPhone("answers", rings=3))
    result = rig.line.dial(CALLER, 10.0)
    assert result.outcome == "answered" and result.call is not None
    result.call.transfer(1, DESK, 10.0)
    events = _events_until(result.call, RemoteHangup)
    assert any(isinstance(e, TransferFinished) and e.status == "completed" for e in events)
    assert rig.sim.transferred() == [(CALLER, DESK)]
