"""Child process for test_recording_durability: the real server taking simulated calls whose
callers leave spoken messages, without end. It prints ``recording <path>`` once a recording is
being written and ``committed <answer id> <reference>`` once a recorded answer's commit has
returned. The test SIGKILLs it, often mid-message."""

from __future__ import annotations

import json
import sys
import threading
from pathlib import Path

from edge.lines.simulated import CallerScript, SimulatedCall, SimulatedLine
from edge.privacy import Pseudonymiser
from edge.server import CallServer, SurveySource
from edge.store import Store

SURVEY = {
    "id": "voice", "version": "1", "languages": ["en"],
    "states": [
        {"name": "consent", "type": "yesno", "prompt": {"en": "Leave a message? 1 yes."}},
        {"name": "message", "type": "record", "max_length": 30, "timeout": 2,
         "prompt": {"en": "After the tone."}, "noAudio": "bye"},
        {"name": "bye", "type": "end", "prompt": {"en": "Goodbye."}},
    ],
}


class ReportingStore(Store):
    def record_answer(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        answer_id = super().record_answer(*args, **kwargs)
        audio = kwargs.get("audio")
        if audio is not None:
            sys.stdout.write(f"committed {answer_id} {audio.reference}\n")
            sys.stdout.flush()
        return answer_id


_start = SimulatedCall._start_recording


def _reporting_start(self, record_id, path, *args):  # type: ignore[no-untyped-def]
    _start(self, record_id, path, *args)
    sys.stdout.write(f"recording {path}\n")
    sys.stdout.flush()


def main() -> None:
    data_dir = Path(sys.argv[1])
    survey = data_dir.parent / "voice.json"
    survey.write_text(json.dumps(SURVEY), encoding="utf-8")
    SimulatedCall._start_recording = _reporting_start  # type: ignore[method-assign]
    store = ReportingStore.open(data_dir, box_id="kill")
    line = SimulatedLine("sim", speed=50)
    server = CallServer(store, SurveySource(survey, data_dir), [line],
                        Pseudonymiser(b"k" * 32), max_concurrent_calls=4, timer_scale=1 / 50)
    server.start()
    script = CallerScript({"consent.prompt": ["1"], "message.beep": ["SPEAK:4"]},
                          key_delay_s=0.2)
    print("ready", flush=True)
    while True:  # until killed
        calls = [line.place_call(f"+25571000{i:04d}", script) for i in range(4)]
        server.wait_idle(30)
        del calls
        threading.Event().wait(0.001)


if __name__ == "__main__":
    main()
