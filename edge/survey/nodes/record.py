"""record: Studio's record-voicemail: the caller leaves a message after the beep.

Authoring::

    {"name": "voicemail", "type": "record", "max_length": 60, "finish_on_key": "#",
     "play_beep": "true", "recordingComplete": "thanks", "noAudio": "thanks", "hangup": null}

Its settings are kept in the survey; recording on the lines is another piece of work (issue
#13, voice). Until a line can record, the state takes ``noAudio`` (no recording), as Studio
does when the caller says nothing, and notes ``record_unavailable`` on the call's timeline.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from edge.survey._model import Settings, State

from ._base import Render, Step
from ._cloud import CloudKind


class RecordVoicemail(CloudKind):
    name = "record"
    widget = "record-voicemail"
    events = ("recordingComplete", "noAudio", "hangup")
    failure = "noAudio"
    fields = frozenset({"max_length", "timeout", "finish_on_key", "play_beep", "trim",
                        "transcribe", "transcription_callback_url",
                        "recording_status_callback_url"})
    offline_outputs: ClassVar[Mapping[str, Any]] = {"RecordingUrl": "", "RecordingDuration": "0"}

    def step(self, state: State, render: Render, settings: Settings) -> Step:
        return Step(self.failure, outputs=dict(self.offline_outputs),
                    note={"state": state.name, "record_unavailable": "the line cannot record"})


KIND = RecordVoicemail()
