"""record: Studio's record-voicemail: the caller leaves a message after the tone.

Authoring::

    {"name": "voicemail", "type": "record",
     "prompt": {"en": "Please say your message after the tone. Press hash when done."},
     "max_length": 120, "timeout": 5, "finish_on_key": "#", "play_beep": true,
     "recordingComplete": "thanks", "noAudio": "sorry", "hangup": null}

The state plays its prompt (optional: Studio puts it in a say-play before) and the tone, then
asks the line to record (the engine's ``Record`` action). The recording stops after
``timeout`` seconds of silence (0: never), at ``max_length`` seconds, on a key of
``finish_on_key`` or when the caller hangs up; the adapter reports ``RecordingEnded`` with the
name it gave the file (the engine never sees paths or sound) and the state ends on Studio's
events:

- ``recordingComplete``: a message of at least ``min_length`` seconds (default 0.5) was kept;
  it is the state's answer (value: the file's reference; the duration with it);
- ``noAudio``: nothing was said, too little, the file could not be written, or the line cannot
  record (then a ``record_unavailable`` note, as before lines could record);
- ``hangup``: the caller hung up while speaking: the message is kept and answered the same
  way, and ``hangup`` is followed (to nothing: the call is over, complete). A caller who hangs
  up without having said anything simply hung up (``partial`` or ``breakoff``).

``{{widgets.<name>.RecordingUrl}}`` is the reference (HQ maps it to where it keeps the
sound), ``RecordingDuration`` whole seconds, ``Digits`` the finish key or ``hangup``.
``trim`` (Studio's ``trim-silence``, the default and the only behaviour on the box: silence
before the first word and after the last is cut to a short margin), ``transcribe`` and the
callback URLs are kept for HQ but do nothing on the box.
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

from edge.lines import KEYS
from edge.survey._model import Transition
from edge.survey._problems import shown

from ._base import CompileContext, NodeKind

EVENTS = ("recordingComplete", "noAudio", "hangup")
NO_AUDIO_OUTPUTS: Mapping[str, str] = {"RecordingUrl": "", "RecordingDuration": "0"}
# Studio's defaults (max_length is Twilio's 3600 s; a box may want less: see docs/voice.md).
DEFAULTS: dict[str, Any] = {"max_length": 3600, "timeout": 5, "finish_on_key": "#",
                            "play_beep": True, "min_length": 0.5}
KEPT = frozenset({"trim", "transcribe", "transcription_callback_url",
                  "recording_status_callback_url"})


@dataclass(frozen=True)
class RecordSpec:
    max_s: float
    silence_s: float
    finish_keys: str
    beep: bool


@dataclass(frozen=True)
class RecordOutcome:
    """What a finished recording means: the event to follow (None: the caller simply hung
    up), whether the message is kept as the answer, the widget's outputs, and whether it
    counts as the caller's silence."""

    event: str | None
    keep: bool
    outputs: Mapping[str, str]
    silent: bool = False
    note: str | None = None


class Record(NodeKind):
    name = "record"
    behaviour = "record"
    widget = "record-voicemail"
    events: ClassVar[tuple[str, ...]] = EVENTS
    fields: ClassVar[frozenset[str]] = frozenset(DEFAULTS) - {"min_length"} | KEPT
    keys = frozenset(DEFAULTS) | KEPT | frozenset(EVENTS) | {"next", "offline"}
    prompt_required = False
    prompt_allowed = True

    def compile(self, raw: Mapping[str, Any], path: str, following: str | None,
                ctx: CompileContext) -> tuple[dict[str, Any], list[Transition]]:
        name = raw.get("name")
        default = raw.get("next", following)
        transitions = [ctx.transition(event, raw.get(event, default),
                                      f"{path}.{event}" if event in raw else f"{path}.next",
                                      name) for event in EVENTS]

        def seconds(key: str, low: float, high: float) -> float:
            value = raw.get(key, DEFAULTS[key])
            if isinstance(value, str):  # Studio writes some numbers as text
                with contextlib.suppress(ValueError):
                    value = float(value)
            if isinstance(value, bool) or not isinstance(value, int | float) \
                    or not low <= value <= high:
                ctx.problem(f"{path}.{key}", f"expected seconds from {low:g} to {high:g}, got "
                            f"{shown(raw.get(key))}", name)
                return float(DEFAULTS[key])
            return float(value)

        props: dict[str, Any] = {
            "max_s": seconds("max_length", 1, 14400),
            "silence_s": seconds("timeout", 0, 60),
            "min_s": seconds("min_length", 0, 60),
            "finish_keys": self._finish_keys(raw, path, ctx, name),
            "beep": self._beep(raw, path, ctx, name),
            "kept": {k: raw[k] for k in sorted(KEPT & set(raw))},
        }
        if raw.get("offline", "fail") != "fail":
            ctx.problem(f"{path}.offline", f"got {shown(raw['offline'])}, expected 'fail' (a "
                        "record state records on the line; there is nothing to queue)", name)
        if props["min_s"] >= props["max_s"]:
            ctx.problem(f"{path}.min_length", f"min_length {props['min_s']:g} is not below "
                        f"max_length {props['max_s']:g}", name)
        if not props["finish_keys"] and not props["silence_s"]:
            ctx.problem(f"{path}.timeout", "with no finish key and no silence timeout only "
                        "max_length or a hang-up ends the message", name, "warning")
        return props, transitions

    @staticmethod
    def _finish_keys(raw: Mapping[str, Any], path: str, ctx: CompileContext,
                     name: str | None) -> str:
        value = raw.get("finish_on_key", DEFAULTS["finish_on_key"])
        if not isinstance(value, str) or any(k not in KEYS for k in value):
            ctx.problem(f"{path}.finish_on_key", f"expected keys (0-9, *, #, A-D) or \"\", got "
                        f"{shown(value)}", name)
            return "#"
        return "".join(dict.fromkeys(value))

    @staticmethod
    def _beep(raw: Mapping[str, Any], path: str, ctx: CompileContext,
              name: str | None) -> bool:
        value = raw.get("play_beep", True)
        if isinstance(value, str) and value.lower() in ("true", "false"):
            return value.lower() == "true"  # Studio writes "true"
        if not isinstance(value, bool):
            ctx.problem(f"{path}.play_beep", f"expected true or false, got {shown(value)}", name)
            return True
        return value

    def spec(self, props: Mapping[str, Any]) -> RecordSpec:
        return RecordSpec(props["max_s"], props["silence_s"], props["finish_keys"],
                          props["beep"])

    def outcome(self, props: Mapping[str, Any], reference: str | None, seconds: float,
                reason: str, key: str) -> RecordOutcome:
        """Studio's event for a recording that ended for ``reason``."""
        if reason == "unsupported":
            return RecordOutcome("noAudio", False, NO_AUDIO_OUTPUTS,
                                 note="the line cannot record")
        kept = reference is not None and seconds >= props["min_s"] and reason != "failed"
        if kept:
            outputs = {"RecordingUrl": reference or "",
                       "RecordingDuration": str(round(seconds)),
                       "Digits": key if reason == "key" else
                       "hangup" if reason == "hangup" else ""}
            return RecordOutcome("hangup" if reason == "hangup" else "recordingComplete",
                                 True, outputs)
        if reason == "hangup":
            return RecordOutcome(None, False, NO_AUDIO_OUTPUTS)
        return RecordOutcome("noAudio", False, NO_AUDIO_OUTPUTS,
                             silent=reference is None and reason == "silence",
                             note="the recording could not be kept" if reason == "failed"
                             else None)


KIND = Record()
