"""Twilio Sync sink (plain REST, no SDK): each batch becomes one Map item.

The item key is the batch id (box, store epoch, sink, batch number), so a retried create
can only collide with itself: 54208 "already exists" is answered by fetching the item and
comparing. Batches go round-robin over several Maps, each paced below Twilio's 20 writes/s
per Map.

Only Twilio's documented answers acknowledge: ``201`` with the item (our key, our data), or
``409``/54208 confirmed by fetching the item and finding our data. Anything else (a captive
portal's 200 page, a redirect, a middlebox's 409) is transient: redirects are never followed.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any
from urllib.parse import quote, urlsplit

import requests

from ._batching import ACK, AUTH, CONFLICT, PARK, RETRY, Outcome
from ._batching import parse_retry_after as _retry_after
from ._ledger import Batch
from ._pacer import SlidingWindowPacer
from ._twilio_item import MAX_DATA, is_our_item, item_data
from ._words import classify_transport

__all__ = ["MAX_DATA", "TwilioSink", "classify_twilio", "item_data"]

ERR_EXISTS = 54208
ERR_RATE = 54009
EXISTS = "exists"  # an Outcome kind internal to this sink: fetch the item and compare


def _json(body: bytes) -> Any:
    try:
        return json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return None


def _twilio_error(status: int, body: bytes) -> int | None:
    """The error code of a Twilio error body (``{"code", "message", "more_info", "status"}``
    with the response's status), None when the body is not one: not Twilio's answer."""
    doc = _json(body)
    if isinstance(doc, dict) and type(doc.get("code")) is int and doc.get("status") == status:
        return doc["code"]
    return None


def classify_twilio(status: int, headers: Mapping[str, str], body: bytes, now_epoch: float,
                    *, who: str = "Twilio", key: str | None = None,
                    data: str | None = None) -> Outcome:
    """What a response to a create (``key``/``data`` sent) or a fetch (none) means; EXISTS
    needs the fetch-and-compare step."""
    code = _twilio_error(status, body)
    if status == 201 and key is not None and data is not None:
        if is_our_item(_json(body), key, data):
            return Outcome(ACK, "stored")
        return Outcome(RETRY, f"{who} answered 201 without the item sent (a middlebox?)")
    if 200 <= status < 300:
        return Outcome(RETRY, f"{who} answered {status} without the item (a captive portal?)")
    if 300 <= status < 400:
        where = headers.get("Location", "")
        return Outcome(RETRY, f"{who} answered {status} (a captive portal?)"
                              + (f" redirecting to {where[:100]}" if where else ""))
    if status == 409 and code == ERR_EXISTS:
        return Outcome(EXISTS, "54208")
    if status == 429 or code == ERR_RATE or status == 503:
        return Outcome(RETRY, f"{who} answered {status} {code or ''}".strip(),
                       _retry_after(headers.get("Retry-After"), now_epoch))
    if status == 408 or status >= 500:
        return Outcome(RETRY, f"{who} answered {status}")
    if code is None:  # a 4xx that is not Twilio's error body: a middlebox, not a verdict
        return Outcome(RETRY, f"{who} answered {status} without a Twilio error (a middlebox?)")
    if status in (401, 403):
        return Outcome(AUTH, f"HTTP {status} {code}")
    return Outcome(PARK, f"HTTP {status} {code}: {body[:200].decode('utf-8', 'replace')}")


class TwilioSink:
    name = "twilio"

    def __init__(self, base_url: str, service_sid: str, username: str, password: str,
                 maps: Sequence[str], item_ttl_s: int = 0, writes_per_s: float = 15.0,
                 connect_timeout_s: float = 20.0, read_timeout_s: float = 60.0,
                 wall: Callable[[], float] = time.time,
                 mono: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        """``username``/``password``: an API key SID and its secret, or the Account SID and
        its Auth Token (HTTP Basic either way)."""
        self.base = base_url.rstrip("/") + f"/v1/Services/{quote(service_sid)}/Maps/"
        self.who = f"Twilio {urlsplit(base_url).netloc}"
        self.maps = list(maps)
        self.item_ttl_s = item_ttl_s
        self.session = requests.Session()
        self.session.auth = (username, password)
        self.timeout = (connect_timeout_s, read_timeout_s)
        self.wall = wall
        self.pacer = SlidingWindowPacer(writes_per_s, mono, sleep)
        self.requests = 0
        self.bytes_sent = 0

    def map_for(self, batch: Batch) -> str:
        return self.maps[batch.seq % len(self.maps)]

    def send(self, batch: Batch) -> Outcome:
        data = item_data(batch)
        if len(data.encode()) > MAX_DATA:
            return Outcome(PARK, f"item data {len(data)} bytes > 16 KiB (batch_max_bytes too "
                                 "large)")
        map_name = self.map_for(batch)
        form: dict[str, Any] = {"Key": batch.batch_id, "Data": data}
        if self.item_ttl_s:
            form["ItemTtl"] = str(self.item_ttl_s)
        items = self.base + quote(map_name) + "/Items"
        self.pacer.wait(map_name)
        try:
            self.requests += 1
            response = self.session.post(items, data=form, timeout=self.timeout,
                                         allow_redirects=False)
            self.bytes_sent += len(response.request.body or b"")
            outcome = classify_twilio(response.status_code, response.headers,
                                      response.content, self.wall(), who=self.who,
                                      key=batch.batch_id, data=data)
            if outcome.kind != EXISTS:
                return outcome
            # A retry of a create that went through, or a different batch under our key.
            self.requests += 1
            fetched = self.session.get(items + "/" + quote(batch.batch_id, safe=""),
                                       timeout=self.timeout, allow_redirects=False)
        except (requests.RequestException, OSError) as exc:
            return classify_transport(exc, "Twilio Sync")
        item = _json(fetched.content)
        if fetched.status_code != 200 or not isinstance(item, dict) or \
                item.get("key") != batch.batch_id:
            outcome = classify_twilio(fetched.status_code, fetched.headers, fetched.content,
                                      self.wall(), who=self.who)
            return Outcome(RETRY, outcome.reason, outcome.retry_after_s) \
                if outcome.kind == EXISTS else outcome
        if is_our_item(item, batch.batch_id, data):
            return Outcome(ACK, "duplicate")
        return Outcome(CONFLICT, f"item {batch.batch_id} in map {map_name} holds other data")
