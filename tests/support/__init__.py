"""Stand-ins and fillers for tests and benchmarks (real servers on 127.0.0.1): the Twilio Sync
stand-in, the link emulator, the fault proxy, the outbox filler, a small disk (tmpfs). Kept
under tests/ so that they are not part of the installed product (issue 10); tests and bench/
import ``tests.support``."""

from ._disk import fill_disk, read_only, small_disk
from ._faults import (
    FAULTS,
    PORTAL_PAGE,
    RECEIVER_FAULTS,
    FaultProxy,
    random_plan,
    scripted_plan,
)
from ._fill import QUESTIONS, SimClock, fill_surveys, open_store
from ._link import LinkEmulator, LinkStats
from ._twilio import TwilioSyncStandIn

__all__ = ["FAULTS", "PORTAL_PAGE", "QUESTIONS", "RECEIVER_FAULTS", "FaultProxy",
           "LinkEmulator", "LinkStats", "SimClock", "TwilioSyncStandIn", "fill_disk",
           "fill_surveys", "open_store", "random_plan", "read_only", "scripted_plan",
           "small_disk"]
