"""Keypress -> next prompt latency through the real call runner, with the durable commit.

For each key the caller presses, measures the time from the line handing the key to the runner
until the runner starts the next prompt: engine step + the answer's commit (synchronous=FULL,
one fsync) + the outbox row. Measured in the same run:

- durable:   the store as shipped (WAL, synchronous=FULL)
- no-fsync:  the same store with synchronous=OFF (what durability costs)
- engine:    the engine alone, no store (the floor)

Usage: python bench/keypress_latency.py [--calls 200]
Prints p50/p99 per variant and ratios against the engine-only floor; no pass/fail.
"""

from __future__ import annotations

import argparse
import queue
import statistics
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from edge.lines import CallerId, CallEvent, KeyPressed, RemoteHangup, Utterance
from edge.privacy import Pseudonymiser
from edge.server import run_call
from edge.store import Store
from edge.survey import BUILTIN_DEMO, load_survey
from edge.survey.engine import Driver, Session

ANSWERS = {"language.prompt": "1", "consent.prompt": "1", "household.prompt": "3#",
           "children.prompt": "1#", "need.prompt": "2", "water_source.prompt": "1",
           "callback.prompt": "1"}


class BenchCall:
    """A call whose caller answers each question the instant its prompt starts."""

    def __init__(self, samples: list[float]) -> None:
        self._events: queue.SimpleQueue[CallEvent] = queue.SimpleQueue()
        self._samples = samples
        self._key_at: float | None = None

    line_name = "bench"
    caller = CallerId("+255700000000")

    def answer(self) -> None:
        pass

    def play(self, play_id: int, utterances: Sequence[Utterance]) -> None:
        now = time.perf_counter()
        if self._key_at is not None:
            self._samples.append(now - self._key_at)
            self._key_at = None
        keys = ANSWERS.get(utterances[-1].key, "")
        if utterances[-1].key == "intro.prompt":
            keys = "1"  # barge through the intro: the consent answer
        for key in keys:
            self._events.put(KeyPressed(key))
        if utterances[-1].key == "thanks.prompt":
            self._events.put(RemoteHangup())

    def stop_playback(self) -> None:
        pass

    def next_event(self, timeout: float | None) -> CallEvent | None:
        event = self._events.get()
        if isinstance(event, KeyPressed):
            self._key_at = time.perf_counter()
        return event

    def hang_up(self) -> None:
        pass


def measure_store(calls: int, synchronous: str) -> list[float]:
    samples: list[float] = []
    survey = load_survey(BUILTIN_DEMO)
    with tempfile.TemporaryDirectory(dir=Path.cwd()) as directory:
        store = Store.open(Path(directory), box_id="bench")
        store.db.execute(f"PRAGMA synchronous={synchronous}")
        pseudonymiser = Pseudonymiser(b"b" * 32)
        for _ in range(calls):
            run_call(BenchCall(samples), survey, store, pseudonymiser)
        store.close()
    return samples


def measure_engine(calls: int) -> list[float]:
    samples: list[float] = []
    survey = load_survey(BUILTIN_DEMO)
    for _ in range(calls):
        driver = Driver(Session(survey))
        while driver.playing is not None and not driver.session.finished:
            keys = ANSWERS.get(driver.playing.utterances[-1].key)
            if not keys:
                driver.prompt_end()
                continue
            start = time.perf_counter()
            driver.key(keys)
            samples.append(time.perf_counter() - start)
    return samples


def pct(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=200)
    args = parser.parse_args()
    results = {
        "engine": measure_engine(args.calls),
        "no-fsync": measure_store(args.calls, "OFF"),
        "durable": measure_store(args.calls, "FULL"),
    }
    floor = statistics.median(results["engine"])
    print(f"keypress -> next prompt, {args.calls} calls of the demo survey "
          f"(database in {Path.cwd()})")
    print(f"{'variant':<10} {'samples':>8} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8} "
          f"{'p50/engine':>11}")
    for name, samples in results.items():
        print(f"{name:<10} {len(samples):>8} {pct(samples, .5):>8.3f} {pct(samples, .99):>8.3f} "
              f"{max(samples) * 1000:>8.3f} {statistics.median(samples) / floor:>11.1f}")
    durable, fast = results["durable"], results["no-fsync"]
    print(f"durability costs {statistics.median(durable) / statistics.median(fast):.1f}x the "
          "no-fsync median; goal (issue 3): p99 <= 100 ms -> "
          f"{'met' if pct(durable, .99) <= 100 else 'NOT met'}")


if __name__ == "__main__":
    main()
