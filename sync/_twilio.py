"""Twilio Sync sink (plain REST, no SDK): each batch becomes one Map item.

The item key is the batch id (box, store epoch, sink, batch number), so a retried create
can only collide with itself: 54208 "already exists" is answered by fetching the item and
comparing. Batches go round-robin over several Maps, each paced below Twilio's 20 writes/s
per Map."""

from __future__ import annotations

import base64
import json
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any
from urllib.parse import quote

import requests

from ._batching import ACK, AUTH, CONFLICT, PARK, RETRY, Outcome, classify_transport
from ._batching import parse_retry_after as _retry_after
from ._ledger import Batch

MAX_DATA = 16 * 1024
ERR_EXISTS = 54208
ERR_RATE = 54009


def item_data(batch: Batch) -> str:
    """The item's Data: a JSON object carrying the batch bytes (deterministic per batch)."""
    doc = {"v": 1, "batch": batch.batch_id, "first": batch.first_seq, "last": batch.last_seq,
           "n": batch.records, "b64": base64.b64encode(batch.body).decode()}
    return json.dumps(doc, separators=(",", ":"), sort_keys=True)


def _code(body: bytes) -> int | None:
    try:
        doc = json.loads(body)
    except ValueError:
        return None
    return doc.get("code") if isinstance(doc, dict) else None


def classify_twilio(status: int, headers: Mapping[str, str], body: bytes,
                    now_epoch: float) -> Outcome:
    """What a create-item response means; EXISTS needs the fetch-and-compare step."""
    code = _code(body)
    if status in (200, 201):
        return Outcome(ACK, "stored")
    if status == 409 and code == ERR_EXISTS:
        return Outcome("exists", "54208")
    if status == 429 or code == ERR_RATE or status == 503:
        return Outcome(RETRY, f"HTTP {status} {code or ''}".strip(),
                       _retry_after(headers.get("Retry-After"), now_epoch))
    if status in (401, 403):
        return Outcome(AUTH, f"HTTP {status} {code or ''}".strip())
    if status == 408 or status >= 500:
        return Outcome(RETRY, f"HTTP {status}")
    return Outcome(PARK, f"HTTP {status} {code or ''}: {body[:200].decode('utf-8', 'replace')}")


class _Pacer:
    """Spaces writes to one Map at least 1/rate apart (monotonic time)."""

    def __init__(self, rate: float, mono: Callable[[], float],
                 sleep: Callable[[float], None]) -> None:
        self.gap = 1.0 / rate
        self.mono = mono
        self.sleep = sleep
        self.next_at: dict[str, float] = {}
        self.lock = threading.Lock()

    def wait(self, key: str) -> None:
        with self.lock:
            now = self.mono()
            at = max(self.next_at.get(key, now), now)
            self.next_at[key] = at + self.gap
        if at > now:
            self.sleep(at - now)


class TwilioSink:
    name = "twilio"

    def __init__(self, base_url: str, service_sid: str, api_key_sid: str, api_key_secret: str,
                 maps: Sequence[str], item_ttl_s: int = 0, writes_per_s: float = 15.0,
                 connect_timeout_s: float = 20.0, read_timeout_s: float = 60.0,
                 wall: Callable[[], float] = time.time,
                 mono: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.base = base_url.rstrip("/") + f"/v1/Services/{quote(service_sid)}/Maps/"
        self.maps = list(maps)
        self.item_ttl_s = item_ttl_s
        self.session = requests.Session()
        self.session.auth = (api_key_sid, api_key_secret)
        self.timeout = (connect_timeout_s, read_timeout_s)
        self.wall = wall
        self.pacer = _Pacer(writes_per_s, mono, sleep)
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
            response = self.session.post(items, data=form, timeout=self.timeout)
            self.bytes_sent += len(response.request.body or b"")
            outcome = classify_twilio(response.status_code, response.headers,
                                      response.content, self.wall())
            if outcome.kind != "exists":
                return outcome
            # A retry of a create that went through, or a different batch under our key.
            self.requests += 1
            fetched = self.session.get(items + "/" + quote(batch.batch_id, safe=""),
                                       timeout=self.timeout)
            if fetched.status_code != 200:
                return classify_twilio(fetched.status_code, fetched.headers, fetched.content,
                                       self.wall())
            stored = fetched.json().get("data")
        except (requests.RequestException, OSError, ValueError) as exc:
            return classify_transport(exc)
        if stored == json.loads(data):
            return Outcome(ACK, "duplicate")
        return Outcome(CONFLICT, f"item {batch.batch_id} in map {map_name} holds other data")
