"""Parser robustness for pyVoIP 1.6.8's SIPMessage (reference defect 9, and 2 for methods).

Stock ``SIPMessage`` matches header names case-sensitively, knows no compact forms, keeps only
the first copy of a repeated header (except Via lines), refuses every method but
INVITE/ACK/BYE/CANCEL, and an SDP with both a session- and a media-level ``c=`` gives a call
with no RTP (it counts two connections for one port). Rather than re-implement its parser we
rewrite the datagram into the one shape it handles, then let it parse. SDP bodies are read by
our own checked parser (``_sdp``); pyVoIP gets a canonical copy.
"""

from __future__ import annotations

import re

from ._pyvoip import SIP_VERSIONS, SIPMessage, SIPStatus
from ._sdp import SdpError, SessionDescription, parse_sdp, pyvoip_lines

# Methods we parse (the client decides which it answers and how).
METHODS = (
    "INVITE", "ACK", "BYE", "CANCEL", "OPTIONS", "INFO", "NOTIFY", "MESSAGE", "REGISTER",
    "SUBSCRIBE", "UPDATE", "PRACK", "REFER", "PUBLISH",
)

# RFC 3261 section 7.3.3 compact forms, plus RFC 3515/3265 ones.
_COMPACT = {
    "v": "Via", "f": "From", "t": "To", "i": "Call-ID", "m": "Contact", "l": "Content-Length",
    "c": "Content-Type", "k": "Supported", "s": "Subject", "e": "Content-Encoding",
    "o": "Event", "r": "Refer-To", "u": "Allow-Events", "x": "Session-Expires",
}
_CANONICAL = {
    name.lower(): name
    for name in (
        "Via", "From", "To", "Call-ID", "CSeq", "Contact", "Content-Length", "Content-Type",
        "Allow", "Supported", "WWW-Authenticate", "Authorization", "Proxy-Authenticate",
        "Expires", "Max-Forwards", "User-Agent", "Server", "P-Asserted-Identity",
        "Remote-Party-ID", "Privacy", "Record-Route", "Route", "Content-Encoding", "Event",
        "Session-Expires", "Min-SE", "Accept", "Reason", "Subject", "Allow-Events", "Require",
    )
}

MAX_DATAGRAM = 65_535
_KNOWN_STATUS = frozenset(status.value for status in SIPStatus)


def canonical_name(name: str) -> str:
    name = name.strip()
    lower = name.lower()
    if lower in _COMPACT:
        return _COMPACT[lower]
    return _CANONICAL.get(lower, name)


def _split_via(value: str) -> list[str]:
    # "Via: a, b" is two Via values; commas never occur inside a Via's own params we use.
    return [v.strip() for v in value.split(",") if v.strip()]


def normalise(data: bytes) -> bytes:
    """Rewrite one SIP datagram into the form pyVoIP's parser handles.

    Unfolds continuation lines, canonicalises header names (case, compact forms), gives each
    Via value its own line, strips Content-Type parameters, cuts the body at Content-Length
    and drops blank body lines. An SDP body is checked and rewritten by RobustSIPMessage.
    """
    if len(data) > MAX_DATAGRAM:
        raise ValueError("datagram too large")
    text = data.decode("utf-8", errors="strict")
    parts = re.split(r"\r?\n\r?\n", text, maxsplit=1)
    head = parts[0]
    body = parts[1] if len(parts) > 1 else ""
    raw_lines = re.split(r"\r?\n", head)
    start, header_lines = raw_lines[0].strip(), raw_lines[1:]
    unfolded: list[str] = []
    for line in header_lines:
        if line[:1] in (" ", "\t") and unfolded:
            unfolded[-1] += " " + line.strip()
        elif line.strip():
            unfolded.append(line)
    headers: list[tuple[str, str]] = []
    content_length: int | None = None
    for line in unfolded:
        if ":" not in line:
            raise ValueError("header line without a colon")
        name, value = line.split(":", 1)
        name = canonical_name(name)
        value = " ".join(value.split())
        if name == "Via":
            headers.extend(("Via", v) for v in _split_via(value))
            continue
        if name == "Content-Type":
            value = value.split(";")[0].strip().lower()
        if name == "Content-Length":
            content_length = int(value)
            continue  # rewritten below, after the body is normalised
        headers.append((name, value))
    body_bytes = body.encode("utf-8")
    if content_length is not None:
        body_bytes = body_bytes[:content_length]
    body = body_bytes.decode("utf-8", errors="strict")
    body_lines = [line.strip() for line in re.split(r"\r?\n", body) if line.strip()]
    body = "".join(line + "\r\n" for line in body_lines)
    headers.append(("Content-Length", str(len(body.encode("utf-8")))))
    out = start + "\r\n" + "".join(f"{n}: {v}\r\n" for n, v in headers) + "\r\n" + body
    return out.encode("utf-8")


class RobustSIPMessage(SIPMessage):
    """A SIPMessage that parses what real gateways send (see module docstring).

    ``raw`` keeps the datagram as received; ``normalised`` is what pyVoIP parsed; ``all_headers``
    keeps every header copy in order, so P-Asserted-Identity and Privacy can be read even when
    pyVoIP keeps one copy.
    """

    def parse(self, data: bytes) -> None:
        # Instance attribute: the stock class reads pyVoIP.SIPCompatibleMethods, which we leave
        # untouched so that unpatched pyVoIP in the same process keeps its own behaviour.
        self.SIPCompatibleMethods = list(METHODS)
        self.SIPCompatibleVersions = list(SIP_VERSIONS)
        head, self.raw_body = normalise(data).split(b"\r\n\r\n", 1)
        self.all_headers: list[tuple[str, str]] = []
        for line in head.decode("utf-8").split("\r\n")[1:]:
            name, value = line.split(": ", 1) if ": " in line else (line.rstrip(":"), "")
            self.all_headers.append((name, value))
        # Media side: an SDP body is checked here, once (``sdp`` or ``sdp_error``), and pyVoIP
        # parses only a canonical copy of it, so no field it would choke on or trust (a port
        # of 70000) reaches it; the phone answers an unusable offer with 488.
        self.sdp: SessionDescription | None = None
        self.sdp_error: SdpError | None = None
        self.has_sdp = bool(self.raw_body) and ("Content-Type", "application/sdp") in (
            self.all_headers)
        body = self.raw_body
        if self.has_sdp:
            try:
                self.sdp = parse_sdp(self.raw_body.decode("utf-8"))
            except SdpError as exc:
                self.sdp_error = exc
            body = "".join(line + "\r\n" for line in pyvoip_lines(self.sdp)).encode()
        elif any(b"=" not in line for line in body.split(b"\r\n") if line):
            # Stock parses every body as "k=v" lines and raised IndexError on a NOTIFY's
            # sipfrag ("SIP/2.0 200 OK"), dropping it: such a body is kept in raw_body only.
            body = b""
        if body is not self.raw_body:
            head = head[: head.rindex(b"\r\nContent-Length: ")]
            head += f"\r\nContent-Length: {len(body)}".encode()
        self.normalised = head + b"\r\n\r\n" + body
        # Stock raises ValueError for a response code its SIPStatus lacks (a 599, a 499), so
        # the datagram was dropped and our INVITE retransmitted until timer B. RFC 3261
        # 8.1.3.2: an unknown code counts as the x00 of its class; ``heading`` keeps the real.
        start, _, rest = self.normalised.partition(b"\r\n")
        parts = start.split(b" ", 2)
        if start.startswith(b"SIP/") and len(parts) > 1 and parts[1].isdigit() and (
                100 <= int(parts[1]) <= 699 and int(parts[1]) not in _KNOWN_STATUS):
            super().parse(b" ".join([parts[0], parts[1][:1] + b"00", *parts[2:]]) + b"\r\n"
                          + rest)
            self.heading = start
            return
        super().parse(self.normalised)

    def header_values(self, name: str) -> list[str]:
        wanted = canonical_name(name)
        return [v for n, v in self.all_headers if n == wanted]


def split_list(value: str) -> list[str]:
    """The entries of a comma-separated header value (Contact, Record-Route, Route): commas inside
    quotes or <...> do not separate (RFC 3261 section 7.3.1)."""
    entries: list[str] = []
    current: list[str] = []
    quoted = angled = False
    for ch in value:
        if ch == '"' and not angled:
            quoted = not quoted
        elif ch == "<" and not quoted:
            angled = True
        elif ch == ">" and not quoted:
            angled = False
        elif ch == "," and not quoted and not angled:
            entries.append("".join(current).strip())
            current = []
            continue
        current.append(ch)
    entries.append("".join(current).strip())
    return [e for e in entries if e]


def uri_of(entry: str) -> str:
    """The URI of a name-addr (``"x" <sip:a@b;lr>;p=1``) or addr-spec (``sip:a@b;p=1``)."""
    match = re.search(r"<([^>]*)>", entry)
    if match:
        return match.group(1).strip()
    return entry.split(";", 1)[0].strip()


def entry_params(entry: str) -> dict[str, str]:
    """The header parameters after a name-addr (``;expires=60``), names lower-cased."""
    tail = entry.rsplit(">", 1)[1] if ">" in entry else entry.split(";", 1)[-1] if ";" in entry \
        else ""
    params: dict[str, str] = {}
    for part in tail.split(";"):
        name, _, value = part.partition("=")
        if name.strip():
            params[name.strip().lower()] = value.strip().strip('"')
    return params


def host_port(uri: str, default_port: int = 5060) -> tuple[str, str, int, set[str]]:
    """(user, host, port, parameter names) of a SIP URI; a name without a port gets the default."""
    rest = re.sub(r"^sips?:", "", uri.strip(), flags=re.IGNORECASE)
    rest, _, params = rest.partition(";")
    user, _, hostport = rest.rpartition("@")
    hostport = hostport.split("?", 1)[0]
    if hostport.startswith("["):  # IPv6 reference
        host, _, port_text = hostport[1:].partition("]")
        port_text = port_text.lstrip(":")
    else:
        host, _, port_text = hostport.partition(":")
    port = int(port_text) if port_text.isdigit() else default_port
    names = {p.split("=", 1)[0].strip().lower() for p in params.split(";") if p.strip()}
    return user, host.lower(), port, names
