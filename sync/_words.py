"""Transport failures in words for the technician ("cannot connect to HQ 127.0.0.1:8750:
connection refused"), instead of an exception's text cut at 200 characters. Used where a
send fails (``classify_transport``); the caller adds when it retries."""

from __future__ import annotations

import errno
import re
import socket
import ssl
from urllib.parse import urlsplit

import requests

from ._batching import RETRY, Outcome

_MAX = 160


def _peer(error: BaseException) -> str:
    request = getattr(error, "request", None)
    url = getattr(request, "url", None)
    if isinstance(url, str):
        parts = urlsplit(url)
        if parts.hostname:
            port = parts.port or (443 if parts.scheme == "https" else 80)
            return f"{parts.hostname}:{port}"
    found = re.search(r"host='([^']+)', port=(\d+)", str(error))
    return f"{found.group(1)}:{found.group(2)}" if found else ""


def _causes(error: BaseException) -> list[BaseException]:
    seen: list[BaseException] = []
    todo: list[BaseException | None] = [error]
    while todo:
        item = todo.pop()
        if item is None or item in seen or len(seen) > 10:
            continue
        seen.append(item)
        todo += [item.__cause__, item.__context__, getattr(item, "reason", None)]
        todo += [a for a in getattr(item, "args", ()) if isinstance(a, BaseException)]
    return seen


def short(text: str, limit: int = _MAX) -> str:
    """The first line, cut at a word (with an ellipsis) rather than mid-word."""
    line = text.strip().splitlines()[0] if text.strip() else ""
    if len(line) <= limit:
        return line
    return line[:limit].rsplit(" ", 1)[0] + " …"


def transport_words(error: BaseException, peer_name: str = "HQ") -> str:
    """What went wrong on the way to ``peer_name``, in words, one line."""
    peer = _peer(error)
    where = f"{peer_name} {peer}".strip()
    causes = _causes(error)
    text = " ".join(str(c) for c in causes)
    if any(isinstance(c, ConnectionRefusedError) for c in causes) or "Connection refused" in text:
        return f"cannot connect to {where}: connection refused (is it running?)"
    if any(isinstance(c, socket.gaierror) for c in causes) or "Name or service not known" in \
            text or "NameResolution" in text or "Temporary failure in name resolution" in text:
        host = peer.rsplit(":", 1)[0] or peer_name
        return f"cannot find {host} in DNS: is the link up?"
    if isinstance(error, requests.ConnectTimeout):
        return f"cannot connect to {where}: no answer (connect timeout; is the link up?)"
    if isinstance(error, requests.ReadTimeout) or any(isinstance(c, TimeoutError)
                                                      for c in causes):
        return f"{where} did not answer in time (read timeout)"
    if isinstance(error, requests.exceptions.SSLError) or any(isinstance(c, ssl.SSLError)
                                                              for c in causes):
        reason = next((short(str(c), 100) for c in causes if isinstance(c, ssl.SSLError)), "")
        return f"TLS with {where} failed{': ' + reason if reason else ''}"
    if any(isinstance(c, ConnectionResetError | BrokenPipeError) for c in causes) or \
            "Connection aborted" in text or "RemoteDisconnected" in text:
        return f"the connection to {where} broke (reset by the link or the server)"
    if any(isinstance(c, OSError) and c.errno in (errno.ENETUNREACH, errno.EHOSTUNREACH)
           for c in causes):
        return f"cannot reach {where}: no route (is the link up?)"
    return short(f"{where}: {type(error).__name__}: {error}")


def classify_transport(error: BaseException, peer_name: str = "HQ") -> Outcome:
    """Timeouts, resets, refused connections, malformed responses: all transient, said in
    words ("cannot connect to HQ 127.0.0.1:8750: connection refused")."""
    return Outcome(RETRY, transport_words(error, peer_name))
