from __future__ import annotations

from edge.lines import Call, KeyPressed, Line, PlaybackFinished, RemoteHangup, Utterance
from edge.lines.simulated import HANGUP, CallerScript, SimulatedLine


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
