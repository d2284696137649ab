"""Stand-ins and fillers for tests and benchmarks (real servers on 127.0.0.1)."""

from ._fill import QUESTIONS, SimClock, fill_surveys, open_store

__all__ = ["QUESTIONS", "SimClock", "fill_surveys", "open_store"]
