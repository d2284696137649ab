"""SIP line: calls from GSM-SIP gateways and PBXs through a hardened pyVoIP 1.6.8.

Public face::

    KIND        the LineKind plugged in through the ``edgecall.lines`` entry point
    SECTION     the ``[sip]`` config section
    SipLine     the Line (SipCall is the Call it hands to the server)
    doctor_checks   the ``edgecall doctor`` checks (``edgecall.doctor`` entry point)
"""

from __future__ import annotations

from typing import Any

from edge.lines import LineContext, LineKind

from ._config import SECTION
from ._doctor import doctor_checks
from ._line import SipCall, SipLine


def create(settings: dict[str, Any], context: LineContext) -> SipLine:
    return SipLine(settings, context)


# SIP lines place calls too (an INVITE through the gateway): callbacks and campaigns.
KIND = LineKind("sip", SECTION, create, dials=True)

__all__ = ["KIND", "SECTION", "SipCall", "SipLine", "create", "doctor_checks"]
