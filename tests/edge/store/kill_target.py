"""Child process for test_durability: the real server answering simulated calls without end,
printing each answer's id the moment its commit has returned. The test SIGKILLs it."""

from __future__ import annotations

import sys
import threading
from pathlib import Path

from edge.lines.simulated import CallerScript, SimulatedLine
from edge.privacy import Pseudonymiser
from edge.server import CallServer, SurveySource
from edge.store import Store
from edge.survey import BUILTIN_DEMO


class ReportingStore(Store):
    def record_answer(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        answer_id = super().record_answer(*args, **kwargs)
        sys.stdout.write(f"committed {answer_id}\n")
        sys.stdout.flush()
        return answer_id


def main() -> None:
    data_dir = Path(sys.argv[1])
    store = ReportingStore.open(data_dir, box_id="kill")
    line = SimulatedLine("sim", speed=200)
    server = CallServer(store, SurveySource(BUILTIN_DEMO), [line], Pseudonymiser(b"k" * 32),
                        max_concurrent_calls=4, timer_scale=1 / 200)
    server.start()
    script = CallerScript({"language.prompt": ["2"], "consent.prompt": ["1"],
                           "household.prompt": ["4#"], "children.prompt": ["2#"],
                           "need.prompt": ["2"], "water_source.prompt": ["3"],
                           "callback.prompt": ["1"]}, key_delay_s=0.05, key_gap_s=0.02)
    print("ready", flush=True)
    while True:  # until killed
        calls = [line.place_call(f"+25571000{i:04d}", script) for i in range(4)]
        server.wait_idle(30)
        del calls
        threading.Event().wait(0.001)


if __name__ == "__main__":
    main()
