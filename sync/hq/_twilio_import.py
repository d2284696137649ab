"""``edgecall hq import-twilio``: the batches boxes wrote into Twilio Sync Maps (sync/_twilio.py)
stored exactly once in HQ's database, as if they had been posted.

An item is ``{"key": <batch id>, "data": {"v": 1, "batch", "first", "last", "n", "b64"}}``
(sync/PROTOCOL.md, "Twilio Sync sink"). Items are read page by page (``PageSize`` 100,
``meta.next_page_url``); each batch is decoded within the receiver's limits, its records must
belong to the box its header names, and it is committed in one transaction keyed by batch id
and (record id, version): importing twice, or a batch that also came by HTTP, stores nothing
twice. With ``delete``, an item is deleted only after its batch is committed."""

from __future__ import annotations

import base64
import hashlib
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import requests

from edge.clock import format_utc

from ..codec import CodecError, decode_batch
from ._limits import BOX_ID, Limits, callbacks_ok, refuse_records
from .storage import Storage


class TwilioImportError(Exception):
    pass


@dataclass
class ImportReport:
    items: int = 0
    stored: int = 0
    duplicates: int = 0
    refused: int = 0
    deleted: int = 0
    new_records: int = 0
    problems: list[str] = field(default_factory=list)


def _batch_of(item: dict[str, Any], storage: Storage, limits: Limits
              ) -> tuple[str, str, bytes, dict[str, Any]]:
    """(box, batch id, bytes, decoded batch) of an item, or raises ValueError why not."""
    data = item.get("data")
    key = item.get("key")
    if not isinstance(data, dict) or data.get("v") != 1 or not isinstance(data.get("b64"), str):
        raise ValueError("not an edgecall batch item")
    if len(data["b64"]) > limits.max_body * 4 // 3 + 4:
        raise ValueError("batch too large")
    try:
        body = base64.b64decode(data["b64"], validate=True)
        batch = decode_batch(body, max_size=limits.max_decompressed, max_rows=limits.max_rows,
                             max_chars=limits.max_chars, max_depth=limits.max_depth)
    except (ValueError, CodecError) as exc:
        raise ValueError(f"malformed: {str(exc)[:160]}") from exc
    box, batch_id = batch.get("box"), batch.get("batch")
    if not isinstance(box, str) or not BOX_ID.fullmatch(box) or batch_id != key \
            or not isinstance(batch_id, str) or not batch_id.startswith(box + "."):
        raise ValueError("the item's key, batch and box do not agree")
    if not storage.box_keys(box, format_utc(time.time())):
        raise ValueError(f"box {box} is not enrolled at HQ")
    refused = refuse_records(box, batch["records"], limits)
    if refused is not None:
        raise ValueError(refused[1])
    if not callbacks_ok(box, batch.get("callbacks", [])):
        raise ValueError("malformed callbacks")
    return box, batch_id, body, batch


def import_twilio(storage: Storage, base_url: str, service_sid: str, key_sid: str,
                  key_secret: str, maps: list[str], delete: bool = False,
                  limits: Limits | None = None, session: requests.Session | None = None,
                  timeout_s: float = 30.0) -> ImportReport:
    limits = limits or Limits()
    session = session or requests.Session()
    session.auth = (key_sid, key_secret)
    base = base_url.rstrip("/") + f"/v1/Services/{quote(service_sid)}/Maps/"
    report = ImportReport()
    for map_name in maps:
        items_url = base + quote(map_name) + "/Items"
        url: str | None = items_url + "?PageSize=100"
        while url:
            page = _get(session, url, timeout_s)
            meta = page.get("meta") or {}
            url = meta.get("next_page_url") if isinstance(meta, dict) else None
            for item in page.get("items") or []:
                report.items += 1
                key = str(item.get("key", "?"))
                try:
                    box, batch_id, body, batch = _batch_of(item, storage, limits)
                except ValueError as exc:
                    report.refused += 1
                    report.problems.append(f"{map_name}/{key}: {exc}")
                    continue
                result = storage.store_batch(
                    box, batch_id, hashlib.sha256(body).hexdigest(), batch["records"], None,
                    0, format_utc(time.time()), batch.get("callbacks", []))
                report.new_records += result.new
                if result.status == "stored":
                    report.stored += 1
                else:
                    report.duplicates += 1
                if delete:  # only now: the batch is committed
                    gone = session.delete(items_url + "/" + quote(key, safe=""),
                                          timeout=timeout_s)
                    if gone.status_code in (200, 204, 404):
                        report.deleted += 1
                    else:
                        report.problems.append(f"{map_name}/{key}: delete HTTP "
                                               f"{gone.status_code}")
    return report


def _get(session: requests.Session, url: str, timeout_s: float) -> dict[str, Any]:
    try:
        response = session.get(url, timeout=timeout_s)
    except (requests.RequestException, OSError) as exc:
        raise TwilioImportError(f"cannot reach Twilio Sync: {exc}") from exc
    if response.status_code in (401, 403):
        raise TwilioImportError("Twilio refused the API key ([twilio] api_key_sid and "
                                "api_key_secret)")
    if response.status_code == 404:
        raise TwilioImportError(f"not found: {url.split('?')[0]} (service_sid or a Map name "
                                "is wrong)")
    if response.status_code != 200:
        raise TwilioImportError(f"Twilio Sync answered HTTP {response.status_code}")
    try:
        doc = response.json()
    except ValueError as exc:
        raise TwilioImportError("Twilio Sync answered something that is not JSON") from exc
    return doc if isinstance(doc, dict) else {}
