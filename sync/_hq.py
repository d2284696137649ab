"""HQ webhook sink: one HTTPS POST per batch, signed; the response is classified by
:func:`sync._batching.classify_hq`."""

from __future__ import annotations

import time
from collections.abc import Callable

import requests

from ._batching import Outcome, classify_hq, classify_transport
from ._ledger import Batch
from ._signing import (
    CONTENT_TYPE,
    HEADER_BATCH,
    HEADER_BOX,
    HEADER_SIGNATURE,
    HEADER_TIMESTAMP,
    sign,
)


class HqSink:
    name = "hq"

    def __init__(self, url: str, box_id: str, secret: bytes, verify: bool | str = True,
                 connect_timeout_s: float = 15.0, read_timeout_s: float = 60.0,
                 wall: Callable[[], float] = time.time,
                 session: requests.Session | None = None) -> None:
        self.url = url
        self.box_id = box_id
        self.secret = secret
        self.verify = verify  # True, or a CA bundle path; False only if configured so
        self.timeout = (connect_timeout_s, read_timeout_s)
        self.wall = wall
        self.session = session or requests.Session()
        self.offset_s = 0.0  # HQ's clock minus ours, learnt from a stale-timestamp refusal
        self.bytes_sent = 0
        self.requests = 0

    def send(self, batch: Batch) -> Outcome:
        now = self.wall() + self.offset_s
        stamp = int(now * 1000)
        headers = {
            "Content-Type": CONTENT_TYPE,
            HEADER_BOX: self.box_id,
            HEADER_BATCH: batch.batch_id,
            HEADER_TIMESTAMP: str(stamp),
            HEADER_SIGNATURE: sign(self.secret, stamp, batch.body),
        }
        self.requests += 1
        self.bytes_sent += len(batch.body)
        try:
            response = self.session.post(self.url, data=batch.body, headers=headers,
                                         timeout=self.timeout, verify=self.verify,
                                         allow_redirects=False)
            body = response.content
        except (requests.RequestException, OSError) as exc:
            return classify_transport(exc)
        outcome = classify_hq(response.status_code, response.headers, body, batch.batch_id,
                              self.wall())
        if outcome.server_epoch is not None:
            self.offset_s = outcome.server_epoch - self.wall()
        return outcome

    def close(self) -> None:
        self.session.close()
