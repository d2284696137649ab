"""Stand-ins and fillers for tests and benchmarks (real servers on 127.0.0.1)."""

from ._faults import FAULTS, FaultProxy, random_plan, scripted_plan
from ._fill import QUESTIONS, SimClock, fill_surveys, open_store
from ._link import LinkEmulator, LinkStats
from ._twilio import TwilioSyncStandIn

__all__ = ["FAULTS", "QUESTIONS", "FaultProxy", "LinkEmulator", "LinkStats", "SimClock",
           "TwilioSyncStandIn", "fill_surveys", "open_store", "random_plan", "scripted_plan"]
