"""The requests of a call we place (UAC), written here: the INVITE, its CANCEL, the ACKs, and the
in-dialog requests (BYE) of the dialog its 2xx creates. Pure: text in, text out.

Not pyVoIP's ``gen_invite``/``call()``: its ACK carries a new random To-tag (the far end drops
the call after ~32 s; reference defect 8), its Call-ID is a counter hash the same on every box,
and it knows neither route sets nor CANCEL.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace

from ._routeset import RouteSet

_TAG = re.compile(r";\s*tag=([^;>\s]+)", re.IGNORECASE)


def tag_of(header_value: str) -> str:
    """The tag parameter of a From/To value ("" when it has none)."""
    tail = header_value.rsplit(">", 1)[-1]
    match = _TAG.search(tail)
    return match.group(1) if match else ""


@dataclass(frozen=True)
class Identity:
    """What every request of ours carries: our Via address, Contact and User-Agent."""

    host: str
    port: int
    contact: str  # a URI: sip:user@host:port
    user_agent: str
    allow: str

    def via(self, branch: str) -> str:
        return f"Via: SIP/2.0/UDP {self.host}:{self.port};branch={branch};rport\r\n"


@dataclass(frozen=True)
class InviteRequest:
    """Our INVITE; ``retry`` gives the next one after a digest challenge (new CSeq and branch,
    the same Call-ID, From-tag and offer)."""

    me: Identity
    uri: str  # Request-URI: sip:<number>@<gateway>
    from_value: str  # without its tag
    from_tag: str
    to_value: str
    call_id: str
    cseq: int
    branch: str
    body: str
    routes: tuple[str, ...] = ()  # Route values, a preloaded route set
    credentials: tuple[tuple[str, str], ...] = ()  # (Authorization | Proxy-Authorization, value)

    def text(self) -> str:
        out = f"INVITE {self.uri} SIP/2.0\r\n"
        out += self._common("INVITE")
        out += f"Contact: <{self.me.contact}>\r\n"
        out += f"Allow: {self.me.allow}\r\n"
        out += f"User-Agent: {self.me.user_agent}\r\n"
        out += "".join(f"{name}: {value}\r\n" for name, value in self.credentials)
        out += "Content-Type: application/sdp\r\n"
        out += f"Content-Length: {len(self.body.encode())}\r\n\r\n{self.body}"
        return out

    def cancel(self) -> str:
        """Its CANCEL (RFC 3261 9.1): the same Request-URI, Call-ID, From, To (no tag), CSeq
        number, Route and top Via (so the same branch): it matches the INVITE, not a dialog."""
        out = f"CANCEL {self.uri} SIP/2.0\r\n"
        out += self._common("CANCEL")
        out += f"User-Agent: {self.me.user_agent}\r\n"
        return out + "Content-Length: 0\r\n\r\n"

    def ack_error(self, to_value: str) -> str:
        """The ACK of a 300-699 answer (17.1.1.3): part of the INVITE transaction (same branch
        and Request-URI), the To of the response (with its tag)."""
        out = f"ACK {self.uri} SIP/2.0\r\n"
        out += self._common("ACK", to_value=to_value)
        return out + "Content-Length: 0\r\n\r\n"

    def retry(self, branch: str, credentials: dict[str, str]) -> InviteRequest:
        return replace(self, cseq=self.cseq + 1, branch=branch,
                       credentials=tuple(credentials.items()))

    def _common(self, method: str, to_value: str | None = None) -> str:
        out = self.me.via(self.branch)
        out += "".join(f"Route: {route}\r\n" for route in self.routes)
        out += "Max-Forwards: 70\r\n"
        out += f"From: {self.from_value};tag={self.from_tag}\r\n"
        out += f"To: {to_value or self.to_value}\r\n"
        out += f"Call-ID: {self.call_id}\r\n"
        return out + f"CSeq: {self.cseq} {method}\r\n"


@dataclass
class Dialog:
    """The dialog our INVITE's 2xx created (RFC 3261 12.1.2): our side is From, theirs To
    (with the tag of the 2xx); requests go to the Contact of the 2xx through the route set,
    which is the 2xx's Record-Route reversed."""

    invite: InviteRequest
    remote_value: str  # the To of the 2xx, with its tag
    remote_target: str  # the Contact URI of the 2xx
    route_set: RouteSet = field(default_factory=RouteSet)
    local_cseq: int = 0

    def __post_init__(self) -> None:
        self.local_cseq = max(self.local_cseq, self.invite.cseq)

    @property
    def call_id(self) -> str:
        return self.invite.call_id

    @property
    def remote_tag(self) -> str:
        return tag_of(self.remote_value)

    def next_hop(self) -> tuple[str, int] | None:
        """Where in-dialog requests go when there is a route set (None: no route set)."""
        return self.route_set.request(self.remote_target)[2]

    def ack(self, branch: str) -> str:
        """The ACK of the 2xx (13.2.2.4): a request of the dialog, the INVITE's CSeq number
        and its credentials; a new branch (a transaction of its own)."""
        invite = self.invite
        return self._request("ACK", branch, invite.cseq,
                             "".join(f"{n}: {v}\r\n" for n, v in invite.credentials))

    def request(self, method: str, branch: str) -> str:
        """A new request of the dialog (BYE): the next CSeq of ours."""
        self.local_cseq += 1
        return self._request(method, branch, self.local_cseq,
                             f"User-Agent: {self.invite.me.user_agent}\r\n")

    def _request(self, method: str, branch: str, cseq: int, extra: str) -> str:
        invite = self.invite
        uri, routes, _ = self.route_set.request(self.remote_target)
        out = f"{method} {uri} SIP/2.0\r\n"
        out += invite.me.via(branch)
        out += "".join(f"Route: {route}\r\n" for route in routes)
        out += "Max-Forwards: 70\r\n"
        out += f"From: {invite.from_value};tag={invite.from_tag}\r\n"
        out += f"To: {self.remote_value}\r\n"
        out += f"Call-ID: {invite.call_id}\r\n"
        out += f"CSeq: {cseq} {method}\r\n"
        out += f"Contact: <{invite.me.contact}>\r\n" if method != "ACK" else ""
        return out + extra + "Content-Length: 0\r\n\r\n"
