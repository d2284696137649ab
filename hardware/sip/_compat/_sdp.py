"""SDP (RFC 4566) for the media side: offers checked field by field, answers and our own offers.

pyVoIP trusts every field of an SDP body: an audio port of 70000 or -1 reached the shared RTP
thread (OverflowError in sendto, and every call went silent), and a field it could not split
raised inside its parser, so the INVITE was dropped without an answer. Here an SDP body is read
once, when its datagram is parsed (``parse_sdp``); what is malformed or unusable is refused with
488 and a Warning saying why (``SdpError``, ``choose_audio``), and pyVoIP only ever parses the
canonical copy written by ``pyvoip_lines``. Answers (RFC 3264: one m= line per offered one,
refused streams with port 0) and the offer of a delayed-offer 200 are written here too.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

MAX_SDP = 16 * 1024
MAX_MEDIA = 8
MAX_FORMATS = 32
PTIMES = (20, 30, 40, 60)  # ms of audio per packet we send (a=ptime); others fall back to 20
DEFAULT_PTIME = 20
DIRECTIONS = ("sendrecv", "sendonly", "recvonly", "inactive")
CODECS = ("PCMU", "PCMA")
STATIC = {0: "PCMU", 8: "PCMA"}  # RFC 3551 static payload types we speak
EVENT_PT = 101  # telephone-event in our own offers
# RFC 3261 20.43 warn-codes for the Warning header of a 488.
WARN_ADDRESS, WARN_TRANSPORT, WARN_MEDIA, WARN_FORMAT, WARN_PARAMETER = 301, 302, 304, 305, 307

_LINE = re.compile(r"^([a-z])=(.*)$")
_T = r"[!#$%&'*+\-.0-9A-Z^_`a-z{|}~]+"  # RFC 4566 token
_TOKEN = re.compile(rf"^{_T}$")
_PROTO = re.compile(rf"^{_T}(/{_T})*$")
_PORT = re.compile(r"^([0-9]{1,5})(?:/([0-9]{1,2}))?$")
_RTPMAP = re.compile(rf"^([0-9]{{1,3}}) ({_T})/([0-9]{{1,6}})(?:/[0-9]{{1,2}})?$")
_DIGITS = re.compile(r"^[0-9]{1,10}$")
_TIME = re.compile(r"^[0-9]{1,20}$")
_KNOWN = set("vosiuepcbtrzkam")


class SdpError(ValueError):
    """An SDP body we cannot use; ``warning`` is the warn-code for the 488's Warning header."""

    def __init__(self, reason: str, warning: int = WARN_PARAMETER) -> None:
        super().__init__(reason)
        self.reason = reason
        self.warning = warning


@dataclass(frozen=True)
class Media:
    """One m= section, checked; ``address`` is its effective c= (its own, else the session's)."""

    kind: str
    port: int
    port_count: int
    proto: str
    formats: tuple[str, ...]
    address: str | None
    rtpmap: Mapping[int, tuple[str, int]] = field(default_factory=dict)  # pt -> (NAME, rate)
    fmtp: Mapping[int, str] = field(default_factory=dict)
    ptime: int | None = None
    direction: str = "sendrecv"

    def encoding(self, pt: int) -> str | None:
        """PCMU, PCMA or TELEPHONE-EVENT for a payload type of this stream; None otherwise."""
        if pt in STATIC:
            return STATIC[pt]  # static types mean what RFC 3551 says, whatever an rtpmap claims
        name, rate = self.rtpmap.get(pt, ("", 0))
        if rate == 8000 and name in (*CODECS, "TELEPHONE-EVENT"):
            return name
        return None


@dataclass(frozen=True)
class SessionDescription:
    media: tuple[Media, ...]
    origin_address: str = "0.0.0.0"

    def audio(self) -> Media | None:
        """The first audio stream that is not refused (port 0)."""
        return next((m for m in self.media if m.kind == "audio" and m.port != 0), None)


@dataclass(frozen=True)
class AudioChoice:
    """What we do with an offer's (or an answer's) audio stream."""

    pt: int
    codec: str  # PCMU or PCMA
    event_pt: int | None
    address: str
    port: int
    ptime: int
    direction: str  # the peer's
    media_index: int

    @property
    def hold(self) -> bool:
        """The peer asks us not to send (RFC 3264 8.4; 0.0.0.0 is the RFC 2543 way)."""
        return self.direction in ("sendonly", "inactive") or ipaddress.ip_address(
            self.address).is_unspecified

    @property
    def answer_direction(self) -> str:
        return {"sendonly": "recvonly", "recvonly": "sendonly"}.get(self.direction,
                                                                    self.direction)


def _address(nettype: str, addrtype: str, value: str) -> str:
    if nettype != "IN" or addrtype not in ("IP4", "IP6"):
        raise SdpError(f"connection type {nettype} {addrtype} is not IN IP4/IP6", WARN_ADDRESS)
    if "/" in value:
        raise SdpError(f"multicast connection {value!r}", WARN_ADDRESS)
    try:
        ip = ipaddress.ip_address(value)
    except ValueError:
        raise SdpError(f"connection address {value!r} is not an IP address",
                       WARN_ADDRESS) from None
    if (ip.version == 4) != (addrtype == "IP4"):
        raise SdpError(f"connection address {value} is not {addrtype}", WARN_ADDRESS)
    absurd = ip.is_multicast or (
        ip.version == 4 and not ip.is_unspecified
        and (ip in _THIS_NETWORK or ip.is_reserved or value == "255.255.255.255"))
    if absurd:
        raise SdpError(f"connection address {value} cannot be sent to", WARN_ADDRESS)
    return str(ip)


_THIS_NETWORK = ipaddress.ip_network("0.0.0.0/8")


class _Builder:
    """Collects one m= section while its lines are read."""

    def __init__(self, line: str) -> None:
        fields = line.split(" ")
        if len(fields) < 4 or not all(fields):
            raise SdpError(f"media line {line!r} is not 'media port proto formats'")
        kind, port_spec, proto, *formats = fields
        port = _PORT.match(port_spec)
        if not _TOKEN.match(kind) or port is None or not _PROTO.match(proto):
            raise SdpError(f"media line {line!r} is malformed")
        self.port = int(port.group(1))
        self.port_count = int(port.group(2) or 1)
        if self.port > 65535 or self.port_count < 1:
            raise SdpError(f"media port {port_spec} is out of range")
        if len(formats) > MAX_FORMATS:
            raise SdpError(f"media line lists {len(formats)} formats")
        if proto.upper().startswith("RTP/"):
            for fmt in formats:
                if not _DIGITS.match(fmt) or int(fmt) > 127:
                    raise SdpError(f"payload type {fmt!r} is not 0..127", WARN_FORMAT)
            formats = [str(int(fmt)) for fmt in formats]  # "08" is 8
        self.kind, self.proto, self.formats = kind, proto, tuple(formats)
        self.address: str | None = None
        self.rtpmap: dict[int, tuple[str, int]] = {}
        self.fmtp: dict[int, str] = {}
        self.ptime: int | None = None
        self.direction: str | None = None

    def build(self, session_address: str | None, session_direction: str) -> Media:
        return Media(self.kind, self.port, self.port_count, self.proto, self.formats,
                     self.address or session_address, self.rtpmap, self.fmtp, self.ptime,
                     self.direction or session_direction)


def _attribute(value: str, media: _Builder | None) -> str | None:
    """Checks one a= line; returns a direction attribute's name (session or media level)."""
    name, _, arg = value.partition(":")
    if not _TOKEN.match(name):
        raise SdpError(f"attribute {value!r} is malformed")
    if name in DIRECTIONS:
        return name
    if media is None:
        return None
    if name == "rtpmap":
        match = _RTPMAP.match(arg)
        if match is None or int(match.group(1)) > 127:
            raise SdpError(f"a=rtpmap:{arg} is malformed", WARN_FORMAT)
        pt = int(match.group(1))
        if str(pt) in media.formats:  # an rtpmap for a type the m= line lacks is ignored
            media.rtpmap[pt] = (match.group(2).upper(), int(match.group(3)))
    elif name == "fmtp":
        fmt, _, params = arg.partition(" ")
        if not _DIGITS.match(fmt) or int(fmt) > 127 or any(c in params for c in "\r\n"):
            raise SdpError(f"a=fmtp:{arg} is malformed", WARN_FORMAT)
        if fmt in media.formats:
            media.fmtp[int(fmt)] = params.strip()
    elif name == "ptime":
        if not _DIGITS.match(arg.strip()) or not 1 <= int(arg) <= 1000:
            raise SdpError(f"a=ptime:{arg} is not a packet time in ms")
        media.ptime = int(arg)
    return None


def parse_sdp(text: str) -> SessionDescription:
    """Every line of an SDP body checked (SdpError names the first bad one)."""
    if len(text) > MAX_SDP:
        raise SdpError("SDP body too large")
    session_address: str | None = None
    session_direction = "sendrecv"
    origin = "0.0.0.0"
    builders: list[_Builder] = []
    for raw in re.split(r"\r?\n", text):
        line = raw.strip()
        if not line:
            continue
        match = _LINE.match(line)
        if match is None or match.group(1) not in _KNOWN:
            raise SdpError(f"SDP line {line[:40]!r} is not a known type=value")
        kind, value = match.groups()
        media = builders[-1] if builders else None
        if kind == "v" and value != "0":
            raise SdpError(f"SDP version {value!r}")
        elif kind == "o":
            fields = value.split(" ")
            if len(fields) != 6 or not all(fields):
                raise SdpError("origin line (o=) needs six fields")
            origin = fields[5]
        elif kind == "c":
            fields = value.split(" ")
            if len(fields) != 3:
                raise SdpError(f"connection line c={value!r} is malformed", WARN_ADDRESS)
            address = _address(*fields)
            if media is None:
                session_address = address
            elif media.address is None:
                media.address = address
        elif kind == "t":
            fields = value.split(" ")
            if len(fields) != 2 or not all(_TIME.match(f) for f in fields):
                raise SdpError(f"timing line t={value!r} is malformed")
        elif kind == "b":
            bwtype, _, amount = value.partition(":")
            if not _TOKEN.match(bwtype) or not _DIGITS.match(amount):
                raise SdpError(f"bandwidth line b={value!r} is malformed")
        elif kind == "m":
            if len(builders) >= MAX_MEDIA:
                raise SdpError(f"more than {MAX_MEDIA} media lines")
            builders.append(_Builder(value))
        elif kind == "a":
            direction = _attribute(value, media)
            if direction is not None:
                if media is None:
                    session_direction = direction
                else:
                    media.direction = direction
    if not builders:
        raise SdpError("no media line (m=)", WARN_MEDIA)
    return SessionDescription(
        tuple(b.build(session_address, session_direction) for b in builders), origin)


def choose_audio(sd: SessionDescription, codecs: Sequence[str]) -> AudioChoice:
    """The audio stream and codec we use from a checked SDP (SdpError: unusable, say why)."""
    index, media = next(((i, m) for i, m in enumerate(sd.media)
                         if m.kind == "audio" and m.port != 0), (-1, None))
    if media is None:
        raise SdpError("no audio stream offered", WARN_MEDIA)
    if media.proto.upper() != "RTP/AVP":
        raise SdpError(f"audio over {media.proto} (only RTP/AVP)", WARN_TRANSPORT)
    if media.port_count != 1:
        raise SdpError("audio on several ports", WARN_PARAMETER)
    if media.address is None:
        raise SdpError("no connection address for the audio", WARN_ADDRESS)
    if ipaddress.ip_address(media.address).version != 4:
        raise SdpError("IPv6 audio (this line sends over IPv4)", WARN_ADDRESS)
    offered = [(int(f), media.encoding(int(f))) for f in media.formats]
    ours = sorted(((pt, enc) for pt, enc in offered if enc in codecs),
                  key=lambda item: list(codecs).index(item[1] or ""))
    if not ours:
        raise SdpError(f"no common codec (this line speaks {', '.join(codecs)})", WARN_FORMAT)
    event = next((pt for pt, enc in offered if enc == "TELEPHONE-EVENT"), None)
    ptime = media.ptime if media.ptime in PTIMES else DEFAULT_PTIME
    pt, codec = ours[0]
    return AudioChoice(pt, codec or "", event, media.address, media.port, ptime,
                       media.direction, index)


# --- what we write ----------------------------------------------------------------------------

def _head(address: str, session_id: str, version: int) -> list[str]:
    return ["v=0", f"o=edgecall {session_id} {version} IN IP4 {address}", "s=edgecall",
            f"c=IN IP4 {address}", "t=0 0"]


def _audio_lines(port: int, payloads: Sequence[tuple[int, str]], ptime: int,
                 direction: str) -> list[str]:
    lines = [f"m=audio {port} RTP/AVP " + " ".join(str(pt) for pt, _ in payloads)]
    for pt, name in payloads:
        lines.append(f"a=rtpmap:{pt} {name}/8000")
        if name == "telephone-event":
            lines.append(f"a=fmtp:{pt} 0-15")
    return [*lines, f"a=ptime:{ptime}", f"a={direction}"]


def answer_sdp(offer: SessionDescription, choice: AudioChoice, address: str, port: int,
               session_id: str, version: int, direction: str) -> str:
    """An answer: the chosen audio stream with its codec (and telephone-event when offered),
    every other offered stream refused with port 0, in the offer's order (RFC 3264 6)."""
    lines = _head(address, session_id, version)
    for index, media in enumerate(offer.media):
        if index == choice.media_index:
            payloads = [(choice.pt, choice.codec)]
            if choice.event_pt is not None:
                payloads.append((choice.event_pt, "telephone-event"))
            lines += _audio_lines(port, payloads, choice.ptime, direction)
        else:
            lines.append(f"m={media.kind} 0 {media.proto} {' '.join(media.formats)}")
    return "".join(line + "\r\n" for line in lines)


def offer_sdp(codecs: Sequence[str], address: str, port: int, session_id: str,
              version: int) -> str:
    """Our offer for an INVITE that came without one (delayed offer, RFC 3261 13.2.1)."""
    payloads = [(pt, name) for name in codecs for pt, static in STATIC.items() if static == name]
    lines = _head(address, session_id, version)
    lines += _audio_lines(port, [*payloads, (EVENT_PT, "telephone-event")], DEFAULT_PTIME,
                          "sendrecv")
    return "".join(line + "\r\n" for line in lines)


def pyvoip_lines(sd: SessionDescription | None) -> list[str]:
    """The SDP pyVoIP's parser is given: its first audio stream in a shape it always parses
    (six-field o=, one IPv4 c=, RTP/AVP, rtpmaps only for listed types)."""
    if sd is None:
        return []
    origin = sd.origin_address if _is_ipv4(sd.origin_address) else "0.0.0.0"
    lines = ["v=0", f"o=- 0 0 IN IP4 {origin}", "s=-"]
    audio = next((m for m in sd.media if m.kind == "audio"), None)
    if audio is not None and audio.address is not None and _is_ipv4(audio.address):
        lines.append(f"c=IN IP4 {audio.address}")
    lines.append("t=0 0")
    if audio is None or audio.proto.upper() != "RTP/AVP" or audio.address is None:
        return lines
    lines.append(f"m=audio {audio.port} RTP/AVP {' '.join(audio.formats)}")
    for pt, (name, rate) in audio.rtpmap.items():  # pyVoIP's names: PCMU, telephone-event
        lines.append(f"a=rtpmap:{pt} {name if name in CODECS else name.lower()}/{rate}")
    for pt, params in audio.fmtp.items():
        if params:
            lines.append(f"a=fmtp:{pt} {params}")
    if audio.ptime is not None:
        lines.append(f"a=ptime:{audio.ptime}")
    lines.append(f"a={audio.direction}")
    return lines


def _is_ipv4(value: str) -> bool:
    try:
        return ipaddress.ip_address(value).version == 4
    except ValueError:
        return False
