"""Recorded answers in a real store, as the call runner leaves them: the WAV written
durably under recordings/, then the answer with its audio row and record (Store API)."""

from __future__ import annotations

import hashlib
from pathlib import Path

from edge.lines import pcm_wav, write_durably
from edge.lines._speech import speech_pcm
from edge.records import AnswerInput, AudioFile
from edge.store import Store

FORMAT = "wav/pcm_s16le/8000/1"


def add_recording(store: Store, wav: bytes, state: str = "message",
                  line: str = "sim") -> tuple[str, Path]:
    """One call that leaves one message ``wav`` (a whole WAV file); (reference, path)."""
    call = store.begin_call(line, "p:" + "0" * 20, False, "voice", "1")
    reference, path = store.recordings.place(call, state, 1)
    write_durably(path, wav)
    seconds = (len(wav) - 44) / 16000
    store.record_answer(call, AnswerInput(state, "#", reference, 1, 0, 0), "en", "1",
                        audio=AudioFile(reference, len(wav), hashlib.sha256(wav).hexdigest(),
                                        seconds, FORMAT))
    store.end_call(call, "complete")
    return reference, path


def add_recordings(store: Store, count: int, seconds: float = 4.0) -> list[str]:
    """``count`` calls, each leaving ``seconds`` of speech-like sound (a seed each)."""
    return [add_recording(store, pcm_wav(speech_pcm(seconds, seed)))[0]
            for seed in range(count)]
