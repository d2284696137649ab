"""Re-INVITE handling of HardenedCall: codec change and hold follow the new offer, and the
answer goes back with the running streams (no sockets are bound for RTP: the call is marked
answered without starting its streams)."""

from __future__ import annotations

import socket

import pytest
import pyVoIP.VoIP  # noqa: F401  (before pyVoIP.SIP: its import is circular)
from pyVoIP.RTP import PayloadType
from pyVoIP.VoIP.VoIP import CallState

from hardware.sip._compat import HardenedCall, HardenedPhone, RobustSIPMessage


def offer(formats: str, cseq: int = 1, extra: str = "", address: str = "127.0.0.1",
          port: int = 40000) -> RobustSIPMessage:
    maps = {"0": "PCMU/8000", "8": "PCMA/8000", "101": "telephone-event/8000"}
    sdp = (f"v=0\r\no=gw 1 {cseq} IN IP4 {address}\r\ns=-\r\nc=IN IP4 {address}\r\nt=0 0\r\n"
           f"m=audio {port} RTP/AVP {formats}\r\n"
           + "".join(f"a=rtpmap:{f} {maps[f]}\r\n" for f in formats.split()) + extra)
    return RobustSIPMessage((
        "INVITE sip:s@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:{p};branch=z9hG4bK{c}\r\n"
        "From: <sip:+1@127.0.0.1>;tag=a\r\nTo: <sip:s@127.0.0.1>{t}\r\nCall-ID: r1\r\n"
        "CSeq: {c} INVITE\r\nContact: <sip:gw@127.0.0.1:{p}>\r\n"
        "Content-Type: application/sdp\r\nContent-Length: {n}\r\n\r\n{sdp}"
    ).format(p=peer_port, c=cseq, t=";tag=x" if cseq > 1 else "", n=len(sdp), sdp=sdp).encode())


peer_port = 0


@pytest.fixture
def peer():
    global peer_port
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    sock.settimeout(2)
    peer_port = sock.getsockname()[1]
    yield sock
    sock.close()


@pytest.fixture
def answered_call(peer):
    phone = HardenedPhone("127.0.0.1", peer_port, "", "", myIP="127.0.0.1", sipPort=0,
                          rtpPortLow=47000, rtpPortHigh=47010)
    phone.sip.t1 = 30.0  # no 200 OK retransmissions during these tests
    phone.start()
    call = HardenedCall(phone, CallState.RINGING, offer("0 8 101"), 1, "127.0.0.1",
                        sendmode=phone.recvmode)
    phone.sip.tagLibrary["r1"] = "ourtag"
    call.state = CallState.ANSWERED  # streams not started: no RTP sockets needed
    yield call
    call.state = CallState.ENDED
    phone.stop()


def test_codec_follows_the_new_offer(answered_call, peer):
    client = answered_call.RTPClients[0]
    assert client.preference == PayloadType.PCMU
    answered_call.renegotiate(offer("8 101", cseq=2, port=40010))
    assert client.preference == PayloadType.PCMA and client._pt_byte == b"\x08"
    assert client.outPort == 40010 and not client.hold
    answer = peer.recv(4096).decode()
    assert answer.startswith("SIP/2.0 200 OK") and "CSeq: 2 INVITE" in answer
    assert f"m=audio {client.inPort} RTP/AVP" in answer  # the same stream, not a new one


def test_hold_and_resume(answered_call, peer):
    client = answered_call.RTPClients[0]
    answered_call.renegotiate(offer("0 101", cseq=2, extra="a=sendonly\r\n"))
    assert client.hold and "a=recvonly" in peer.recv(4096).decode()
    answered_call.renegotiate(offer("0 101", cseq=3, address="0.0.0.0"))
    assert client.hold and client.outIP == "127.0.0.1"  # never sends to 0.0.0.0
    peer.recv(4096)
    answered_call.renegotiate(offer("0 101", cseq=4, extra="a=sendrecv\r\n"))
    assert not client.hold and client.preference == PayloadType.PCMU
    assert "a=sendrecv" in peer.recv(4096).decode()
