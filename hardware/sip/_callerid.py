"""Who is calling, from the INVITE's headers (pure).

Order of trust: P-Asserted-Identity (RFC 3325, set by the gateway's network side), then
Remote-Party-ID (the older draft many GSM gateways still send), then From. A Privacy header of
``id``/``user``/``header``, an RPID ``privacy=full``/``name``-less ``uri`` or an anonymous user
part means the number is withheld.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from edge.lines import CallerId

_URI = re.compile(r"(?:sips?|tel):([^@;>\s]*)", re.IGNORECASE)
_ANONYMOUS = {"anonymous", "unknown", "restricted", "private", "unavailable", "withheld", ""}


def _user(value: str) -> str | None:
    match = _URI.search(value)
    return match.group(1) if match else None


def _number(user: str | None) -> str | None:
    if user is None:
        return None
    user = re.sub(r"%2[bB]", "+", user)
    if user.strip().lower() in _ANONYMOUS or not re.search(r"\d", user):
        return None
    return user


def caller_id(headers: Iterable[tuple[str, str]]) -> CallerId:
    """``headers`` are (canonical name, value) pairs in order, every copy kept."""
    by_name: dict[str, list[str]] = {}
    for name, value in headers:
        by_name.setdefault(name.lower(), []).append(value)
    privacy = set(re.split(r"[\s;,]+", ",".join(by_name.get("privacy", [])).lower()))
    if privacy & {"id", "user", "header"}:
        return CallerId(None, withheld=True)
    for value in by_name.get("p-asserted-identity", []):
        for part in value.split(","):
            number = _number(_user(part))
            if number:
                return CallerId(number)
    for value in by_name.get("remote-party-id", []):
        if re.search(r";\s*privacy\s*=\s*(full|uri)", value, re.IGNORECASE):
            return CallerId(None, withheld=True)
        number = _number(_user(value))
        if number:
            return CallerId(number)
    for value in by_name.get("from", []):
        number = _number(_user(value))
        return CallerId(number, withheld=number is None)
    return CallerId(None, withheld=True)
