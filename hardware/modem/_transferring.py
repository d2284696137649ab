"""Handing the caller to a number on a modem (a survey's connect state): what the module's
answers come to. Pure: nothing here writes to the port.

The module does it by explicit call transfer (ECT, 3GPP TS 22.091) through ``AT+CHLD``
(3GPP TS 27.007 s.7.13; SIM800 AT manual V1.09 s.3.2.x, EC2x AT manual s.11.3, SIM7600 AT
manual V1.07 "AT+CHLD"):

1. ``AT+CHLD=?`` lists the operations the module offers; ``4`` (connect the held call with
   the other one and leave both) must be among them. Manuals write the list as values
   (``(0,1,1x,2,2x,3,4)``) or ranges (``(0-4, 11-17, 21-27)``).
2. ``AT+CHLD=2`` holds the caller (the call list then shows it with stat 1, held).
3. ``ATD<number>;`` places the second call (its progress: see ``_dialing``).
4. Once it is answered, ``AT+CHLD=4``: the two parties talk and the module has no call left.

ECT is allowed as soon as the second call alerts (22.091), but a transfer made then would
leave a caller whose operator is busy or away with no survey to come back to. So the box
waits for the answer, as a SIP gateway's final NOTIFY does, and the survey hears
``completed``/``busy``/``no-answer`` as Studio's DialCallStatus. If the second call does not
lead to a transfer, the box releases it (``AT+CHLD=1<x>``) and retrieves the caller
(``AT+CHLD=2``), who is back with the survey. The network may refuse ECT (not every operator
offers it): the same way back.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ._parser import ClccEntry, payload

HELD = 1
DISCONNECTED = 6

# A dial outcome of the second call (edge.lines.DIAL_OUTCOMES) as the survey hears it
# (edge.lines.TRANSFER_STATUSES, Studio's DialCallStatus words): a call declined while it
# rang reads busy, as networks signal it to the caller.
STATUS_FOR_OUTCOME = {
    "answered": "completed",
    "busy": "busy",
    "rejected": "busy",
    "no-answer": "no-answer",
    "unreachable": "failed",
    "failed": "failed",
}

_RANGE = re.compile(r"^(\d+)-(\d+)$")


def supported_holds(lines: list[str]) -> set[str]:
    """The operations an ``AT+CHLD=?`` answer lists: ``{"0", "1", "1x", "2", "2x", "3",
    "4"}`` for ``+CHLD: (0,1,1x,2,2x,3,4)``; ranges as in ``(0-4, 11-17, 21-27)`` are
    expanded (``11-17`` means ``1x``). Nothing for an answer without ``+CHLD``."""
    found: set[str] = set()
    for line in lines:
        if not line.startswith("+CHLD"):
            continue
        for part in payload(line, "+CHLD").strip().strip("()").split(","):
            item = part.strip().strip('"').lower()
            match = _RANGE.match(item)
            if match:
                low, high = int(match.group(1)), int(match.group(2))
                for value in range(low, high + 1):
                    found.add(f"{str(value)[0]}x" if value >= 10 else str(value))
            elif item:
                found.add(item)
    return found


def held_call(entries: list[ClccEntry]) -> ClccEntry | None:
    """The voice call the module holds, if any."""
    return next((e for e in entries if e.voice and e.stat == HELD), None)


@dataclass(frozen=True)
class WayBack:
    """How to get back to the caller alone after a second call that led to no transfer:
    the commands, in order; ``caller_gone`` when the caller hung up meanwhile (then every
    call left is hung up)."""

    commands: tuple[str, ...]
    caller_gone: bool


def way_back(entries: list[ClccEntry], held_index: int, hangups: tuple[str, ...]) -> WayBack:
    """From an ``AT+CLCC`` read: release every call but the caller's (``AT+CHLD=1<x>``), then
    retrieve the caller if still held (``AT+CHLD=2``; with no held call, ``2`` would put an
    active caller on hold instead). A caller no longer listed hung up: ``hangups`` end what
    is left."""
    live = [e for e in entries if e.voice and e.stat != DISCONNECTED]
    caller = next((e for e in live if e.index == held_index), None)
    others = [e for e in live if e.index != held_index]
    if caller is None:
        return WayBack(hangups if others else (), caller_gone=True)
    commands = [f"AT+CHLD=1{e.index}" for e in others]
    if caller.stat == HELD:
        commands.append("AT+CHLD=2")
    return WayBack(tuple(commands), caller_gone=False)
