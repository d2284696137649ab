from __future__ import annotations

import pytest

from edge.lines import (
    Call,
    KeyPressed,
    Line,
    PlaybackFinished,
    RecordingFinished,
    RemoteHangup,
    Utterance,
    recording_problem,
)
from edge.lines.simulated import HANGUP, CallerScript, SimulatedCall, SimulatedLine


def test_simulated_line_implements_the_interface() -> None:
    line = SimulatedLine("s", speed=100)
    calls = []
    line.start(calls.append)
    call = line.place_call("+1", CallerScript({"q.prompt": ["12", HANGUP]}))
    assert isinstance(line, Line) and isinstance(call, Call)
    call.answer()
    call.play(1, [Utterance("q.prompt", "en", "Question?")])
    events = [call.next_event(2), call.next_event(2), call.next_event(2)]
    assert events == [KeyPressed("1"), KeyPressed("2"), PlaybackFinished(1)]
    call.play(2, [Utterance("q.prompt", "en", "Again?")])
    call.play(3, [Utterance("other", "en", "Replaced")])
    assert call.next_event(2) == PlaybackFinished(2, interrupted=True)
    rest = [call.next_event(2) for _ in range(3)]
    assert RemoteHangup() in rest
    assert call.next_event(0.1) == RemoteHangup()  # and keeps saying so
    line.close()


def _record(line: SimulatedLine, response: str, tmp_path, max_s: float = 20,
            silence_s: float = 2) -> tuple[SimulatedCall, list[object]]:
    """The caller hears a prompt answered with ``response``, then the call records."""
    line.start(lambda _call: None)
    call = line.place_call("+1", CallerScript({"msg.prompt": [response]}))
    call.answer()
    call.play(1, [Utterance("msg.prompt", "en", "Leave a message after the tone.")])
    assert call.next_event(5) == PlaybackFinished(1)
    call.record(9, tmp_path / "c" / "msg.wav", max_s, silence_s, "#")
    events = [call.next_event(10)]
    while (event := call.next_event(0.05)) is not None and event not in events:
        events.append(event)  # (a hang-up comes out for ever: once is enough)
    return call, events


def test_a_simulated_caller_speaks_into_a_real_recording(tmp_path) -> None:
    line = SimulatedLine("s", speed=50)
    _call, events = _record(line, "SPEAK:3", tmp_path)
    (finished,) = events
    assert isinstance(finished, RecordingFinished) and finished.reason == "silence"
    assert finished.path == tmp_path / "c" / "msg.wav"
    assert recording_problem(finished.path) is None
    assert 3.0 <= finished.seconds <= 3.4  # the speech and the kept tail
    line.close()


def test_a_simulated_caller_ends_with_a_key_or_hangs_up_mid_message(tmp_path) -> None:
    line = SimulatedLine("s", speed=50)
    _call, events = _record(line, "SPEAK:2;#", tmp_path)
    assert [(e.reason, e.key) for e in events] == [("key", "#")]  # the key is not posted
    _call, events = _record(line, "SPEAK:2;HANGUP", tmp_path / "2")
    assert [type(e) for e in events] == [RecordingFinished, RemoteHangup]
    assert events[0].reason == "hangup" and events[0].path is not None
    line.close()


def test_a_line_that_cannot_record_and_a_silent_caller(tmp_path) -> None:
    line = SimulatedLine("s", speed=50, records=False)
    _call, events = _record(line, "SPEAK:2", tmp_path)
    assert events == [RecordingFinished(9, None, 0.0, "unsupported")]
    line.records = True
    _call, events = _record(line, "", tmp_path)
    assert events == [RecordingFinished(9, None, 0.0, "silence")]
    line.close()


def test_a_mistyped_speech_response_fails_when_the_script_is_made() -> None:
    with pytest.raises(ValueError):
        CallerScript({"msg.prompt": ["SPEAK:3;later"]})
    with pytest.raises((OSError, ValueError)):
        CallerScript.from_json({"responses": {"msg.prompt": ["SPEAK:missing.wav"]}})
