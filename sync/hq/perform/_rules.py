"""The rules of performing queued requests, pure (no sockets, no clock, no database): what a
recorded request becomes (an HTTP call, or a refusal with its reason), what an attempt's
result means for the request's state, and when a claim is taken as abandoned.

States of a request at HQ::

    queued -> claimed -> done | failed | uncertain      (refused: decided before any call)
                      -> waiting -> queued               (an SMS to a caller whose number
                                                          has not reached HQ yet)

- ``done``: the far side answered 2xx.
- ``failed``: the far side answered something else (its status and an excerpt kept), or
  the call surely never left HQ (no connection could be made).
- ``uncertain``: the call may have reached the far side and its answer never came back (a
  read timeout, a dropped connection), or the performer that claimed it stopped before
  recording anything (its lease passed). The far side may have acted: never retried by
  itself, only released by an operator (``hq requests retry``).
- ``refused``: not performed at all (host not allowed, number not known, ...).
- ``waiting``: an SMS to the caller whose number HQ does not hold yet: a box sends it with
  the call's callback, which may come in a later batch than the request. Queued again once
  the number is there; refused if it is not within ``[requests] number_wait_h`` of queueing.

Nothing leaves ``failed``, ``uncertain`` or ``refused`` except by an operator's release."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode, urlsplit

from urllib3.exceptions import LocationParseError
from urllib3.util import parse_url

QUEUED, CLAIMED, DONE, FAILED, REFUSED, UNCERTAIN, WAITING = (
    "queued", "claimed", "done", "failed", "refused", "uncertain", "waiting")
STATES = (QUEUED, CLAIMED, WAITING, DONE, FAILED, REFUSED, UNCERTAIN)
RELEASABLE = frozenset({FAILED, REFUSED, UNCERTAIN})  # what an operator may put back
METHODS = frozenset({"GET", "POST", "PUT", "PATCH", "DELETE"})
WIDGETS = ("make-http-request", "send-message")
EXCERPT_CHARS = 300
_PHONE = re.compile(r"(whatsapp:)?\+[1-9][0-9]{5,15}")
ABANDONED = ("the performer that claimed it stopped before recording an outcome (its lease "
             "passed): the far side may have acted; release it with 'hq requests retry' only "
             "once you know it did not")


@dataclass(frozen=True)
class TwilioAccount:
    """Where and as whom HQ sends SMS (Twilio Messages API)."""

    account_sid: str = ""
    auth_token: str = ""
    base_url: str = "https://api.twilio.com"
    sms_from: str = ""  # HQ's own number; used unless a messaging service is set
    messaging_service_sid: str = ""

    @property
    def configured(self) -> bool:
        return bool(self.account_sid and self.auth_token
                    and (self.sms_from or self.messaging_service_sid))


@dataclass(frozen=True)
class PerformPolicy:
    allowed_hosts: tuple[str, ...] = ()  # none: every make-http-request is refused
    timeout_s: float = 15.0
    lease_s: float = 600.0  # a claim older than this with no outcome is abandoned
    number_wait_s: float = 86400.0  # how long an SMS waits for its caller's number
    twilio: TwilioAccount = field(default_factory=TwilioAccount)


@dataclass(frozen=True)
class HttpCall:
    """One HTTP request exactly as it will be sent."""

    method: str
    url: str
    headers: Mapping[str, str] = field(default_factory=dict)
    body: bytes | None = None
    auth: tuple[str, str] | None = None


@dataclass(frozen=True)
class Refusal:
    reason: str
    # The missing piece may still come (the caller's number, in a later batch): wait.
    may_come: bool = False


@dataclass(frozen=True)
class Reply:
    status: int
    text: str


@dataclass(frozen=True)
class Failure:
    error: str
    sent: bool  # False: the request surely never reached the far side


@dataclass(frozen=True)
class Contact:
    """What HQ knows of the caller of a request's call: the pseudonym of its call record and
    the raw number a box sent for a callback of that call (None: none sent)."""

    pseudonym: str | None
    number: str | None


@dataclass(frozen=True)
class Outcome:
    state: str
    status_code: int | None = None
    excerpt: str | None = None
    error: str | None = None


# -- hosts -------------------------------------------------------------------------------------
def _port(scheme: str, port: int | None) -> int:
    return port if port is not None else (443 if scheme == "https" else 80)


def _entry(entry: str) -> tuple[str, int | None]:
    """``host``, ``host:port``, ``[v6]:port`` -> (host, port or None)."""
    text = entry.strip().lower()
    if text.startswith("["):
        name, _, rest = text[1:].partition("]")
        port = rest[1:]
    elif text.count(":") == 1:
        name, port = text.split(":")
    else:
        name, port = text, ""
    return name.rstrip("."), int(port) if port.isdigit() else None


def host_refusal(url: str, allowed: Sequence[str]) -> str | None:
    """Why ``url`` may not be called (None: it may). An entry is ``host`` (the scheme's
    default port), ``host:port``, or ``*.example.org`` (any subdomain, default port)."""
    if any(c.isspace() or c == "\\" or not c.isprintable() for c in url):
        return f"not a URL HQ sends to: {url[:80]!r}"
    try:
        parts = urlsplit(url)
        port = parts.port
        # The host requests will connect to (urllib3 parses it): the two parsers must agree,
        # or 'http://evil.org\\@allowed.org/' would pass one check and reach the other host.
        connects = parse_url(url)
    except (ValueError, LocationParseError):
        return f"not a URL: {url[:80]!r}"
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return f"only http(s) URLs are performed, not {url[:80]!r}"
    host = parts.hostname.lower().rstrip(".")
    if (connects.host or "").lower().strip("[]").rstrip(".") != host or connects.port != port:
        return f"not a URL HQ sends to: {url[:80]!r}"
    here = _port(parts.scheme, port)
    for entry in allowed:
        name, wanted = _entry(entry)
        if here != (wanted or _port(parts.scheme, None)):
            continue
        if name == host or (name.startswith("*.") and host.endswith(name[1:])):
            return None
    if not allowed:
        return (f"{host}: no host is allowed ([requests] allowed_hosts of hq.toml is empty), "
                "so HQ calls no URL a box names")
    return f"{host}:{here} is not in [requests] allowed_hosts of hq.toml"


# -- make-http-request -------------------------------------------------------------------------
def _pairs(parameters: Any) -> list[tuple[str, str]] | None:
    if parameters in (None, ""):
        return []
    if not isinstance(parameters, list):
        return None
    out = []
    for item in parameters:
        if not isinstance(item, dict) or not isinstance(item.get("key"), str):
            return None
        out.append((item["key"], "" if item.get("value") is None else str(item["value"])))
    return out


def plan_http(request: Mapping[str, Any], policy: PerformPolicy) -> HttpCall | Refusal:
    """Studio's make-http-request as recorded: GET puts ``parameters`` in the query string;
    a form content type sends them as the body; any other sends ``body`` as it is."""
    method = str(request.get("method") or "GET").upper()
    url = request.get("url")
    if method not in METHODS:
        return Refusal(f"method {method[:20]!r} is not performed")
    if not isinstance(url, str) or not url:
        return Refusal("the request has no URL")
    if (why := host_refusal(url, policy.allowed_hosts)) is not None:
        return Refusal(why)
    if request.get("add_twilio_auth"):
        # Studio signs such a request with the account's credentials; a box's queued request
        # is not given HQ's Twilio credentials to carry to another host.
        return Refusal("add_twilio_auth is not performed at HQ")
    pairs = _pairs(request.get("parameters"))
    if pairs is None:
        return Refusal("parameters are not a list of {key, value}")
    content_type = str(request.get("content_type") or "application/x-www-form-urlencoded")
    if method == "GET":
        if pairs:
            url += ("&" if urlsplit(url).query else "?") + urlencode(pairs)
        return HttpCall(method, url)
    if content_type.startswith("application/x-www-form-urlencoded"):
        return HttpCall(method, url, {"Content-Type": content_type},
                        urlencode(pairs).encode())
    body = request.get("body")
    text = body if isinstance(body, str) else "" if body is None else str(body)
    return HttpCall(method, url, {"Content-Type": content_type}, text.encode("utf-8"))


# -- send-message ------------------------------------------------------------------------------
def recipient(to: Any, contact: Contact | None) -> str | Refusal:
    """The number to send to. A box never sends a caller's number inside a record: where the
    rendered ``to`` was the caller's number it holds the caller's pseudonym (``p:...``), and
    HQ can send only when the box also sent that call's number for a callback (boxes with
    ``send_callback_numbers``) and the pseudonym is the call's caller's."""
    if not isinstance(to, str) or not to:
        return Refusal("the message has no recipient")
    if to.startswith("p:"):
        if contact is None or contact.pseudonym != to:
            return Refusal("the recipient is a caller's pseudonym that is not this call's "
                           "caller: no number to send to")
        if not contact.number:
            return Refusal("the recipient is the caller, whose number never leaves the box "
                           "unless the caller asked for a callback and the box sends callback "
                           "numbers ([sync] send_callback_numbers): HQ has no number",
                           may_come=True)
        return contact.number
    if not _PHONE.fullmatch(to):
        return Refusal(f"recipient {to[:40]!r} is not a number in E.164 form (+...)")
    return to


def plan_message(request: Mapping[str, Any], contact: Contact | None,
                 policy: PerformPolicy) -> HttpCall | Refusal:
    """An SMS through Twilio's Messages API, from HQ's own number or messaging service
    (a box's line number is not one of HQ's Twilio senders)."""
    twilio = policy.twilio
    if not twilio.configured:
        return Refusal("no Twilio account to send SMS with ([requests] twilio_account_sid, "
                       "twilio_auth_token and sms_from or messaging_service_sid of hq.toml)")
    to = recipient(request.get("to"), contact)
    if isinstance(to, Refusal):
        return to
    body = request.get("body")
    media = request.get("media_url")
    if not (isinstance(body, str) and body) and not media:
        return Refusal("the message has no body")
    form: list[tuple[str, str]] = [("To", to)]
    if twilio.messaging_service_sid:
        form.append(("MessagingServiceSid", twilio.messaging_service_sid))
    else:
        form.append(("From", twilio.sms_from))
    if isinstance(body, str) and body:
        form.append(("Body", body))
    for url in media if isinstance(media, list) else [media] if media else []:
        form.append(("MediaUrl", str(url)))
    url = (f"{twilio.base_url.rstrip('/')}/2010-04-01/Accounts/{twilio.account_sid}"
           "/Messages.json")
    return HttpCall("POST", url, {"Content-Type": "application/x-www-form-urlencoded"},
                    urlencode(form).encode(), (twilio.account_sid, twilio.auth_token))


def plan(body: Mapping[str, Any], contact: Contact | None,
         policy: PerformPolicy) -> HttpCall | Refusal:
    """A request record's body -> what to send, or why not."""
    request = body.get("request")
    if not isinstance(request, dict):
        return Refusal("the record holds no request")
    widget = body.get("widget")
    if widget == "make-http-request":
        return plan_http(request, policy)
    if widget == "send-message":
        return plan_message(request, contact, policy)
    return Refusal(f"widget {str(widget)[:40]!r} is not one HQ performs")


# -- results -----------------------------------------------------------------------------------
def excerpt(text: str, limit: int = EXCERPT_CHARS) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[:limit - 1] + "…"


def outcome(result: Reply | Failure | Refusal) -> Outcome:
    if isinstance(result, Refusal):
        return Outcome(REFUSED, error=result.reason)
    if isinstance(result, Failure):
        if result.sent:
            return Outcome(UNCERTAIN, error=f"{result.error}: the far side may have acted")
        return Outcome(FAILED, error=result.error)
    state = DONE if 200 <= result.status < 300 else FAILED
    return Outcome(state, result.status, excerpt(result.text),
                   None if state == DONE else f"answered {result.status}")


def waits(refusal: Refusal, queued_utc: str, cutoff_utc: str) -> bool:
    """Whether a refused request waits for what it lacks rather than being refused: only
    what may still come, and only if queued at or after ``cutoff_utc`` (``waiting_cutoff``;
    UTC stamps of one form compare as text, as the queue's own SQL compares them)."""
    return refusal.may_come and queued_utc >= cutoff_utc


def waiting_cutoff(now: float, policy: PerformPolicy) -> float:
    """Requests queued before this moment (epoch seconds) wait no longer."""
    return now - policy.number_wait_s


def lease_cutoff(now: float, lease_s: float) -> float:
    """Claims made before this moment (epoch seconds) are abandoned."""
    return now - lease_s
