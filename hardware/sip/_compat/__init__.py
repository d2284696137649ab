"""A compatibility layer over pyVoIP 1.6.8: subclasses that fix the defects listed in
docs/sip.md (one commented override per defect). Nothing here patches pyVoIP globally, so stock
classes keep their behaviour in the same process (the tests compare both).

Public face::

    HardenedPhone, HardenedCall, HardenedSIPClient, HardenedRTPClient   the fixed classes
    RobustSIPMessage, normalise                                         the parser fix
    EventDeduper, Playout, InboundAudio, RtpEngine                      RTP helpers
    RegistrationPolicy, CallListener, info_digit
"""

from ._call import CallListener, HardenedCall
from ._client import ALLOW, HardenedSIPClient, RoutingSocket
from ._message import RobustSIPMessage, normalise
from ._phone import HardenedPhone, info_digit
from ._registration import RegistrationPolicy, granted_expires
from ._rtp import FRAME, EventDeduper, HardenedRTPClient, InboundAudio, Playout, RtpEngine

__all__ = [
    "ALLOW",
    "FRAME",
    "CallListener",
    "EventDeduper",
    "HardenedCall",
    "HardenedPhone",
    "HardenedRTPClient",
    "HardenedSIPClient",
    "InboundAudio",
    "Playout",
    "RegistrationPolicy",
    "RobustSIPMessage",
    "RoutingSocket",
    "RtpEngine",
    "granted_expires",
    "info_digit",
    "normalise",
]
