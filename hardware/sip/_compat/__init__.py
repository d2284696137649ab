"""A compatibility layer over pyVoIP 1.6.8: subclasses that fix the defects listed in
docs/sip.md (one commented override per defect). Nothing here patches pyVoIP globally, so stock
classes keep their behaviour in the same process (the tests compare both).

Public face::

    HardenedPhone, HardenedCall, HardenedSIPClient, HardenedRTPClient   the fixed classes
    PlacedCall, Placing, Placed                                         calls we place
    RobustSIPMessage, normalise                                         the parser fix
    EventDeduper, Playout, InboundAudio, SourceLatch, RtpEngine         RTP helpers
    AudioCapture                                                        recorded audio
    parse_sdp, choose_audio, SdpError                                   SDP, checked
    RegistrationPolicy, RegistrationIdentity, CallListener, info_digit, DROP
"""

from ._call import CallListener, HardenedCall
from ._capture import AudioCapture
from ._client import ALLOW, DROP, HardenedSIPClient, RoutingSocket
from ._engine import RtpEngine
from ._message import RobustSIPMessage, normalise
from ._phone import HardenedPhone, info_digit
from ._placed import PlacedCall
from ._placing import Placed, Placing
from ._pyvoip import NoPortsAvailableError
from ._regidentity import FILENAME as IDENTITY_FILE
from ._regidentity import RegistrationIdentity
from ._registration import RegistrationPolicy, granted_expires
from ._rtp import FRAME, EventDeduper, HardenedRTPClient, InboundAudio, Playout, SourceLatch
from ._sdp import SdpError, choose_audio, parse_sdp

__all__ = [
    "ALLOW",
    "DROP",
    "FRAME",
    "IDENTITY_FILE",
    "AudioCapture",
    "CallListener",
    "EventDeduper",
    "HardenedCall",
    "HardenedPhone",
    "HardenedRTPClient",
    "HardenedSIPClient",
    "InboundAudio",
    "NoPortsAvailableError",
    "Placed",
    "PlacedCall",
    "Placing",
    "Playout",
    "RegistrationIdentity",
    "RegistrationPolicy",
    "RobustSIPMessage",
    "RoutingSocket",
    "RtpEngine",
    "SdpError",
    "SourceLatch",
    "choose_audio",
    "granted_expires",
    "info_digit",
    "normalise",
    "parse_sdp",
]
