"""The REGISTER request we send and what we read from the registrar's 200.

Written here rather than by pyVoIP 1.6.8's gen_first_response/gen_register: those put a counter
hash in the Call-ID (the same on every box), restart CSeq at 1, and sign a digest URI that is not
the Request-URI.
"""

from __future__ import annotations

from dataclasses import dataclass

from ._message import entry_params, host_port, split_list, uri_of
from ._pyvoip import VERSION

ALLOW = "INVITE, ACK, BYE, CANCEL, OPTIONS, INFO, UPDATE"  # what the box answers
USER_AGENT = f"edgecall (pyVoIP {VERSION})"


@dataclass(frozen=True)
class Binding:
    """Our registration: AOR ``user@server``, Contact ``user@host:port``, instance id."""

    username: str
    server: str
    port: int
    host: str
    local_port: int
    instance: str

    @property
    def request_uri(self) -> str:
        return f"sip:{self.server}" + (f":{self.port}" if self.port != 5060 else "")

    @property
    def contact_uri(self) -> str:
        return f"sip:{self.username}@{self.host}:{self.local_port}"

    def is_ours(self, entry: str) -> bool:
        """Whether a Contact entry of the registrar's answer is our binding: the same instance
        id, or the same user, host and port (registrars list every binding of the AOR)."""
        instance = entry_params(entry).get("+sip.instance", "")
        if instance:
            return instance.strip("<>").lower() == f"urn:uuid:{self.instance}".lower()
        user, host, port, _ = host_port(uri_of(entry))
        return (user, host, port) == (self.username, self.host.lower(), self.local_port)


def register_request(binding: Binding, *, call_id: str, cseq: int, from_tag: str, branch: str,
                     expires: int, allow: str, user_agent: str,
                     credentials: dict[str, str] | None = None) -> str:
    """A REGISTER; ``credentials`` maps Authorization / Proxy-Authorization to the answers to
    the challenges so far."""
    b = binding
    aor = f"sip:{b.username}@{b.server}"
    out = f"REGISTER {b.request_uri} SIP/2.0\r\n"
    out += f"Via: SIP/2.0/UDP {b.host}:{b.local_port};branch={branch};rport\r\n"
    out += "Max-Forwards: 70\r\n"
    out += f'From: "{b.username}" <{aor}>;tag={from_tag}\r\n'
    out += f'To: "{b.username}" <{aor}>\r\n'
    out += f"Call-ID: {call_id}\r\n"
    out += f"CSeq: {cseq} REGISTER\r\n"
    out += (f"Contact: <{b.contact_uri};transport=udp>"
            f';+sip.instance="<urn:uuid:{b.instance}>"\r\n')
    out += f"Expires: {expires}\r\n"
    out += f"Allow: {allow}\r\n"
    out += f"User-Agent: {user_agent}\r\n"
    out += "".join(f"{name}: {value}\r\n" for name, value in (credentials or {}).items())
    out += "Content-Length: 0\r\n\r\n"
    return out


def contact_entries(values: list[str]) -> list[str]:
    """Every Contact entry of a response (a registrar may put several in one header line)."""
    return [entry for value in values for entry in split_list(value) if entry != "*"]
