"""A batch as a Twilio Sync Map item, and how large a batch may be so that the item fits.

Twilio limits an item's Data to 16 KiB (its JSON text). Data is
``{"b64","batch","first","last","n","v"}``: the batch bytes grow by a third in base64, and the
JSON around them adds the batch id and three numbers. :func:`max_batch_bytes` is the largest
batch that fits whatever the box id, outbox sequence numbers or record count."""

from __future__ import annotations

import base64
import json
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # sync.config imports this module: keep it light
    from ._ledger import Batch

MAX_DATA = 16 * 1024  # Twilio Sync: an item's Data, JSON, at most 16 KiB

# The widest a batch id and the numbers of Data can be: a 32-character box id (edge's limit),
# a 6-hex store epoch, the sink's name, and 64-bit sequence numbers; 100,000 records at most
# ([sync] batch_max_records).
_WIDEST_ID = "x" * 32 + ".xxxxxx.twilio." + "9" * 19
_WIDEST_SEQ = 2**63 - 1
_MOST_RECORDS = 100_000


def data_doc(batch_id: str, first: int, last: int, n: int, body: bytes) -> dict[str, Any]:
    return {"v": 1, "batch": batch_id, "first": first, "last": last, "n": n,
            "b64": base64.b64encode(body).decode()}


def _text(doc: dict[str, Any]) -> str:
    return json.dumps(doc, separators=(",", ":"), sort_keys=True)


def item_data(batch: Batch) -> str:
    """The item's Data: a JSON object carrying the batch bytes (deterministic per batch)."""
    return _text(data_doc(batch.batch_id, batch.first_seq, batch.last_seq, batch.records,
                          batch.body))


def max_batch_bytes() -> int:
    """The largest batch (bytes before base64) whose item Data stays within 16 KiB."""
    wrapper = len(_text(data_doc(_WIDEST_ID, _WIDEST_SEQ, _WIDEST_SEQ, _MOST_RECORDS, b"")))
    # base64 writes 4 characters for every 3 bytes (the last group padded).
    return (MAX_DATA - wrapper) // 4 * 3


def is_our_item(doc: Any, batch_id: str, data: str) -> bool:
    """Is ``doc`` (a create's 201 body or a fetched item) Twilio's item for this batch, holding
    exactly the Data we send?"""
    return (isinstance(doc, dict) and doc.get("key") == batch_id
            and doc.get("data") == json.loads(data))
