"""Prompt timing on firmware that loses or never sends its end-of-speech report: each report
is matched to the prompt being spoken, a lost one costs nothing later, no stop goes to a
prompt that is over, and silent firmware still paces prompts by their spoken length."""

from __future__ import annotations

import time

import pytest

from edge.lines import PlaybackFinished, Utterance

PROFILES = ("sim800", "ec25", "sim7600")
CHAR_S = 0.02  # the simulator's speaking pace in these tests


def _spoken(text: str) -> float:
    return 0.05 + CHAR_S * len(text)  # what the simulator takes to say it


def _finished(call, play_id: int, timeout: float = 15.0) -> float:
    """Wait for PlaybackFinished(play_id) (not interrupted); return when it came."""
    deadline = time.monotonic() + timeout
    while (left := deadline - time.monotonic()) > 0:
        event = call.next_event(left)
        if event == PlaybackFinished(play_id):
            return time.monotonic()
        assert not (isinstance(event, PlaybackFinished) and event.play_id == play_id), event
    raise AssertionError(f"no PlaybackFinished({play_id})")


def _play_and_time(call, play_id: int, text: str) -> float:
    started = time.monotonic()
    call.play(play_id, [Utterance(f"q{play_id}", "en", text)])
    return _finished(call, play_id) - started


@pytest.mark.parametrize("profile", PROFILES)
def test_one_lost_report_delays_nothing_after_it(rig_factory, wait, profile: str) -> None:
    rig = rig_factory(profile, sim_args={"tts_char_s": CHAR_S, "variants": {"lost_tts_done=3"}})
    rig.wait_ready()
    call = rig.ring()
    call.answer()
    for play_id, text in ((1, "Welcome to the household survey"), (2, "Press one to begin")):
        _play_and_time(call, play_id, text)  # reported: the line learns the module's pace
    lost = "Question one: how many people live here?"
    call.play(3, [Utterance("q3", "en", lost)])  # its report never comes
    wait(lambda: any(text == lost for text, _ in rig.sim.model.tts_ends))
    time.sleep(0.4)  # the caller presses a key: the survey moves on at once
    questions = ["Question two: press one for yes", "Question three: press two for no",
                 "Thank you, goodbye"]
    for play_id, text in enumerate(questions, 4):
        took = _play_and_time(call, play_id, text)
        assert took < _spoken(text) + 1.0, (play_id, took)
    assert rig.sim.snapshot()["heard"][-3:] == questions
    assert rig.sim.model.idle_stops == 0  # no stop for a prompt already over


@pytest.mark.parametrize("profile", ["sim800", "ec25"])  # AT+CTTS=1 and AT+QWTTS=1,1,1
def test_silent_ucs2_firmware_paces_prompts_by_their_length(rig_factory, wait,
                                                            profile: str) -> None:
    rig = rig_factory(profile, sim_args={"tts_char_s": CHAR_S,
                                         "variants": {"no_tts_done_ucs2"}})
    rig.wait_ready()
    call = rig.ring()
    call.answer()
    _play_and_time(call, 1, "Welcome, this survey takes two minutes")  # ASCII: reported
    first = "Привет, это опрос о вашем хозяйстве"  # UCS2: no report, ever
    took = _play_and_time(call, 2, first)
    assert _spoken(first) <= took < 2 * _spoken(first) + 2.5
    for play_id, text in ((3, "Нажмите один, если да"), (4, "Нажмите два, если нет, и решётку")):
        started = time.monotonic()
        call.play(play_id, [Utterance(f"q{play_id}", "ru", text)])
        done = _finished(call, play_id)
        ended = dict(rig.sim.model.tts_ends)[text]  # when the module stopped speaking
        assert ended <= done + 0.05  # never announced before the module was done
        assert done - started < _spoken(text) * 1.3 + 0.5, (play_id, done - started)
    assert rig.sim.snapshot()["heard"][-3:] == [first, "Нажмите один, если да",
                                                "Нажмите два, если нет, и решётку"]


def test_a_prompt_refused_as_busy_is_sent_again_after_a_stop(rig_factory, wait) -> None:
    rig = rig_factory("sim800", sim_args={"tts_char_s": CHAR_S,
                                          "variants": {"no_tts_done_ucs2"}})
    rig.wait_ready()
    call = rig.ring()
    call.answer()
    _play_and_time(call, 1, "Welcome, this survey takes two minutes")
    _play_and_time(call, 2, "Привет, это опрос")  # UCS2 is learned to be silent
    with rig.sim._lock:
        rig.sim.model.tts_char_s = 4 * CHAR_S  # slower than learned: the next ends too soon
    slow, last = "Нажмите один, если да", "Нажмите два, если нет"
    _play_and_time(call, 3, slow)
    start = len(rig.sim.model.commands_seen)
    _play_and_time(call, 4, last)  # refused while the slow one still sounds
    sent = [c for c in rig.sim.model.commands_seen[start:] if c.startswith("AT+CTTS")]
    assert sent[0] == sent[2] and sent[1] == "AT+CTTS=0"  # refused, stop, again
    wait(lambda: rig.sim.snapshot()["heard"][-1:] == [last])  # spoken to its end
    assert rig.sim.model.idle_stops == 0  # the stop found the slow prompt still sounding
