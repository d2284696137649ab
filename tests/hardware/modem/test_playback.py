"""The prompt tracker and the speaking-time estimate, with no port and no clock: times are
passed in by hand."""

from __future__ import annotations

import pytest

from hardware.modem._playback import PromptTracker
from hardware.modem._speech import LETTERS_PER_S, SpeechTiming, spoken_seconds


def _started(tracker: PromptTracker, text: str, now: float, generation: int = 1,
             kind: str = "ascii"):
    prompt = tracker.submit(generation, text, kind)
    tracker.accepted(prompt, now)
    return prompt


def test_estimate_by_script_and_learned_pace() -> None:
    latin = "Press one for yes and two for no"
    assert spoken_seconds(latin) == pytest.approx(len(latin) / LETTERS_PER_S)
    assert spoken_seconds("按一") > spoken_seconds("ab")  # a syllable per ideograph
    assert spoken_seconds("1234") == pytest.approx(1.2)  # digits one by one
    timing = SpeechTiming()
    timing.learn(latin, spoken_seconds(latin) / 2)  # this module speaks twice as fast
    assert timing.estimate(latin) == pytest.approx(spoken_seconds(latin) / 2)
    timing.learn(latin, 1000.0)  # one absurd reading moves the pace, within bounds
    assert timing.scale < 2.0


def test_a_report_ends_the_prompt_being_spoken_and_nothing_else() -> None:
    tracker = PromptTracker(SpeechTiming())
    first = _started(tracker, "Welcome", 0.0)
    assert tracker.report(1.0).prompt is first
    assert tracker.report(1.1) is None  # a duplicate ends nothing
    second = _started(tracker, "Question one", 2.0)
    assert tracker.playing is second and tracker.timing.reports("ascii") is True


def test_a_lost_report_is_caught_up_by_the_next_acceptance_or_the_wait() -> None:
    tracker = PromptTracker(SpeechTiming())
    first = _started(tracker, "Welcome", 0.0)  # its report never comes
    second = tracker.submit(2, "Question", "ascii")
    ended = tracker.accepted(second, 5.0)
    assert ended.prompt is first and ended.how == "assumed"
    assert tracker.report(5.8).prompt is second  # in step again: the next report is its own
    third = _started(tracker, "Last", 7.0)
    assert tracker.expire(third, 7.0 + tracker.wait_s(third)).how == "assumed"
    assert tracker.expire(third, 99.0) is None


def test_stop_only_a_prompt_that_can_still_be_sounding() -> None:
    tracker = PromptTracker(SpeechTiming())
    _started(tracker, "A long question about the household and its members", 0.0)
    assert tracker.stop(0.5) is True  # mid-sentence: stop it
    assert tracker.report(0.6) is None  # the stop's own report ends nothing
    _started(tracker, "Short", 1.0)  # its report was lost
    assert tracker.stop(5.0) is False  # over by its length: no stop for it
    assert tracker.last.how == "assumed"


def test_a_late_report_is_not_taken_for_the_next_prompt() -> None:
    tracker = PromptTracker(SpeechTiming())
    first = _started(tracker, "Welcome to the survey", 0.0)
    tracker.expire(first, 10.0)  # given up on
    second = _started(tracker, "Question one, about the household", 10.0)
    assert tracker.report(10.05) is None  # too soon for the second: the first's, late
    assert tracker.playing is second
    assert tracker.report(12.5).prompt is second


def test_silent_kind_is_learned_and_paced_by_length() -> None:
    timing = SpeechTiming()
    tracker = PromptTracker(timing)
    text = "Нажмите один"
    first = _started(tracker, text, 0.0, kind="ucs2")
    generous = tracker.wait_s(first)
    tracker.expire(first, generous)
    assert timing.reports("ucs2") is False  # never reported: silent firmware
    second = _started(tracker, text, 10.0, kind="ucs2")
    assert tracker.wait_s(second) == pytest.approx(timing.over_after(text))
    assert tracker.wait_s(second) < generous
    timing.heard_nothing("ascii")
    timing.heard_report("ascii")
    timing.heard_nothing("ascii")  # one lost report after reports: still a reporting kind
    assert timing.reports("ascii") is True


def test_busy_refusal_is_retried_once_after_an_assumed_end() -> None:
    tracker = PromptTracker(SpeechTiming())
    first = _started(tracker, "Welcome", 0.0)
    tracker.stop(9.0)  # assumed over by its length
    second = tracker.submit(2, "Next", "ascii")
    tracker.refused(second)
    pace = tracker.timing.scale
    assert tracker.retry_after_refusal(second) is True and tracker.pending is second
    assert tracker.timing.scale > pace  # it was longer than thought: estimates grow
    tracker.refused(second)
    assert tracker.retry_after_refusal(second) is False  # once only
    assert first.retried is False


def test_recordings_end_by_their_own_report_and_length() -> None:
    timing = SpeechTiming()
    tracker = PromptTracker(timing)
    recording = tracker.submit(1, "Welcome", "file", seconds=2.0, file="p1234567.wav")
    tracker.accepted(recording, 0.0)
    assert recording.via == "file"
    assert tracker.report(0.5, "tts") is None  # a TTS report is about another prompt
    assert tracker.playing is recording
    assert tracker.wait_s(recording) == pytest.approx(1.5 * 2.0 + 2.0)
    assert tracker.report(2.0, "file").prompt is recording
    assert timing.scale == 1.0  # a recording's length teaches nothing about speech
    # A module that never reports file plays: later recordings end close to their length.
    silent = PromptTracker(SpeechTiming())
    silent.timing.heard_nothing("file")
    second = silent.submit(1, "Q1", "file", seconds=1.0, file="p2.wav")
    silent.accepted(second, 3.0)
    assert silent.wait_s(second) == pytest.approx(1.1 * 1.0 + 0.2)
    assert silent.stop(3.2) is True  # still sounding by its length: a stop goes out
    assert silent.last is not None and silent.last.prompt.via == "file"
