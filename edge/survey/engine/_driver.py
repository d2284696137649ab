"""Drives a Session by hand, remembering the current prompt and timer: for tests, the demo's
path finder and benchmarks — anywhere a session runs without a line."""

from __future__ import annotations

from ._actions import (
    Action,
    CancelTimer,
    Connect,
    End,
    Play,
    Record,
    RecordAnswer,
    StartTimer,
    StopPlayback,
)
from ._events import ConnectEnded, HungUp, Key, PromptEnded, RecordingEnded, Timeout
from ._session import Session


class Driver:
    def __init__(self, session: Session) -> None:
        self.session = session
        self.actions: list[Action] = []
        self.playing: Play | None = None
        self.timer: int | None = None
        self.recording: Record | None = None  # asked for, not yet ended
        self.connecting: Connect | None = None  # asked for, not yet ended
        self._take(session.start())

    def _take(self, actions: list[Action]) -> list[Action]:
        for action in actions:
            if isinstance(action, Play):
                self.playing = action
            elif isinstance(action, StopPlayback | End):
                self.playing = None
            if isinstance(action, StartTimer):
                self.timer = action.timer_id
            elif isinstance(action, CancelTimer | End):
                self.timer = None
            if isinstance(action, Record):
                self.recording = action
            elif isinstance(action, Connect):
                self.connecting = action
            elif isinstance(action, End):
                self.recording = self.connecting = None
        self.actions.extend(actions)
        return actions

    def key(self, digits: str) -> list[Action]:
        out: list[Action] = []
        for digit in digits:
            out += self._take(self.session.feed(Key(digit)))
        return out

    def prompt_end(self) -> list[Action]:
        if self.playing is None:
            return []
        play_id, self.playing = self.playing.play_id, None
        return self._take(self.session.feed(PromptEnded(play_id)))

    def timeout(self) -> list[Action]:
        if self.timer is None:
            return []
        timer_id, self.timer = self.timer, None
        return self._take(self.session.feed(Timeout(timer_id)))

    def recording_ended(self, reason: str, seconds: float = 0.0, key: str = "",
                        reference: str | None = None) -> list[Action]:
        """The line's report of the recording asked for; ``reference`` defaults to a name
        like the adapter's when ``seconds`` were kept."""
        if self.recording is None:
            return []
        record, self.recording = self.recording, None
        if reference is None and seconds > 0:
            reference = f"call/{record.state}" + (
                f"-{record.visit}" if record.visit > 1 else "") + ".wav"
        return self._take(self.session.feed(
            RecordingEnded(record.record_id, reference, seconds, reason, key)))

    def connect_ended(self, status: str) -> list[Action]:
        """The line's report of the transfer asked for."""
        if self.connecting is None:
            return []
        connect, self.connecting = self.connecting, None
        return self._take(self.session.feed(ConnectEnded(connect.connect_id, status)))

    def hang_up(self) -> list[Action]:
        return self._take(self.session.feed(HungUp()))

    def answers(self) -> list[RecordAnswer]:
        return [a for a in self.actions if isinstance(a, RecordAnswer)]

    def prompt_keys(self) -> list[str]:
        """Keys of every prompt played so far (the last utterance of each playlist)."""
        return [a.utterances[-1].key for a in self.actions if isinstance(a, Play)]
