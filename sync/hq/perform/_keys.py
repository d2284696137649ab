"""``[requests]`` of hq.toml: whether and how HQ performs the requests boxes queued, and the
policy it performs them under (``policy``)."""

from __future__ import annotations

from typing import Any

from edge.config import ConfigProblem
from edge.config._schema import Key, Section

from ._rules import PerformPolicy, TwilioAccount


def _lease_outlasts_timeout(values: dict[str, Any]) -> list[ConfigProblem]:
    # A live performer waiting on a slow far side must never look abandoned.
    if values["lease_s"] < 2 * values["timeout_s"] + 30:
        return [ConfigProblem("requests.lease_s", "must be at least 2 x timeout_s + 30 s, so "
                              "that a performer still waiting is never taken as stopped")]
    return []


def _host(entry: str) -> str | None:
    if not entry or "/" in entry or " " in entry:
        return "a host name, host:port or *.domain, without scheme or path"
    return None


REQUESTS = Section("requests", "Requests boxes queued (make-http-request, send-message with "
                   "offline = queue), performed once by 'edgecall hq perform'.", (
    Key("perform_in_serve", bool, False, "Also perform them inside 'hq serve' (one performer "
        "process beside the workers); off: run 'edgecall hq perform' yourself."),
    Key("allowed_hosts", list, [], "Hosts HQ may call for make-http-request (host, host:port "
        "or *.domain); empty: none, every such request is refused.", item=str,
        example=["crm.example.org"],
        check=lambda hosts: next((f"{h!r}: {m}" for h in hosts if (m := _host(h))), None)),
    Key("timeout_s", float, 15.0, "Longest wait for the far side's answer.", min=1, max=120),
    Key("lease_s", float, 600.0, "A claim with no outcome after this long is marked "
        "uncertain (its performer stopped): never performed again by itself.", min=60,
        max=86400),
    Key("poll_s", float, 30.0, "How often a running performer looks for new requests.",
        min=1, max=3600),
    Key("number_wait_h", float, 24.0, "How long an SMS to a caller waits for the caller's "
        "number (a box sends it with the call's callback, maybe in a later batch) before it "
        "is refused.", min=0, max=720),
    Key("twilio_account_sid", str, "", "Account SID (AC...) that sends SMS (send-message)."),
    Key("twilio_auth_token", str, "", "That account's Auth Token."),
    Key("sms_from", str, "", "HQ's Twilio number SMS are sent from (+E.164)."),
    Key("messaging_service_sid", str, "", "Or a Messaging Service (MG...) to send through "
        "(used instead of sms_from when set)."),
    Key("twilio_base_url", str, "https://api.twilio.com", "Twilio REST API base URL."),
), extra_check=_lease_outlasts_timeout)


def policy(values: dict[str, Any]) -> PerformPolicy:
    return PerformPolicy(
        allowed_hosts=tuple(values["allowed_hosts"]), timeout_s=values["timeout_s"],
        lease_s=values["lease_s"], number_wait_s=values["number_wait_h"] * 3600,
        twilio=TwilioAccount(values["twilio_account_sid"], values["twilio_auth_token"],
                             values["twilio_base_url"], values["sms_from"],
                             values["messaging_service_sid"]))
