"""The ``[sip]`` config section."""

from __future__ import annotations

import ipaddress
from typing import Any

from edge.config import ConfigProblem, Key, Section

DTMF_MODES = ("auto", "rfc2833", "info", "inband")
CODECS = ("PCMU", "PCMA")


def _address(value: str) -> str | None:
    if value == "":
        return None
    try:
        ipaddress.ip_address(value)
    except ValueError:
        return "expected an IPv4 address such as 192.168.1.20"
    return None


def _networks(values: list[str]) -> str | None:
    for value in values:
        try:
            ipaddress.ip_network(value, strict=False)
        except ValueError:
            return f"{value!r} is not an address or network (e.g. 192.168.1.20 or 10.0.0.0/24)"
    return None


def _codecs(values: list[str]) -> str | None:
    if not values:
        return "list at least one codec"
    bad = [v for v in values if v not in CODECS]
    return f"unknown codec(s) {bad}; known: {', '.join(CODECS)}" if bad else None


def _transfer_to(value: str) -> str | None:
    if value == "":
        return None
    if not value.startswith(("sip:", "sips:", "tel:")) or "{number}" not in value:
        return 'expected a SIP URI with {number}, e.g. "sip:{number}@{gateway}", or "" (off)'
    try:
        value.format(number="1", gateway="h")
    except (KeyError, IndexError, ValueError):
        return "only {number} and {gateway} may be used"
    return None


def _check(values: dict[str, Any]) -> list[ConfigProblem]:
    problems = []
    if values["rtp_port_low"] > values["rtp_port_high"]:
        problems.append(ConfigProblem("sip.rtp_port_low", "must not exceed sip.rtp_port_high"))
    if values["account"] and not values["gateway_address"]:
        problems.append(
            ConfigProblem("sip.gateway_address", "registration (sip.account) needs a registrar")
        )
    return problems


SECTION = Section(
    "sip",
    "A SIP line: calls from a GSM-SIP gateway (GoIP-style) or a PBX, over UDP.",
    keys=(
        Key("bind_address", str, "0.0.0.0", "Address to listen on for SIP and RTP.",
            check=_address),
        Key("advertised_address", str, "",
            "Address written in Via/Contact/SDP; empty: the address that routes to the gateway "
            "(or bind_address when that is not 0.0.0.0).", check=_address),
        Key("port", int, 5060, "UDP port for SIP.", min=1, max=65535),
        Key("gateway_address", str, "",
            "The gateway or registrar. Empty for trunk mode without a fixed peer.",
            check=_address),
        Key("gateway_port", int, 5060, "SIP port of the gateway/registrar.", min=1, max=65535),
        Key("account", str, "",
            "User name to register with; empty: no registration (trunk mode, the gateway "
            "sends calls to this box's address)."),
        Key("password", str, "",
            "Password for registration (digest MD5 or SHA-256). Better kept in the secrets file as "
            "sip_password, which is used when this is empty."),
        Key("register_expires", int, 300, "Registration lifetime to ask for, in seconds.",
            min=30, max=86400),
        Key("codecs", list, ["PCMU", "PCMA"],
            "Codecs to accept, in order of preference.", item=str, check=_codecs),
        Key("dtmf_mode", str, "auto",
            "How keys arrive: rfc2833 (RTP events), info (SIP INFO), inband (tones), or auto "
            "(RFC 2833 and INFO always; tone detection when the caller offers no "
            "telephone-event).", choices=DTMF_MODES),
        Key("allowed_sources", list, [],
            "Addresses/networks allowed to send calls; others get 403. Empty: the gateway "
            "address only, or anyone when no gateway is set.", item=str, check=_networks),
        Key("rtp_port_low", int, 10000, "Lowest UDP port for audio.", min=1024, max=65535),
        Key("rtp_port_high", int, 10999, "Highest UDP port for audio.", min=1024, max=65535),
        Key("max_outbound", int, 1,
            "Calls this line may place at once ([outbound] callbacks and campaigns): the "
            "gateway's GSM channels free for calling out. 0: this line never dials.",
            min=0, max=500),
        Key("from_user", str, "",
            "User part of the From of calls the box places (what a PBX shows as the caller); "
            "empty: the account, or 'edgecall' in trunk mode. A GSM gateway sends its SIM's "
            "own number whatever this says."),
        Key("on_ring", str, "answer",
            "'answer' a ringing call, or 'callback': decline it unanswered with 486 (the "
            "caller pays nothing) and call the caller back ([outbound]).",
            choices=("answer", "callback")),
        Key("transfer_to", str, "sip:{number}@{gateway}",
            "Where a survey's connect state (Studio's connect-call-to) sends the caller: the "
            "Refer-To of a blind transfer (REFER); {number} is the number the survey gives, "
            "{gateway} the gateway_address (with gateway_port), else where the call came "
            "from. Empty: this line does not transfer (the survey takes its failure path).",
            check=_transfer_to),
        Key("transfer_timeout_s", int, 45,
            "Seconds beyond the survey's ring time to wait for the gateway's final word on "
            "a transfer before it counts as failed (below the engine's own 60 s margin, so "
            "the line always reports first).", min=5, max=55),
        Key("barge_in", bool, False,
            "Stop the playing prompt on a key press inside the line, before the server asks. "
            "Leave false with edgecall's engine, which decides per prompt (a say prompt may "
            "not be interruptible)."),
    ),
    optional=True,
    extra_check=_check,
)
