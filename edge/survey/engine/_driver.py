"""Drives a Session by hand, remembering the current prompt and timer: for tests, the demo's
path finder and benchmarks — anywhere a session runs without a line."""

from __future__ import annotations

from ._actions import Action, CancelTimer, End, Play, RecordAnswer, StartTimer, StopPlayback
from ._events import HungUp, Key, PromptEnded, Timeout
from ._session import Session


class Driver:
    def __init__(self, session: Session) -> None:
        self.session = session
        self.actions: list[Action] = []
        self.playing: Play | None = None
        self.timer: int | None = None
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

    def hang_up(self) -> list[Action]:
        return self._take(self.session.feed(HungUp()))

    def answers(self) -> list[RecordAnswer]:
        return [a for a in self.actions if isinstance(a, RecordAnswer)]

    def prompt_keys(self) -> list[str]:
        """Keys of every prompt played so far (the last utterance of each playlist)."""
        return [a.utterances[-1].key for a in self.actions if isinstance(a, Play)]
