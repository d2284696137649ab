"""A modem line's settings, from its ``[modem]`` config section (``SECTION`` names and checks
each key; this is the typed copy the line and its calls read)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass
class ModemSettings:
    port: str
    profile: str = "sim800"
    baud: int = 115200
    pin: str = ""
    name: str = "modem"
    clcc_poll_s: float = 5.0
    status_poll_s: float = 30.0
    max_backoff_s: float = 10.0
    answer_unknown_after_rings: int = 2
    init_retry_s: float = 20.0  # total wait for SIM busy / init in progress after a boot
    # A ringing call the module does not list is given up after this long without a RING.
    ringing_gone_s: float = 10.0
    on_ring: str = "answer"  # "answer", or "callback": the server declines and calls back
    dial_poll_s: float = 0.5  # how often the call list is read while a dialled call rings
    transfers: bool = True  # hand callers to a number by explicit call transfer (AT+CHLD=4)

    @classmethod
    def from_config(cls, values: dict[str, Any]) -> ModemSettings:
        known = {k: v for k, v in values.items() if k in cls.__dataclass_fields__}
        return cls(**known)
