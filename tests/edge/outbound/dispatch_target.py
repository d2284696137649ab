"""Child process for test_kill: a Box placing queued callbacks on a simulated line, printing
each attempt the moment its row is committed (before the dial). The test SIGKILLs it mid-dial,
then runs it again with phones that answer."""

from __future__ import annotations

import sys
import threading
from pathlib import Path

from edge.config import Config, parse_config
from edge.lines.simulated import CallerScript, SimulatedLine, SimulatedPhone
from edge.plugins import all_sections
from edge.server import Box
from edge.store._outbound import OutboundStore

SPEED = 20.0
ANSWERS = {"language.prompt": ["1"], "consent.prompt": ["1"], "household.prompt": ["1#"],
           "need.prompt": ["1"], "callback.prompt": ["2"]}


def main() -> None:
    data_dir, phones, jobs = Path(sys.argv[1]), sys.argv[2], int(sys.argv[3])
    original = OutboundStore.begin_attempt

    def reporting(self, job_id, line):  # type: ignore[no-untyped-def]
        attempt = original(self, job_id, line)
        if attempt is not None:
            print(f"attempt {attempt.id}", flush=True)
        return attempt

    OutboundStore.begin_attempt = reporting  # type: ignore[method-assign]
    raw = {"box": {"id": "k", "data_dir": str(data_dir)},
           "server": {"max_concurrent_calls": 4},
           "outbound": {"enabled": True, "calling_hours": "00:00-24:00", "max_outbound": 3,
                        "reserve_inbound": 0, "check_interval_s": 1.0, "retry_failed_s": 0,
                        "retry_no_answer_s": 0, "ring_timeout_s": 60, "max_attempts": 20}}
    parsed = parse_config(raw, "kill test", all_sections())
    config = Config(parsed.path, parsed.sections, {"pseudonym_key": "cd" * 32})
    script = CallerScript({k: list(v) for k, v in ANSWERS.items()}, key_delay_s=0.2)
    behaviour = (lambda _n: SimulatedPhone("answers", 2.0, script)) if phones == "answer" \
        else (lambda _n: SimulatedPhone("answers", 50.0, script))  # rings ~2.5 s, then answers
    line = SimulatedLine("sim", speed=SPEED, phones=behaviour)
    box = Box(config, lines=[line], timer_scale=1 / SPEED, services=False)
    store = box.store
    if not store.query("SELECT 1 FROM outbound LIMIT 1"):
        for i in range(jobs):
            store.outbound.enqueue("missed", f"+2557100{i:05d}", f"p:{i}")
    box.start()
    print("ready", flush=True)
    threading.Event().wait()  # until killed


if __name__ == "__main__":
    main()
