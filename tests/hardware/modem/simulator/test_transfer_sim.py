"""The simulated module's call hold, second call and explicit call transfer (AT+CHLD), driven
with raw AT text on the sans-IO model: what a module says, line by line, as the manuals and
3GPP TS 27.007 / 22.030 / 22.091 describe it (sources in hardware/modem/simulator/_transfer)."""

from __future__ import annotations

import pytest

from hardware.modem.simulator import ModemModel, SimPhone

CALLER = "+255712345678"
TARGET = "+255700000099"
HELD = f'+CLCC: 1,1,1,0,0,"{CALLER}",145'
ACTIVE = f'+CLCC: 1,1,0,0,0,"{CALLER}",145'


class Wire:
    """A model with echo off, fed whole command lines at a clock the test moves."""

    def __init__(self, profile: str = "sim800", *, cmee: bool = True,
                 variants: set[str] | None = None) -> None:
        self.model = ModemModel(profile, ring_interval=1.0, variants=variants)
        self.now = 0.0
        self.at("ATE0")
        if cmee:
            self.at("AT+CMEE=1")

    def at(self, command: str) -> list[str]:
        """The lines the module answers ``command`` with (and any URCs due now)."""
        self.model.receive(command.encode() + b"\r", self.now)
        return self.lines()

    def lines(self) -> list[str]:
        raw = self.model.take_output(self.now).decode("latin-1")
        return [line for line in raw.replace("\r", "\n").split("\n") if line]

    def wait(self, seconds: float) -> list[str]:
        """Move the clock on as the pty server does: to each moment the model has work due."""
        end = self.now + seconds
        out: list[str] = []
        while (due := self.model.next_due()) is not None and self.now < due <= end:
            self.now = due
            out += self.lines()
        self.now = end
        return out + self.lines()

    def clcc(self) -> list[str]:
        reply = self.at("AT+CLCC")
        assert reply[-1] == "OK", reply
        return reply[:-1]

    def answered_call(self) -> None:
        """Call 1: CALLER rings in and the module answers."""
        self.model.incoming_call(CALLER)
        self.wait(0.1)
        assert self.at("ATA")[0] == "OK"

    def held_and_dialled(self, phone: SimPhone | None = None) -> None:
        """Call 1 answered and put on hold, then ATD to TARGET (call 2) placed."""
        self.model.phones[TARGET] = phone or SimPhone("answers", rings=2)
        self.answered_call()
        assert self.at("AT+CHLD=2") == ["OK"]
        assert self.at(f"ATD{TARGET};") == ["OK"]


def test_chld_test_command_lists_the_profile_values_or_no_4() -> None:
    for profile in ("sim800", "ec25", "sim7600"):
        assert Wire(profile).at("AT+CHLD=?") == ["+CHLD: (0,1,1x,2,2x,3,4)", "OK"]
    wire = Wire("sim800", variants={"no_ect"})
    assert wire.at("AT+CHLD=?") == ["+CHLD: (0,1,1x,2,2x,3)", "OK"]
    wire.held_and_dialled()
    wire.wait(3.0)
    assert wire.at("AT+CHLD=4") == ["+CME ERROR: 4"]  # not a value this module has
    assert len(wire.clcc()) == 2 and wire.model.transferred == []


def test_hold_and_retrieve_one_call_and_errors_without_a_call() -> None:
    wire = Wire()
    assert wire.at("AT+CHLD=2") == ["+CME ERROR: 3"]  # no call to hold
    assert Wire(cmee=False).at("AT+CHLD=2") == ["ERROR"]
    wire.answered_call()
    assert wire.clcc() == [ACTIVE]
    assert wire.at("AT+CHLD=2") == ["OK"]
    assert wire.clcc() == [HELD]
    assert wire.at("AT+CHLD=2") == ["OK"]  # only a held call: retrieved
    assert wire.clcc() == [ACTIVE]
    assert wire.at("AT+CHLD") == ["OK"]  # bare AT+CHLD is <n>=2
    assert wire.clcc() == [HELD]
    assert wire.at("AT+CHLD=21") == ["OK"]  # 2x: call 1 is the one to keep active
    assert wire.clcc() == [ACTIVE]
    assert wire.at("AT+CHLD=4") == ["+CME ERROR: 3"]  # ECT needs two calls
    assert wire.at("AT+CHLD=3") == ["+CME ERROR: 3"]  # multiparty: refused here
    assert wire.clcc() == [ACTIVE]


@pytest.mark.parametrize("profile", ["sim800", "sim7600"])
def test_second_call_progresses_like_a_dialled_call_then_swaps(profile: str) -> None:
    wire = Wire(profile)
    wire.held_and_dialled(SimPhone("answers", rings=2))
    assert wire.clcc() == [HELD, f'+CLCC: 2,0,2,0,0,"{TARGET}",145']
    wire.wait(0.5)
    assert wire.clcc() == [HELD, f'+CLCC: 2,0,3,0,0,"{TARGET}",145']
    connected = wire.wait(2.0)
    assert connected == (["VOICE CALL: BEGIN"] if profile == "sim7600" else [])
    assert wire.clcc() == [HELD, f'+CLCC: 2,0,0,0,0,"{TARGET}",145']
    assert wire.at("AT+CHLD=2") == ["OK"]  # swap
    assert wire.clcc() == [ACTIVE, f'+CLCC: 2,0,1,0,0,"{TARGET}",145']
    assert wire.at("AT+CHLD=22") == ["OK"]  # 2x with x held: back to call 2
    assert wire.clcc() == [HELD, f'+CLCC: 2,0,0,0,0,"{TARGET}",145']
    assert wire.model.dialled == [TARGET]


@pytest.mark.parametrize(("behaviour", "end"), [
    ("busy", "BUSY"), ("no-answer", "NO ANSWER"), ("rejects", "NO CARRIER"),
    ("unreachable", "NO CARRIER")])
def test_second_call_that_fails_leaves_the_held_call(behaviour: str, end: str) -> None:
    wire = Wire()
    wire.held_and_dialled(SimPhone(behaviour, rings=2))
    assert wire.wait(3.0) == [end]
    assert wire.clcc() == [HELD]
    assert wire.at("AT+CHLD=2") == ["OK"]
    assert wire.clcc() == [ACTIVE]


def test_dialling_during_an_active_call_holds_it_first() -> None:
    wire = Wire()
    wire.model.phones[TARGET] = SimPhone("answers", rings=1)
    wire.answered_call()
    assert wire.at(f"ATD{TARGET};") == ["OK"]  # 22.030: the active call goes on hold
    assert wire.clcc() == [HELD, f'+CLCC: 2,0,2,0,0,"{TARGET}",145']
    assert wire.at("ATD+255700000100;") == ["+CME ERROR: 3"]  # no third call
    assert wire.at("AT+CHLD=2") == ["+CME ERROR: 3"]  # a call being set up is not held
    ringing = Wire()
    ringing.model.incoming_call(CALLER)
    ringing.wait(0.1)
    assert ringing.at(f"ATD{TARGET};") == ["+CME ERROR: 3"]  # beside a ringing call


@pytest.mark.parametrize(("profile", "after"), [
    ("sim800", ["OK", "NO CARRIER", "NO CARRIER"]),
    ("ec25", ["OK", "NO CARRIER", "NO CARRIER"]),
    ("sim7600", ["OK", "VOICE CALL: END: 000004", "NO CARRIER", "VOICE CALL: END: 000002",
                 "NO CARRIER"])])
def test_transfer_joins_the_held_and_the_active_call(profile: str, after: list[str]) -> None:
    wire = Wire(profile)
    wire.held_and_dialled(SimPhone("answers", rings=2))  # call 1 up at 0.1 s, call 2 at 2.4 s
    wire.wait(4.5)
    assert wire.at("AT+CHLD=4") == after
    assert wire.clcc() == []
    assert wire.model.transferred == [(CALLER, TARGET)]
    assert wire.model.call is None and wire.model.held is None


def test_transfer_to_an_alerting_call() -> None:
    wire = Wire()
    wire.held_and_dialled(SimPhone("no-answer", rings=None))
    wire.wait(0.5)
    assert wire.clcc()[1] == f'+CLCC: 2,0,3,0,0,"{TARGET}",145'
    assert wire.at("AT+CHLD=4") == ["OK", "NO CARRIER", "NO CARRIER"]
    assert wire.clcc() == [] and wire.model.transferred == [(CALLER, TARGET)]
    assert wire.wait(60.0) == []  # the network has the alerting call now
    dialling = Wire()
    dialling.held_and_dialled()
    assert dialling.at("AT+CHLD=4") == ["+CME ERROR: 3"]  # not alerting yet: not allowed


@pytest.mark.parametrize("cmee", [True, False])
def test_network_that_refuses_transfer_leaves_both_calls(cmee: bool) -> None:
    wire = Wire(cmee=cmee, variants={"ect_refused"})
    assert wire.at("AT+CHLD=?") == ["+CHLD: (0,1,1x,2,2x,3,4)", "OK"]  # the module has it
    wire.held_and_dialled()
    wire.wait(3.0)
    before = wire.clcc()
    assert wire.at("AT+CHLD=4") == (["+CME ERROR: 3"] if cmee else ["ERROR"])
    assert wire.clcc() == before == [HELD, f'+CLCC: 2,0,0,0,0,"{TARGET}",145']
    assert wire.model.transferred == []


def test_release_one_call_by_number() -> None:
    wire = Wire()
    wire.held_and_dialled()
    wire.wait(3.0)
    assert wire.at("AT+CHLD=12") == ["OK"]  # commanded: no NO CARRIER
    assert wire.clcc() == [HELD]  # not retrieved by itself
    wire.model.phones["+255700000100"] = SimPhone("answers", rings=1)
    assert wire.at("ATD+255700000100;") == ["OK"]
    wire.wait(2.0)
    assert wire.at("AT+CHLD=11") == ["OK"]  # the held caller goes, call 2 stays
    assert wire.clcc() == ['+CLCC: 2,0,0,0,0,"+255700000100",145']  # keeps its number
    assert wire.at("AT+CHLD=13") == ["+CME ERROR: 3"]  # no call 3
    assert wire.at("AT+CHLD=2") == ["OK"]
    assert wire.at(f"ATD{TARGET};") == ["OK"]
    assert wire.clcc() == [f'+CLCC: 1,0,2,0,0,"{TARGET}",145',
                           '+CLCC: 2,0,1,0,0,"+255700000100",145']  # lowest free number


def test_release_active_retrieves_held_and_release_held() -> None:
    wire = Wire()
    wire.held_and_dialled()
    wire.wait(3.0)
    assert wire.at("AT+CHLD=1") == ["OK"]  # call 2 released, call 1 back
    assert wire.clcc() == [ACTIVE]
    wire.model.phones["+255700000100"] = SimPhone("answers", rings=1)
    assert wire.at("ATD+255700000100;") == ["OK"]
    wire.wait(2.0)
    assert wire.at("AT+CHLD=0") == ["OK"]  # the held call 1 goes
    assert wire.clcc() == ['+CLCC: 2,0,0,0,0,"+255700000100",145']
    assert wire.at("AT+CHLD=0") == ["+CME ERROR: 3"]  # nothing held


@pytest.mark.parametrize("profile", ["sim800", "sim7600"])
def test_held_caller_hangs_up_while_held_or_while_call_2_rings(profile: str) -> None:
    wire = Wire(profile)
    wire.answered_call()
    wire.at("AT+CHLD=2")
    wire.wait(2.0)
    wire.model.caller_hangs_up()
    end = ["VOICE CALL: END: 000002"] if profile == "sim7600" else []
    assert wire.lines() == [*end, "NO CARRIER"]
    assert wire.clcc() == []
    wire = Wire(profile)
    wire.held_and_dialled(SimPhone("answers", rings=2))
    wire.wait(0.5)
    wire.model.caller_hangs_up()
    assert wire.lines() == [*(["VOICE CALL: END: 000000"] if end else []), "NO CARRIER"]
    assert wire.clcc() == [f'+CLCC: 2,0,3,0,0,"{TARGET}",145']  # call 2 rings on
    wire.wait(2.0)
    assert wire.clcc() == [f'+CLCC: 2,0,0,0,0,"{TARGET}",145']
    assert wire.at("AT+CHLD=4") == ["+CME ERROR: 3"]  # nobody held to transfer


def test_far_end_of_call_2_hangs_up_and_call_1_stays_held() -> None:
    wire = Wire()
    wire.held_and_dialled()
    wire.wait(3.0)
    wire.model.remote_hangup()  # the foreground call: call 2
    assert wire.lines() == ["NO CARRIER"]
    assert wire.clcc() == [HELD]
    wire.model.party_hangs_up(1)
    assert wire.lines() == ["NO CARRIER"] and wire.clcc() == []


def test_ath_and_chup_end_every_call() -> None:
    wire = Wire()
    wire.held_and_dialled()
    wire.wait(3.0)
    assert wire.at("ATH") == ["OK"]  # SIM800 default: ATH leaves voice calls alone
    assert len(wire.clcc()) == 2
    wire.at("AT+CVHU=0")
    assert wire.at("ATH") == ["OK"]
    assert wire.clcc() == []
    for command in ("AT+CHUP", "ATH"):
        wire = Wire("ec25")
        wire.held_and_dialled()
        wire.wait(0.5)  # call 2 alerting
        assert wire.at(command) == ["OK"]
        assert wire.clcc() == [] and wire.wait(5.0) == []
