"""Fill a real store's outbox with surveys through the store's own API (begin_call,
record_answer, end_call), on a simulated clock so that runs are reproducible."""

from __future__ import annotations

import random
from pathlib import Path

from edge.clock import Clock
from edge.privacy import Pseudonymiser
from edge.records import AnswerInput
from edge.store import Store

QUESTIONS = ("language", "consent", "household", "need", "callback",
             "water", "income", "loan", "shelter", "health")
# What each key means per question, as the survey engine would interpret it.
_CHOICES = {
    "language": ("en", "fr", "ar"), "consent": ("yes",),
    "need": ("food", "water", "shelter", "health", "other"), "callback": ("yes", "no"),
}
_DEFAULT_CHOICES = ("yes", "no", "sometimes", "unknown")


class SimClock:
    """Wall and monotonic time moving together, advanced by the filler."""

    def __init__(self, start_epoch: float = 1_790_000_000.0, start_mono: float = 5000.0) -> None:
        self.wall = start_epoch
        self.mono = start_mono

    def advance(self, seconds: float) -> None:
        self.wall += seconds
        self.mono += seconds

    def clock(self, boot_id: str = "b00710a1-0000-4000-8000-000000000001") -> Clock:
        return Clock(wall=lambda: self.wall, mono=lambda: self.mono, boot_id=boot_id,
                     synchronised=lambda: True)


def open_store(data_dir: Path, box_id: str = "box-1", sim: SimClock | None = None,
               fast: bool = False) -> tuple[Store, SimClock]:
    sim = sim or SimClock()
    store = Store.open(data_dir, clock=sim.clock(), box_id=box_id)
    if fast:  # bench only: the durability of the fill itself is not what is measured
        store.db.conn.execute("PRAGMA synchronous=OFF")
    return store, sim


def fill_surveys(store: Store, sim: SimClock, surveys: int, seed: int = 1,
                 answers: int = 10) -> None:
    """``surveys`` completed calls of ``answers`` answers each (12 outbox records each)."""
    rng = random.Random(seed)
    pseudo = Pseudonymiser(b"k" * 32)
    for _ in range(surveys):
        sim.advance(rng.uniform(20, 600) + rng.random() / 1000)
        caller = pseudo.pseudonym(f"+2557{rng.randrange(10**8):08d}")
        call_id = store.begin_call("sip", caller, False, "demo", "3")
        language = "en"
        for question in QUESTIONS[:answers]:
            sim.advance(rng.uniform(2, 9) + rng.randrange(1000) / 1e6)
            if question == "household":
                value = str(rng.randrange(1, 13))
                raw = value + "#"
            else:
                choices = _CHOICES.get(question, _DEFAULT_CHOICES)
                key = rng.randrange(len(choices))
                raw, value = str(key + 1), choices[key]
            sets_language = question == "language"
            if sets_language:
                language = value
            store.record_answer(
                call_id,
                AnswerInput(question, raw=raw, value=value,
                            attempts=1 + (rng.random() < 0.1), invalid=0,
                            timeouts=int(rng.random() < 0.05)),
                language=language, survey_version="3", sets_language=sets_language,
            )
        sim.advance(rng.uniform(1, 4))
        store.end_call(call_id, "complete")
