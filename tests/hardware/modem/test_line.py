"""The modem line against the simulator over a real pty, for each profile: calls, keys,
prompts, hang-ups from both sides, caller id variants, status facts."""

from __future__ import annotations

import time

import pytest

from edge.lines import (
    CallGone,
    KeyPressed,
    LineStatus,
    PlaybackFinished,
    RemoteHangup,
    Utterance,
)

PROFILES = ("sim800", "ec25", "sim7600")


def _events(call, until, timeout: float = 5.0) -> list:
    seen = []
    while True:
        event = call.next_event(timeout)
        assert event is not None, f"no event after {seen}"
        seen.append(event)
        if until(event):
            return seen


@pytest.mark.parametrize("profile", PROFILES)
def test_ready_with_facts(rig_factory, wait, profile: str) -> None:
    rig = rig_factory(profile)
    rig.wait_ready()
    status = rig.line.status()
    assert isinstance(status, LineStatus)
    assert status.kind == "modem"
    assert status.facts["imei"] == "867000000000001"
    assert status.facts["iccid"] == "8925500000000000001"
    assert status.facts["signal_dbm"] == -73
    assert status.facts["registration"] == "registered (home)"
    assert status.facts["sim"] == "ready"
    assert rig.sim.snapshot()["echo"] is False
    assert rig.sim.snapshot()["dtmf_on"] is True


@pytest.mark.parametrize("profile", PROFILES)
def test_call_prompts_keys_and_remote_hangup(rig_factory, wait, profile: str) -> None:
    rig = rig_factory(profile)
    rig.wait_ready()
    call = rig.ring("+255712345678")
    assert call.caller.number == "+255712345678" and not call.caller.withheld
    call.answer()
    call.play(1, [Utterance("a", "en", 'Welcome "friend"'), Utterance("b", "en", "Press 1")])
    assert _events(call, lambda e: isinstance(e, PlaybackFinished)) == [PlaybackFinished(1)]
    assert rig.sim.snapshot()["heard"] == ["Welcome 'friend'", "Press 1"]
    rig.sim.press("1*#9", duration_ms=160)
    keys = _events(call, lambda e: e == KeyPressed("9"))
    assert keys == [KeyPressed(d) for d in "1*#9"]
    rig.sim.remote_hangup()
    assert call.next_event(5) == RemoteHangup("remote")
    assert call.next_event(0.01) == RemoteHangup("remote")  # and keeps saying so
    call.hang_up()  # safe after a remote hang-up
    wait(lambda: rig.line.status().facts["call"] == "idle")
    second = rig.ring("+255700000002")
    assert second is not call and second.caller.number == "+255700000002"


@pytest.mark.parametrize("profile", PROFILES)
def test_local_hangup_ends_the_modem_call(rig_factory, wait, profile: str) -> None:
    rig = rig_factory(profile)
    rig.wait_ready()
    call = rig.ring()
    call.answer()
    wait(lambda: rig.sim.snapshot()["call"] == "active")
    call.hang_up()
    call.hang_up()  # idempotent
    # On a SIM800 this needs AT+CVHU=0 at init: ATH otherwise leaves the call up.
    wait(lambda: rig.sim.snapshot()["call"] == "idle")


@pytest.mark.parametrize("profile", PROFILES)
def test_withheld_and_ring_without_clip(rig_factory, wait, profile: str) -> None:
    rig = rig_factory(profile)
    rig.wait_ready()
    call = rig.ring(None)
    assert call.caller.number is None and call.caller.withheld
    call.answer()
    call.hang_up()
    wait(lambda: rig.sim.snapshot()["call"] == "idle")
    wait(lambda: rig.line.status().facts["call"] == "idle")
    call = rig.ring("+255712345600", clip=False)  # RING only: the number comes from AT+CLCC
    assert call.caller.number == "+255712345600"


@pytest.mark.parametrize("profile", ["sim800", "sim7600"])
def test_caller_gives_up_before_answer(rig_factory, wait, profile: str) -> None:
    rig = rig_factory(profile)
    rig.wait_ready()
    call = rig.ring()
    rig.sim.remote_hangup()
    wait(lambda: rig.line.status().facts["call"] == "idle")
    with pytest.raises(CallGone):
        call.answer()
    assert isinstance(call.next_event(1), RemoteHangup)


def test_stop_and_replace_playback(rig_factory, wait) -> None:
    rig = rig_factory("sim800", sim_args={"tts_char_s": 0.05})
    rig.wait_ready()
    call = rig.ring()
    call.answer()
    call.play(1, [Utterance("long", "en", "A rather long prompt " * 4)])
    call.play(2, [Utterance("other", "en", "Replaced")])
    call.stop_playback()
    call.play(3, [Utterance("last", "en", "Last one")])
    events = _events(call, lambda e: e == PlaybackFinished(3))
    assert events == [PlaybackFinished(1, True), PlaybackFinished(2, True), PlaybackFinished(3)]
    assert rig.sim.snapshot()["heard"][-1] == "Last one"
    call.stop_playback()  # nothing playing: no event
    assert call.next_event(0.3) is None


def test_keys_during_prompt_keep_order(rig_factory, wait) -> None:
    rig = rig_factory("ec25")
    rig.wait_ready()
    call = rig.ring()
    call.answer()
    call.play(7, [Utterance("q", "en", "Choose one of the five options now")])
    rig.sim.press("12345", gap_s=0.01)
    events = _events(call, lambda e: e == PlaybackFinished(7))
    assert [e.digit for e in events if isinstance(e, KeyPressed)] == list("12345")


def test_stop_during_a_call_ends_it_on_both_sides(rig_factory, wait) -> None:
    rig = rig_factory("ec25")
    rig.wait_ready()
    call = rig.ring()
    call.answer()
    rig.line.stop()
    assert call.next_event(1) == RemoteHangup("line stopped")
    wait(lambda: rig.sim.snapshot()["call"] == "idle")
    call.hang_up()  # returns at once on a stopped line


def test_kind_and_section() -> None:
    from edge.plugins import line_kinds
    from hardware.modem import KIND, SECTION

    assert KIND.name == "modem" and KIND.section is SECTION and SECTION.optional
    values, problems = SECTION.parse({"port": "/dev/ttyUSB2", "profile": "ec25", "pin": "12"})
    assert problems and all("pin" in str(p) for p in problems)
    values, problems = SECTION.parse({"port": "socket://127.0.0.1:7301", "profile": "sim7600"})
    assert problems == [] and values["baud"] == 115200
    assert line_kinds()["modem"] is KIND  # found through the entry point


@pytest.mark.parametrize("profile", PROFILES)
def test_refusing_a_ringing_call_makes_no_phantom_call(rig_factory, wait, profile: str) -> None:
    rig = rig_factory(profile, sim_args={"ring_interval": 0.1})
    rig.wait_ready()
    call = rig.ring()
    call.hang_up()  # e.g. all survey slots busy
    wait(lambda: rig.sim.snapshot()["call"] == "idle")
    time.sleep(0.5)  # several ring intervals: no RING/+CLIP may turn into a new call
    assert rig.calls == [call]
