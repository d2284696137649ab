"""Parser defects of pyVoIP 1.6.8 (reference defect 9): stock vs ours on the same datagrams."""

from __future__ import annotations

import contextlib

import pytest
import pyVoIP.VoIP  # noqa: F401  (before pyVoIP.SIP: its import is circular)
from hypothesis import given, settings
from hypothesis import strategies as st
from pyVoIP.SIP import SIPMessage
from pyVoIP.VoIP.VoIP import CallState, VoIPCall, VoIPPhone

from hardware.sip._compat import HardenedCall, HardenedPhone, RobustSIPMessage, normalise

SDP_BOTH_C = (
    "v=0\r\no=gw 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
    "m=audio 40000 RTP/AVP 0 101\r\nc=IN IP4 127.0.0.1\r\na=rtpmap:0 PCMU/8000\r\n"
    "a=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-15\r\n"
)


def invite(headers: str, sdp: str = SDP_BOTH_C) -> bytes:
    return (
        "INVITE sip:survey@127.0.0.1 SIP/2.0\r\n" + headers
        + f"Content-Length: {len(sdp)}\r\n\r\n{sdp}"
    ).encode()


CANONICAL = (
    "Via: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK1\r\n"
    "From: <sip:+255712345678@127.0.0.1>;tag=a\r\nTo: <sip:survey@127.0.0.1>\r\n"
    "Call-ID: c1@x\r\nCSeq: 1 INVITE\r\nContact: <sip:gw@127.0.0.1:5070>\r\n"
    "Content-Type: application/sdp\r\n"
)
COMPACT = (
    "v: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK1\r\n"
    "f: <sip:+255712345678@127.0.0.1>;tag=a\r\nt: <sip:survey@127.0.0.1>\r\n"
    "i: c1@x\r\nCSEQ: 1 INVITE\r\nm: <sip:gw@127.0.0.1:5070>\r\n"
    "c: Application/SDP\r\n"
)


def test_compact_and_case_insensitive_headers():
    with pytest.raises(KeyError):  # defect: compact forms and case are not understood
        SIPMessage(invite(COMPACT))
    ours = RobustSIPMessage(invite(COMPACT))
    assert ours.headers["Call-ID"] == "c1@x"
    assert ours.headers["From"]["number"] == "+255712345678"
    assert ours.headers["CSeq"]["method"] == "INVITE"
    assert ours.body["m"][0]["port"] == 40000


def test_options_and_info_are_parsed():
    options = (
        b"OPTIONS sip:box@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK2\r\n"
        b"From: <sip:gw@127.0.0.1>;tag=b\r\nTo: <sip:box@127.0.0.1>\r\nCall-ID: o1\r\n"
        b"CSeq: 7 OPTIONS\r\nContent-Length: 0\r\n\r\n"
    )
    with pytest.raises(Exception, match="Unable to decipher"):
        SIPMessage(options)  # defect 2's root: the method is refused by the parser
    assert RobustSIPMessage(options).method == "OPTIONS"


def test_a_notify_with_a_sipfrag_body_is_parsed_and_its_body_kept():
    frag = "SIP/2.0 200 OK\r\n"
    notify = (
        "NOTIFY sip:box@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK3\r\n"
        "From: <sip:gw@127.0.0.1>;tag=b\r\nTo: <sip:box@127.0.0.1>;tag=c\r\nCall-ID: n1\r\n"
        "CSeq: 3 NOTIFY\r\nEvent: refer\r\nSubscription-State: terminated;reason=noresource\r\n"
        f"Content-Type: message/sipfrag;version=2.0\r\nContent-Length: {len(frag)}\r\n\r\n{frag}"
    ).encode()
    with pytest.raises(Exception):  # noqa: B017 (stock refuses NOTIFY; its body parse needs k=v)
        SIPMessage(notify)
    ours = RobustSIPMessage(notify)
    assert ours.method == "NOTIFY" and ours.headers["Event"] == "refer"
    assert ours.raw_body == frag.encode()


def test_repeated_headers_all_kept():
    headers = CANONICAL + "P-Asserted-Identity: <sip:+1@gw>\r\nP-Asserted-Identity: <tel:+2>\r\n"
    assert RobustSIPMessage(invite(headers)).header_values("p-asserted-identity") == [
        "<sip:+1@gw>", "<tel:+2>",
    ]


def test_session_and_media_connection_lines_give_rtp():
    stock_phone = VoIPPhone("127.0.0.1", 5060, "", "", myIP="127.0.0.1",
                            rtpPortLow=41000, rtpPortHigh=41010)
    stock_call = VoIPCall(stock_phone, CallState.RINGING, SIPMessage(invite(CANONICAL)), 1,
                          "127.0.0.1")
    assert stock_call.RTPClients == []  # defect: two c= lines, one port: "no RTP"

    phone = HardenedPhone("127.0.0.1", 5060, "", "", myIP="127.0.0.1",
                          rtpPortLow=41000, rtpPortHigh=41010)
    call = HardenedCall(phone, CallState.RINGING, RobustSIPMessage(invite(CANONICAL)), 1,
                        "127.0.0.1")
    assert len(call.RTPClients) == 1 and call.media_ok and call.telephone_event
    assert call.RTPClients[0].outPort == 40000


def test_lf_only_folded_and_comma_separated_via():
    raw = (
        b"INVITE sip:s@127.0.0.1 SIP/2.0\n"
        b"Via: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bKa, "
        b"SIP/2.0/UDP 10.0.0.2:5062;branch=z9hG4bKb\n"
        b"From: <sip:+2551@10.0.0.1>;tag=x\nTo: <sip:s@127.0.0.1>\nCall-ID: f1\n"
        b"CSeq: 1 INVITE\nSubject: a folded\n  header\nContent-Length: 0\n\n"
    )
    msg = RobustSIPMessage(raw)
    vias = [v["address"] for v in msg.headers["Via"]]
    assert vias == [("10.0.0.1", "5060"), ("10.0.0.2", "5062")]
    assert msg.headers["Subject"] == "a folded header"


def test_body_cut_at_content_length():
    raw = invite(CANONICAL) + b"trailing garbage\r\n\r\nmore"
    assert RobustSIPMessage(raw).body["m"][0]["port"] == 40000


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=600))
def test_normalise_fails_only_with_value_errors(data):
    # UnicodeDecodeError is a ValueError too; the client drops such datagrams.
    with contextlib.suppress(ValueError):
        normalise(data)
