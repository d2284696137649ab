"""The pyVoIP boundary: the one module of the compatibility layer that imports pyVoIP.

The layer is a maintained set of overrides written against one pyVoIP release (``PINNED``).
``INTERNALS`` lists every pyVoIP class, method, attribute and constant the layer subclasses,
overrides, calls or reads, each with why. ``problems()`` checks the installed pyVoIP against that
list (version, names, parameter names); tests/hardware/sip/test_compat_pyvoip.py runs it, so an
upgrade fails loudly, naming what moved. Every other ``_compat`` module imports pyVoIP names from
here only (a test checks that too).
"""

from __future__ import annotations

import importlib
import inspect
import re
from dataclasses import dataclass

import pyVoIP
import pyVoIP.VoIP  # before pyVoIP.SIP: importing that first is circular
from pyVoIP import RTP
from pyVoIP.RTP import PayloadType, RTPClient, RTPMessage, RTPParseError, TransmitType
from pyVoIP.SIP import SIPClient, SIPMessage, SIPMessageType, SIPStatus
from pyVoIP.VoIP.VoIP import (
    CallState,
    InvalidStateError,
    NoPortsAvailableError,
    VoIPCall,
    VoIPPhone,
)

PINNED = "1.6.8"
VERSION: str = pyVoIP.__version__
# What stock messages say; we read them (never change them: stock classes keep their behaviour).
STOCK_METHODS: tuple[str, ...] = tuple(pyVoIP.SIPCompatibleMethods)
SIP_VERSIONS: tuple[str, ...] = tuple(pyVoIP.SIPCompatibleVersions)

__all__ = [
    "INTERNALS", "PINNED", "RTP", "SIP_VERSIONS", "STOCK_METHODS", "VERSION", "CallState",
    "Internal", "InvalidStateError", "NoPortsAvailableError", "PayloadType", "RTPClient",
    "RTPMessage", "RTPParseError", "SIPClient", "SIPMessage", "SIPMessageType", "SIPStatus",
    "TransmitType", "VoIPCall", "VoIPPhone", "problems",
]


@dataclass(frozen=True)
class Internal:
    """One pyVoIP name the layer depends on.

    ``kind``: ``class``; ``method`` (``params`` are its parameter names, checked); ``attr`` (an
    instance attribute the class assigns, checked in its source); ``member`` (an enum member or
    module constant).
    """

    owner: str
    name: str
    kind: str
    why: str
    params: tuple[str, ...] = ()


def _m(owner: str, name: str, params: str, why: str) -> Internal:
    return Internal(owner, name, "method", why, tuple(params.split()))


def _a(owner: str, names: str, why: str) -> list[Internal]:
    return [Internal(owner, name, "attr", why) for name in names.split()]


_SIP = "pyVoIP.SIP"
_CLIENT = "pyVoIP.SIP.SIPClient"
_MESSAGE = "pyVoIP.SIP.SIPMessage"
_PHONE = "pyVoIP.VoIP.VoIP.VoIPPhone"
_CALL = "pyVoIP.VoIP.VoIP.VoIPCall"
_RTPC = "pyVoIP.RTP.RTPClient"

INTERNALS: tuple[Internal, ...] = (
    Internal("pyVoIP", "__version__", "member", "compared with PINNED; written in User-Agent"),
    Internal("pyVoIP", "SIPCompatibleMethods", "member", "stock Allow list, replaced by ours"),
    Internal("pyVoIP", "SIPCompatibleVersions", "member", "the SIP versions our parser accepts"),
    # --- SIP client (HardenedSIPClient) --------------------------------------------------------
    Internal(_SIP, "SIPClient", "class", "subclassed: transactions, routing, registration"),
    _m(_CLIENT, "__init__", "self server port username password phone myIP myPort callCallback "
       "fatalCallback", "called by HardenedSIPClient.__init__"),
    _m(_CLIENT, "parse_message", "self message", "overridden: every method answered (defect 2), "
       "responses matched to our transactions, strays dropped quietly"),
    _m(_CLIENT, "recv_loop", "self", "overridden: select() loop that also runs the timers"),
    _m(_CLIENT, "start", "self", "overridden: binds and returns at once (no blocking REGISTER)"),
    _m(_CLIENT, "stop", "self", "overridden: quick stop, challenged un-REGISTER answered"),
    _m(_CLIENT, "gen_answer", "self request sess_id ms sendtype", "called for the 200's SDP; "
       "Allow and Record-Route fixed in its text"),
    _m(_CLIENT, "gen_ringing", "self request", "overridden: one To-tag per dialog"),
    _m(_CLIENT, "gen_bye", "self request", "overridden: own Via and CSeq (defect 7), route set"),
    _m(_CLIENT, "bye", "self request", "overridden: the BYE is a retransmitted transaction"),
    _m(_CLIENT, "gen_tag", "self", "called: our To-tags"),
    _m(_CLIENT, "gen_branch", "self length", "called: Via branches of our requests"),
    _m(_CLIENT, "_gen_response_via_header", "self request", "called: Via lines of responses"),
    _m(_CLIENT, "_close_sockets", "self", "called on stop"),
    *_a(_CLIENT, "NSD s out server port myIP myPort username phone tagLibrary byeCounter",
        "read/written by HardenedSIPClient (socket, peer, identity, dialog tags, BYE CSeq)"),
    # --- SIP message (RobustSIPMessage) ----------------------------------------------------------
    Internal(_SIP, "SIPMessage", "class", "subclassed: the parser fixes (defect 9)"),
    _m(_MESSAGE, "__init__", "self data", "constructor our subclass keeps"),
    _m(_MESSAGE, "parse", "self data", "overridden: fed a normalised datagram"),
    *_a(_MESSAGE, "SIPCompatibleMethods SIPCompatibleVersions headers body type method status "
        "authentication auth_match raw", "set or read on parsed messages"),
    *_a(_MESSAGE, "heading", "the start line: an unknown response code's real value is kept "
        "there (parsed as its x00); read for the log of a dial"),
    Internal(_SIP, "SIPMessageType", "class", "request or response"),
    Internal("pyVoIP.SIP.SIPMessageType", "MESSAGE", "member", "a request"),
    Internal(_SIP, "SIPStatus", "class", "response codes; its members are the codes stock "
             "parses (others are parsed as their x00)"),
    Internal("pyVoIP.SIP.SIPStatus", "TRYING", "member", "provisional REGISTER answer"),
    Internal("pyVoIP.SIP.SIPStatus", "OK", "member", "registration granted"),
    # --- phone (HardenedPhone) -------------------------------------------------------------------
    Internal("pyVoIP.VoIP.VoIP", "VoIPPhone", "class", "subclassed: calls, ports, lifecycle"),
    _m(_PHONE, "__init__", "self server port username password myIP callCallback sipPort "
       "rtpPortLow rtpPortHigh", "called by HardenedPhone.__init__"),
    _m(_PHONE, "callback", "self request", "handed to the client as its request callback"),
    _m(_PHONE, "_callback_MSG_Invite", "self request", "overridden: INVITE handling (defect 4)"),
    _m(_PHONE, "_callback_MSG_Bye", "self request", "overridden: BYE ends our call"),
    _m(_PHONE, "request_port", "self blocking", "overridden: never blocks, even ports"),
    _m(_PHONE, "release_ports", "self call", "overridden: one call's ports (defect 6)"),
    _m(_PHONE, "start", "self", "overridden: no blocking registration"),
    _m(_PHONE, "stop", "self failed", "overridden: quick stop (defect 6)"),
    _m(_PHONE, "fatal", "self", "handed to the client as its fatal callback"),
    *_a(_PHONE, "NSD calls assignedPorts portsLock rtpPortLow rtpPortHigh recvmode sip server "
        "port myIP callCallback", "read/written by HardenedPhone"),
    # --- call (HardenedCall) ---------------------------------------------------------------------
    Internal("pyVoIP.VoIP.VoIP", "VoIPCall", "class", "subclassed: state lock, listener"),
    _m(_CALL, "__init__", "self phone callstate request session_id myIP ms sendmode",
       "called by HardenedCall.__init__"),
    _m(_CALL, "create_rtp_clients", "self codecs ip port request baseport",
       "overridden: our RTP client, codec preference, ports recorded (defect 6)"),
    _m(_CALL, "dtmf_callback", "self code", "overridden: digits to the listener"),
    _m(_CALL, "answer", "self", "overridden: refused after CANCEL (defect 3), 2xx resent"),
    _m(_CALL, "renegotiate", "self request", "overridden: re-INVITE keeps streams (defect 4)"),
    _m(_CALL, "bye", "self", "overridden: remote hang-up"),
    _m(_CALL, "hangup", "self", "overridden: BYE or 480 by state"),
    _m(_CALL, "deny", "self", "overridden: same as hangup"),
    _m(_CALL, "gen_ms", "self", "called: the media description for the 200"),
    _m(_CALL, "__del__", "self", "overridden: no second port release"),
    *_a(_CALL, "RTPClients assignedPorts state request call_id session_id sendmode sip phone",
        "read/written by HardenedCall and the line"),
    Internal("pyVoIP.VoIP.VoIP", "CallState", "class", "call states"),
    *[Internal("pyVoIP.VoIP.VoIP.CallState", n, "member", "call state we set or test")
      for n in ("DIALING", "RINGING", "ANSWERED", "ENDED")],
    Internal("pyVoIP.VoIP.VoIP", "InvalidStateError", "class", "raised by answer()"),
    Internal("pyVoIP.VoIP.VoIP", "NoPortsAvailableError", "class", "raised by request_port()"),
    # --- RTP (HardenedRTPClient) -----------------------------------------------------------------
    Internal("pyVoIP.RTP", "RTPClient", "class", "subclassed: RTP fixes (defects 1, 4, 5, 6)"),
    _m(_RTPC, "__init__", "self assoc inIP inPort outIP outPort sendrecv dtmf",
       "called by HardenedRTPClient.__init__"),
    *[_m(_RTPC, n, "self", "overridden: idempotent start, quick stop, paced loops")
      for n in ("start", "stop", "recv", "trans")],
    _m(_RTPC, "encode_packet", "self payload", "overridden: PCMA encoded as A-law (defect 1)"),
    _m(_RTPC, "encode_pcma", "self packet", "called by our encode_packet"),
    _m(_RTPC, "parse_packet", "self packet", "overridden: integer header parsing"),
    _m(_RTPC, "parse_telephone_event", "self packet", "overridden: de-duplicated (defect 5)"),
    _m(_RTPC, "parse_pcmu", "self packet", "overridden: bounded inbound audio (defect 6)"),
    _m(_RTPC, "parse_pcma", "self packet", "overridden: bounded inbound audio (defect 6)"),
    _m(_RTPC, "write", "self data", "overridden: prompts are queued as G.711 already encoded "
       "(no 8-bit round trip)"),
    *_a(_RTPC, "NSD assoc preference inIP inPort outIP outPort outSequence outTimestamp "
        "outSSRC pmin pmout sin sout dtmf", "read/written by HardenedRTPClient"),
    Internal("pyVoIP.RTP", "RTPMessage", "class", "payload/timestamp/marker read"),
    Internal("pyVoIP.RTP", "RTPParseError", "class", "raised for packets we drop"),
    Internal("pyVoIP.RTP", "TransmitType", "class", "sendrecv/sendonly modes"),
    Internal("pyVoIP.RTP", "PayloadType", "class", "codecs"),
    *[Internal("pyVoIP.RTP.PayloadType", n, "member", "codec we send or parse")
      for n in ("PCMU", "PCMA", "EVENT")],
)


def _resolve(dotted: str) -> object:
    """A module or an attribute path inside one (``pyVoIP.SIP.SIPClient``)."""
    parts = dotted.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            obj: object = importlib.import_module(".".join(parts[:cut]))
        except ImportError:
            continue
        for part in parts[cut:]:
            obj = getattr(obj, part)
        return obj
    raise ImportError(dotted)


def _assigns(cls: type, name: str) -> bool:
    """Whether a pyVoIP class (or a pyVoIP base) assigns ``self.<name>`` in its source."""
    pattern = re.compile(rf"self\.{re.escape(name)}\s*(:[^=\n]*)?=(?!=)")
    for klass in inspect.getmro(cls):
        if klass.__module__.startswith("pyVoIP") and pattern.search(inspect.getsource(klass)):
            return True
    return False


def _problem(item: Internal) -> str | None:
    where = f"{item.owner}.{item.name}"
    try:
        owner = _resolve(item.owner)
    except (ImportError, AttributeError):
        return f"{where}: {item.owner} is gone"
    if item.kind == "attr":
        if not isinstance(owner, type) or not _assigns(owner, item.name):
            return f"{where}: attribute no longer assigned by {item.owner}"
        return None
    if not hasattr(owner, item.name):
        return f"{where}: gone"
    if item.kind == "method":
        found = tuple(inspect.signature(getattr(owner, item.name)).parameters)
        if found != item.params:
            return f"{where}: parameters {found}, written against {item.params}"
    if item.kind == "class" and not isinstance(getattr(owner, item.name), type):
        return f"{where}: no longer a class"
    return None


def problems() -> list[str]:
    """What differs between the installed pyVoIP and the one this layer was written against:
    empty when everything listed is where it was."""
    found = [] if VERSION == PINNED else [f"pyVoIP {VERSION} installed, layer written for "
                                          f"{PINNED}: re-check every override in INTERNALS"]
    return found + [p for p in map(_problem, INTERNALS) if p]
