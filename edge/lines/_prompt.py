"""What a line is asked to say: one prompt in one language, audio with a text fallback."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True, slots=True)
class Utterance:
    """A prompt to play.

    ``audio`` is an absolute path to a recording (any WAV the line can convert, or a format the
    line's hardware plays). When it is None or the file is missing, the line speaks ``text``
    (TTS where it has one, or the text shown by a console line). ``key`` names the prompt
    (``"q_need.prompt"``) for logs and caches; it never contains caller data.
    """

    key: str
    language: str
    text: str
    audio: Path | None = None

    def audio_available(self) -> bool:
        return self.audio is not None and self.audio.is_file()
