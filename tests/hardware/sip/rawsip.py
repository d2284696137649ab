"""A small SIP caller over raw UDP on 127.0.0.1, for media tests SIPp cannot express: offers
with absurd fields, no offer at all, a chosen a=ptime, RTP from elsewhere than the peer."""

from __future__ import annotations

import contextlib
import re
import socket
import struct
import time
import uuid
from dataclasses import dataclass

HOST = "127.0.0.1"


def sdp(port: int, *, formats: str = "0 101", address: str = HOST, ptime: int | None = None,
        extra: str = "") -> str:
    maps = {"0": "PCMU/8000", "8": "PCMA/8000", "101": "telephone-event/8000"}
    lines = ["v=0", f"o=gw 1 1 IN IP4 {HOST}", "s=-", f"c=IN IP4 {address}", "t=0 0",
             f"m=audio {port} RTP/AVP {formats}"]
    lines += [f"a=rtpmap:{f} {maps[f]}" for f in formats.split() if f in maps]
    if ptime is not None:
        lines.append(f"a=ptime:{ptime}")
    return "".join(line + "\r\n" for line in lines) + extra


@dataclass
class Response:
    code: int
    text: str

    @property
    def body(self) -> str:
        return self.text.split("\r\n\r\n", 1)[1] if "\r\n\r\n" in self.text else ""

    def header(self, name: str) -> str:
        match = re.search(rf"(?im)^{name}:[ \t]*(.*)$", self.text)
        return match.group(1).strip() if match else ""

    @property
    def media_port(self) -> int:
        return int(re.search(r"(?m)^m=audio (\d+)", self.body).group(1))  # type: ignore[union-attr]


def event_packets(digit: int, ts: int, seq: int, ssrc: int = 77) -> list[bytes]:
    """One key press as RFC 4733 packets: start (marker), continuation, three ends."""
    out = []
    for i, (end, marker) in enumerate(((False, True), (False, False), (True, False),
                                       (True, False), (True, False))):
        payload = struct.pack(">BBH", digit, (0x80 if end else 0) | 10, 160 * (i + 1))
        out.append(struct.pack(">BBHII", 0x80, (0x80 if marker else 0) | 101, seq + i, ts,
                               ssrc) + payload)
    return out


class RawCaller:
    """One dialog: INVITE, ACK, BYE from a socket of its own; RTP on another."""

    def __init__(self, box_port: int, rtp_host: str = HOST) -> None:
        self.box = (HOST, box_port)
        self.sip = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sip.bind((HOST, 0))
        self.sip.settimeout(5)
        self.rtp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.rtp.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 21)
        self.rtp.bind((rtp_host, 0))
        self.rtp.settimeout(0.5)
        self.rtp_port = self.rtp.getsockname()[1]
        self.call_id = f"{uuid.uuid4().hex}@raw"
        self.tag = uuid.uuid4().hex[:8]
        self.to_tag = ""
        self.cseq = 0
        self.invite_branch = ""
        self.seq = 100

    def close(self) -> None:
        self.sip.close()
        self.rtp.close()

    def _request(self, method: str, body: str = "", cseq: int | None = None,
                 branch: str | None = None) -> str:
        if cseq is None:
            self.cseq += 1
        port = self.sip.getsockname()[1]
        to_tag = f";tag={self.to_tag}" if self.to_tag else ""
        text = (
            f"{method} sip:survey@{HOST}:{self.box[1]} SIP/2.0\r\n"
            f"Via: SIP/2.0/UDP {HOST}:{port};branch={branch or 'z9hG4bK' + uuid.uuid4().hex}\r\n"
            f"From: <sip:+255712345678@{HOST}:{port}>;tag={self.tag}\r\n"
            f"To: <sip:survey@{HOST}:{self.box[1]}>{to_tag}\r\n"
            f"Call-ID: {self.call_id}\r\nCSeq: {cseq or self.cseq} {method}\r\n"
            f"Contact: <sip:gw@{HOST}:{port}>\r\nMax-Forwards: 70\r\n"
        )
        if body:
            text += "Content-Type: application/sdp\r\n"
        return text + f"Content-Length: {len(body.encode())}\r\n\r\n{body}"

    def send(self, text: str) -> None:
        self.sip.sendto(text.encode(), self.box)

    def receive(self, timeout: float = 5.0) -> Response:
        """The next response to this dialog (others, and requests, are skipped)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.sip.settimeout(max(0.01, deadline - time.monotonic()))
            try:
                data = self.sip.recv(65535).decode(errors="replace")
            except TimeoutError:
                break
            if data.startswith("SIP/2.0 ") and self.call_id in data:
                return Response(int(data.split(" ", 2)[1]), data)
        raise TimeoutError("no response from the box")

    def invite(self, body: str | None, timeout: float = 5.0) -> Response:
        """Send an INVITE (without SDP when ``body`` is None); the final response."""
        branch = "z9hG4bK" + uuid.uuid4().hex
        self.invite_branch = branch
        self.send(self._request("INVITE", body or "", branch=branch))
        invite_cseq = self.cseq
        while True:
            response = self.receive(timeout)
            if response.code >= 200 and f"CSeq: {invite_cseq} INVITE" in response.text:
                break
        match = re.search(r"(?im)^To:.*;tag=([^;\s]+)", response.text)
        if response.code < 300 and match:
            self.to_tag = match.group(1)
        else:  # a final error: the ACK is part of the INVITE transaction
            self.send(self._request("ACK", cseq=invite_cseq, branch=branch))
        return response

    def reinvite(self, body: str, timeout: float = 5.0) -> Response:
        self.send(self._request("INVITE", body))
        cseq = self.cseq
        while True:
            response = self.receive(timeout)
            if response.code >= 200 and f"CSeq: {cseq} INVITE" in response.text:
                break
        self.send(self._request("ACK", cseq=cseq))
        return response

    def ack(self, body: str = "") -> None:
        self.send(self._request("ACK", body, cseq=self.cseq))

    def bye(self) -> Response | None:
        self.send(self._request("BYE"))
        with contextlib.suppress(TimeoutError):
            return self.receive(3.0)
        return None

    # --- media ------------------------------------------------------------------------------

    def rtp_packets(self, seconds: float) -> list[tuple[float, bytes]]:
        got: list[tuple[float, bytes]] = []
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            with contextlib.suppress(TimeoutError):
                got.append((time.monotonic(), self.rtp.recv(4096)))
        return got

    def drain_rtp(self) -> None:
        self.rtp.settimeout(0.0)
        with contextlib.suppress(BlockingIOError, OSError):
            while True:
                self.rtp.recv(4096)
        self.rtp.settimeout(0.5)

    def press(self, digit: int, box_rtp: tuple[str, int], sock: socket.socket | None = None,
              ts: int = 8000) -> None:
        """A key press sent to the box's RTP port (from our RTP socket unless ``sock``)."""
        for packet in event_packets(digit, ts, self.seq):
            (sock or self.rtp).sendto(packet, box_rtp)
            time.sleep(0.005)
        self.seq += 10
