"""HQ webhook sink: one HTTPS POST per batch, signed; the response is classified by
:func:`sync._batching.classify_hq`. An upload cut by the link is resumed where HQ's copy
stops (sync/PROTOCOL.md, "Resuming"), so a drop on GPRS costs the lost part, not the batch."""

from __future__ import annotations

import hashlib
import json
import threading
import time
from collections.abc import Callable
from urllib.parse import quote, urlsplit

import requests

from ._batching import ACK, Outcome, classify_hq
from ._hq_proof import proves_committed, signature_ok, signed
from ._ledger import Batch
from ._signing import (
    CONTENT_TYPE,
    HEADER_AUTH,
    HEADER_BATCH,
    HEADER_BOX,
    HEADER_OFFSET,
    HEADER_SIGNATURE,
    HEADER_TIMESTAMP,
    request_auth,
    sign,
)
from ._words import classify_transport


def base_url(batch_url: str) -> str:
    """HQ's root from the sink's batch URL (``.../v1/batches``): where heartbeats, survey
    packs and recordings go."""
    return batch_url[: -len("/v1/batches")] if batch_url.endswith("/v1/batches") else \
        batch_url.rstrip("/")


class HqSink:
    name = "hq"
    # Batches on the wire at once (sync._runner.drain): the next one uploads while HQ
    # commits the previous one and its answer crosses the link.
    window = 2

    def __init__(self, url: str, box_id: str, secret: bytes, verify: bool | str = True,
                 connect_timeout_s: float = 15.0, read_timeout_s: float = 60.0,
                 wall: Callable[[], float] = time.time,
                 session: requests.Session | None = None) -> None:
        self.url = url
        self.who = f"HQ {urlsplit(url).netloc}"  # names HQ in the reasons logged and shown
        self.box_id = box_id
        self.secret = secret
        self.verify = verify  # True, or a CA bundle path; False only if configured so
        self.timeout = (connect_timeout_s, read_timeout_s)
        self.wall = wall
        self.session = session or requests.Session()
        self.offset_s = 0.0  # HQ's clock minus ours, learnt from a stale-timestamp refusal
        self.bytes_sent = 0
        self.requests = 0
        self.resumed = 0  # uploads continued from HQ's partial copy
        self._cut: set[str] = set()  # batches whose last upload the link broke
        self._lock = threading.Lock()  # send() runs on up to `window` threads

    def _stamp(self) -> int:
        return int((self.wall() + self.offset_s) * 1000)

    def send(self, batch: Batch) -> Outcome:
        offset = 0
        if batch.batch_id in self._cut:
            try:
                offset = self._held(batch)
            except (requests.RequestException, OSError) as exc:
                return classify_transport(exc)  # the link is still down: ask again next time
            self._cut.discard(batch.batch_id)
            if offset < 0:  # HQ committed these very bytes; only its answer was lost
                return Outcome(ACK, "duplicate")
        try:
            response = self._post(batch, offset)
            if response.status_code == 416 and offset:  # HQ holds other bytes: from its count
                offset = max(0, _received(response.content, batch))
                response = self._post(batch, offset)
            body = response.content
        except (requests.RequestException, OSError) as exc:
            with self._lock:
                self._cut.add(batch.batch_id)
            return classify_transport(exc)
        headers = response.headers
        outcome = classify_hq(
            response.status_code, headers, body, batch.batch_id, self.wall(), who=self.who,
            committed=response.status_code == 409 and proves_committed(
                headers, body, batch.batch_id, batch.body, self.secret),
            forged=signed(headers) and not signature_ok(headers, body, self.secret))
        if outcome.server_epoch is not None:
            self.offset_s = outcome.server_epoch - self.wall()
        return outcome

    def _post(self, batch: Batch, offset: int) -> requests.Response:
        stamp = self._stamp()
        headers = {
            "Content-Type": CONTENT_TYPE,
            HEADER_BOX: self.box_id,
            HEADER_BATCH: batch.batch_id,
            HEADER_TIMESTAMP: str(stamp),
            # Always over the whole batch, also when only its rest travels.
            HEADER_SIGNATURE: sign(self.secret, stamp, batch.body),
        }
        if offset:
            headers[HEADER_OFFSET] = str(offset)
        # Lets HQ authenticate the request before it reads the body.
        headers[HEADER_AUTH] = request_auth(self.secret, stamp, self.box_id, batch.batch_id,
                                            offset, len(batch.body) - offset)
        with self._lock:
            self.resumed += bool(offset)
            self.requests += 1
            self.bytes_sent += len(batch.body) - offset
        return self.session.post(self.url, data=batch.body[offset:], headers=headers,
                                 timeout=self.timeout, verify=self.verify,
                                 allow_redirects=False)

    def _held(self, batch: Batch) -> int:
        """How much of a broken upload of this batch HQ holds (0: none, or a receiver that
        does not resume: its 404 or any other answer means "send it all"; -1: HQ has
        committed this batch, same SHA-256). Raises when the link is still broken."""
        stamp = self._stamp()
        headers = {HEADER_BOX: self.box_id, HEADER_TIMESTAMP: str(stamp),
                   HEADER_SIGNATURE: sign(self.secret, stamp, batch.batch_id.encode())}
        with self._lock:
            self.requests += 1
        response = self.session.get(f"{self.url}/{quote(batch.batch_id, safe='')}",
                                    headers=headers, timeout=self.timeout,
                                    verify=self.verify, allow_redirects=False)
        if response.status_code != 200:
            return 0
        if signed(response.headers) and not signature_ok(response.headers, response.content,
                                                         self.secret):
            return 0  # claims to be HQ and is not: send it all
        return _received(response.content, batch)

    def close(self) -> None:
        self.session.close()


def _received(body: bytes, batch: Batch) -> int:
    """HQ's count of a batch's bytes it holds; 0 unless it is a proper part of the batch;
    -1 when HQ says it committed a batch with this one's SHA-256."""
    try:
        doc = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return 0
    if not isinstance(doc, dict) or doc.get("batch") != batch.batch_id:
        return 0
    if doc.get("sha256") == hashlib.sha256(batch.body).hexdigest():
        return -1
    held = doc.get("received")
    return held if type(held) is int and 0 < held < len(batch.body) else 0
