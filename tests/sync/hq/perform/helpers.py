"""Request records as a box makes them, stored at HQ as a batch would store them."""

from __future__ import annotations

import itertools
import json
from typing import Any

from sync.codec import Record
from sync.hq import Storage

NOW = "2026-11-27T10:00:00.000Z"
CALLER = "p:" + "ab" * 10
_batches = itertools.count(1)


def request_record(n: int, request: dict[str, Any], widget: str = "make-http-request",
                   call: str = "box-1.e.1", box: str = "box-1") -> Record:
    record_id = f"{call}:request:post" + (f"#{n}" if n > 1 else "")
    body = {"id": record_id, "call": call, "state": "post", "widget": widget,
            "request": request, "utc": NOW, "mono": 1.0, "boot": "b", "clock": "ntp"}
    return Record(n, record_id, 1, "request", NOW, body)


def call_record(call: str = "box-1.e.1", caller: str = CALLER) -> Record:
    return Record(0, call, 1, "call", NOW, {"id": call, "caller": caller, "survey": "s"})


def store(storage: Storage, records: list[Record], box: str = "box-1",
          callbacks: list[dict[str, str]] = ()) -> None:
    batch = f"{box}.e.hq.{next(_batches)}"
    storage.store_batch(box, batch, "00" * 32, records, None, 0, NOW, callbacks)


def posts(far_url: str, n: int, start: int = 1) -> list[Record]:
    """``n`` JSON POSTs to the far side, each naming its record (path /r/<n>)."""
    return [request_record(i, {"method": "POST", "url": f"{far_url}/r/{i}",
                               "content_type": "application/json",
                               "body": json.dumps({"n": i})})
            for i in range(start, start + n)]
