"""SDP checked field by field (pure): what an offer may carry, what we answer, and that pyVoIP
only ever parses a canonical copy it can parse."""

from __future__ import annotations

import contextlib

import pytest
import pyVoIP.VoIP  # noqa: F401  (before pyVoIP.SIP: its import is circular)
from hypothesis import given, settings
from hypothesis import strategies as st
from pyVoIP.SIP import SIPMessage

from hardware.sip._compat import RobustSIPMessage, SdpError, choose_audio, parse_sdp
from hardware.sip._compat._sdp import answer_sdp, offer_sdp, pyvoip_lines

OFFER = (
    "v=0\r\no=gw 1 1 IN IP4 10.0.0.9\r\ns=-\r\nc=IN IP4 10.0.0.9\r\nt=0 0\r\n"
    "m=audio 40000 RTP/AVP 18 8 0 101\r\na=rtpmap:18 G729/8000\r\na=rtpmap:8 PCMA/8000\r\n"
    "a=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-15\r\na=ptime:40\r\n"
    "m=video 40002 RTP/AVP 96\r\na=rtpmap:96 H264/90000\r\n"
)


def test_choice_follows_our_preference_and_keeps_the_offer_shape():
    sd = parse_sdp(OFFER)
    choice = choose_audio(sd, ["PCMU", "PCMA"])
    assert (choice.pt, choice.codec, choice.event_pt, choice.ptime) == (0, "PCMU", 101, 40)
    assert (choice.address, choice.port, choice.hold) == ("10.0.0.9", 40000, False)
    assert choose_audio(sd, ["PCMA"]).pt == 8
    answer = answer_sdp(sd, choice, "10.0.0.2", 12000, "7", 1, choice.answer_direction)
    assert "m=audio 12000 RTP/AVP 0 101\r\n" in answer and "a=ptime:40\r\n" in answer
    assert "m=video 0 RTP/AVP 96\r\n" in answer  # refused, in its place (RFC 3264 6)
    assert answer.index("m=audio") < answer.index("m=video")


@pytest.mark.parametrize(("text", "code"), [
    ("v=0\r\nc=IN IP4 10.0.0.9\r\nm=audio 65536 RTP/AVP 0\r\n", 307),
    ("v=0\r\nc=IN IP4 10.0.0.9\r\nm=audio -1 RTP/AVP 0\r\n", 307),
    ("v=0\r\nc=IN IP4 10.0.0.9\r\nm=audio 99999999999 RTP/AVP 0\r\n", 307),
    ("v=0\r\nc=IN IP4 10.0.0.9\r\nm=audio 4000 RTP/AVP 128\r\n", 305),
    ("v=0\r\nc=IN IP4 10.0.0.9\r\nm=audio 4000 RTP/AVP PCMU\r\n", 305),
    ("v=0\r\nc=IN IP4 10.0.0.9\r\nm=audio 4000 RTP/AVP\r\n", 307),
    ("v=0\r\nc=IN IP4 10.0.0.9\r\nm=audio 4000\r\n", 307),
    ("v=0\r\nc=IN IP4 999.0.0.1\r\nm=audio 4000 RTP/AVP 0\r\n", 301),
    ("v=0\r\nc=IN IP4 239.1.1.1/16\r\nm=audio 4000 RTP/AVP 0\r\n", 301),
    ("v=0\r\nc=IN IP4 255.255.255.255\r\nm=audio 4000 RTP/AVP 0\r\n", 301),
    ("v=0\r\nc=IN IP4 0.1.2.3\r\nm=audio 4000 RTP/AVP 0\r\n", 301),
    ("v=0\r\nc=IN IP6 10.0.0.9\r\nm=audio 4000 RTP/AVP 0\r\n", 301),
    ("v=0\r\nc=IN IP4\r\nm=audio 4000 RTP/AVP 0\r\n", 301),
    ("v=0\r\nc=IN IP4 10.0.0.9\r\nm=audio 4000 RTP/AVP 0\r\na=rtpmap:0 PCMU\r\n", 305),
    ("v=0\r\nc=IN IP4 10.0.0.9\r\nm=audio 4000 RTP/AVP 0\r\na=ptime:x\r\n", 307),
    ("v=0\r\nc=IN IP4 10.0.0.9\r\nt=0\r\nm=audio 4000 RTP/AVP 0\r\n", 307),
    ("v=0\r\no=x 1\r\nc=IN IP4 10.0.0.9\r\nm=audio 4000 RTP/AVP 0\r\n", 307),
    ("v=0\r\nc=IN IP4 10.0.0.9\r\n", 304),
    ("v=0\r\nc=IN IP4 10.0.0.9\r\nm=audio 4000 RTP/AVP 0\r\nX=1\r\n", 307),
])
def test_malformed_or_absurd_fields_are_refused(text, code):
    with pytest.raises(SdpError) as refused:
        parse_sdp(text)
    assert refused.value.warning == code


@pytest.mark.parametrize(("text", "code"), [
    ("v=0\r\nc=IN IP4 10.0.0.9\r\nm=audio 4000 RTP/AVP 18\r\n", 305),  # no codec of ours
    ("v=0\r\nc=IN IP4 10.0.0.9\r\nm=audio 4000 RTP/SAVP 0\r\n", 302),
    ("v=0\r\nc=IN IP6 ::1\r\nm=audio 4000 RTP/AVP 0\r\n", 301),  # this line sends over IPv4
    ("v=0\r\nm=audio 4000 RTP/AVP 0\r\n", 301),  # no connection address
    ("v=0\r\nc=IN IP4 10.0.0.9\r\nm=audio 0 RTP/AVP 0\r\n", 304),  # the only audio refused
    ("v=0\r\nc=IN IP4 10.0.0.9\r\nm=audio 4000/2 RTP/AVP 0\r\n", 307),
])
def test_well_formed_but_unusable_offers(text, code):
    sd = parse_sdp(text)
    with pytest.raises(SdpError) as refused:
        choose_audio(sd, ["PCMU", "PCMA"])
    assert refused.value.warning == code


def test_hold_directions_and_media_level_connection():
    sd = parse_sdp("v=0\r\nc=IN IP4 10.0.0.9\r\na=sendonly\r\nm=audio 4000 RTP/AVP 0\r\n"
                   "c=IN IP4 10.0.0.7\r\n")
    choice = choose_audio(sd, ["PCMU"])
    assert choice.address == "10.0.0.7" and choice.hold and choice.answer_direction == "recvonly"
    held = choose_audio(parse_sdp("v=0\r\nc=IN IP4 0.0.0.0\r\nm=audio 4000 RTP/AVP 0\r\n"),
                        ["PCMU"])
    assert held.hold and held.answer_direction == "sendrecv"


def test_our_offer_lists_our_codecs_and_telephone_event():
    offer = offer_sdp(["PCMA", "PCMU"], "10.0.0.2", 12000, "5", 1)
    assert "m=audio 12000 RTP/AVP 8 0 101\r\n" in offer
    assert choose_audio(parse_sdp(offer), ["PCMU", "PCMA"]).codec == "PCMU"


LINES = st.sampled_from([
    "v=0", "o=gw 1 1 IN IP4 10.0.0.9", "s=-", "c=IN IP4 10.0.0.9", "c=IN IP4 127.0.0.1",
    "t=0 0", "m=audio 4000 RTP/AVP 0 8 101", "m=audio 4002 RTP/AVP 08 101",
    "m=video 5000 RTP/AVP 96", "m=audio 0 RTP/AVP 0", "m=application 9 UDP/BFCP *",
    "a=rtpmap:0 PCMU/8000", "a=rtpmap:101 telephone-event/8000", "a=fmtp:101 0-15",
    "a=rtpmap:96 H264/90000", "a=ptime:30", "a=sendonly", "a=inactive", "a=recvonly",
    "b=AS:64", "a=rtpmap:8 PCMA/8000", "a=fmtp:96 profile-level-id=42e01f",
])


@settings(max_examples=300, deadline=None)
@given(st.lists(LINES, min_size=1, max_size=14))
def test_pyvoip_always_parses_the_canonical_copy(lines):
    try:
        sd = parse_sdp("\r\n".join(lines))
    except SdpError:
        return
    body = "".join(line + "\r\n" for line in pyvoip_lines(sd))
    SIPMessage((  # stock parser, the copy it is given: must not raise
        "INVITE sip:s@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:5;branch=z9hG4bKa\r\n"
        "From: <sip:a@b>;tag=1\r\nTo: <sip:s@127.0.0.1>\r\nCall-ID: x\r\nCSeq: 1 INVITE\r\n"
        f"Content-Type: application/sdp\r\nContent-Length: {len(body)}\r\n\r\n{body}"
    ).encode())


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=400))
def test_any_text_is_an_sdp_or_an_sdp_error(text):
    with contextlib.suppress(SdpError):
        parse_sdp(text)


def test_invite_with_a_bad_offer_still_parses_with_the_error_kept():
    sdp = "v=0\r\nc=IN IP4 10.0.0.9\r\nm=audio 70000 RTP/AVP 0\r\n"
    message = RobustSIPMessage((
        "INVITE sip:s@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:5;branch=z9hG4bKa\r\n"
        "From: <sip:a@b>;tag=1\r\nTo: <sip:s@127.0.0.1>\r\nCall-ID: x\r\nCSeq: 1 INVITE\r\n"
        f"Content-Type: application/sdp\r\nContent-Length: {len(sdp)}\r\n\r\n{sdp}"
    ).encode())
    assert message.has_sdp and message.sdp is None and "70000" in str(message.sdp_error)
    assert "m" not in message.body  # pyVoIP never sees the port
