"""The one place a planned call meets the network (``requests``): a reply, or a failure that
says whether the request may have reached the far side. Redirects are not followed (the
next host would not have been checked against the allow-list); nothing is retried here."""

from __future__ import annotations

import requests
from urllib3.exceptions import NewConnectionError

from ._rules import EXCERPT_CHARS, Failure, HttpCall, Reply

# Raised before a byte is sent: a URL or header requests cannot use, a TLS handshake refused.
_BEFORE_SENDING = (requests.ConnectTimeout, requests.exceptions.SSLError,
                   requests.exceptions.InvalidURL, requests.exceptions.MissingSchema,
                   requests.exceptions.InvalidSchema, requests.exceptions.InvalidHeader,
                   requests.exceptions.URLRequired)


def _never_left(exc: requests.RequestException) -> bool:
    """True when no connection was made, so the far side cannot have seen the request."""
    if isinstance(exc, _BEFORE_SENDING):
        return True
    reason = getattr(exc.args[0], "reason", None) if exc.args else None
    return isinstance(exc, requests.ConnectionError) and isinstance(reason, NewConnectionError)


def send(call: HttpCall, timeout_s: float, session: requests.Session | None = None
         ) -> Reply | Failure:
    http = session or requests.Session()
    try:
        with http.request(call.method, call.url, headers=dict(call.headers), data=call.body,
                          auth=call.auth, timeout=timeout_s, allow_redirects=False,
                          stream=True) as response:
            # Only the start of the answer is kept: a far side cannot fill HQ's memory.
            head = response.raw.read(EXCERPT_CHARS * 4, decode_content=True) or b""
            return Reply(response.status_code, head.decode("utf-8", "replace"))
    except requests.ReadTimeout:
        return Failure(f"no answer within {timeout_s:g} s", sent=True)
    except requests.RequestException as exc:
        kind = type(exc).__name__
        if _never_left(exc):
            what = "could not connect" if isinstance(exc, requests.ConnectionError) \
                else "not sent"
            return Failure(f"{what} ({kind})", sent=False)
        return Failure(f"connection lost ({kind})", sent=True)
    finally:
        if session is None:
            http.close()
