"""What a receiver accepts from a box, checked before the work each limit bounds: headers
are parsed strictly (ASCII digits only: ``int("²")`` raises), sizes before reading, rows and
depth before decoding, ids and sizes of records before storing."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from edge.records import canonical_json

from ..codec import Record

BOX_ID = re.compile(r"[A-Za-z0-9_-]{1,32}")  # as [box] id allows
BATCH_ID = re.compile(r"[A-Za-z0-9_.-]{1,160}")
SIGNATURE = re.compile(r"v1=[0-9a-f]{64}")
KIND = re.compile(r"[a-z][a-z0-9_]{0,31}")
INT64 = 2**63 - 1
# A recording's reference: ``<call id>/<state>[-<visit>][~n].wav`` (edge/store/_recordings).
AUDIO_REFERENCE = re.compile(r"[A-Za-z0-9_-]{1,32}\.[A-Za-z0-9_.-]{1,120}/[A-Za-z0-9_~-]{1,120}"
                             r"\.wav")
SHA256 = re.compile(r"[0-9a-f]{64}")
AUDIO_FORMAT = re.compile(r"[a-z0-9_./-]{1,64}")


@dataclass(frozen=True)
class Limits:
    max_body: int = 4 * 1024 * 1024  # bytes on the wire (the box allows up to 4 MiB)
    max_decompressed: int = 16 * 1024 * 1024
    max_rows: int = 100_000  # the box's batch_max_records allows at most this
    max_chars: int = 64 * 1024 * 1024  # characters decoding may build in all
    max_record_bytes: int = 64 * 1024  # one record's body as canonical JSON
    max_depth: int = 32  # JSON nesting of the batch header
    max_heartbeat: int = 16 * 1024
    max_audio_bytes: int = 16 * 1024 * 1024  # one recording's link copy (~4.9 h of Opus)
    body_timeout_s: float = 60.0  # longest wait for the next bytes of a body (GPRS)


def digits(text: str | None, upper: int) -> int | None:
    """A header's non-negative decimal value, None unless it is 1..19 ASCII digits <= upper."""
    if text is None or not re.fullmatch(r"[0-9]{1,19}", text):
        return None
    value = int(text)
    return value if value <= upper else None


def _ints_ok(value: Any, depth: int = 0) -> bool:
    """Every int inside ``value`` fits in 64 bits (readers and databases take no more)."""
    kind = type(value)
    if kind is int:
        return -INT64 - 1 <= value <= INT64
    if kind is list or kind is dict:
        if depth > 32:
            return False
        items = value.values() if kind is dict else value
        return all(_ints_ok(v, depth + 1) for v in items)
    return True


def owned(box: str, record_id: Any) -> bool:
    """Record ids begin with the id of the box that made them (``<box>.<epoch>...``);
    box ids have no dot, so the prefix is exact."""
    return isinstance(record_id, str) and record_id.startswith(box + ".")


def refuse_records(box: str, records: list[Record], limits: Limits,
                   bodies: list[str] | None = None) -> tuple[int, str] | None:
    """(status, reason) when a decoded batch must be refused, else None. A box may only
    send records of its own ids (and answers, attempts and jobs only of its own calls).
    ``bodies``: the records' canonical JSON, when the caller has it (it is stored too)."""
    prefix = box + "."
    if bodies is None:
        bodies = [canonical_json(r.body) for r in records]
    for r, text in zip(records, bodies, strict=True):
        rid = r.id
        if not rid.startswith(prefix):
            return 422, f"record {rid!r} does not belong to box {box}"
        body = r.body
        for field in ("id", "call", "job"):
            value = body.get(field)
            if value is not None and not (type(value) is str and value.startswith(prefix)):
                return 422, f"record {rid!r}: {field} {value!r} is not box {box}'s"
        if len(rid) > 300 or len(r.created_utc) > 40 or not KIND.fullmatch(r.kind):
            return 400, f"record {rid[:80]!r}: malformed kind, id or time"
        if type(r.version) is not int or type(r.seq) is not int \
                or not (1 <= r.version <= INT64 and 0 <= r.seq <= INT64):
            return 400, f"record {rid!r}: version or seq out of range"
        for value in body.values():
            kind = type(value)
            if (kind is int and not -INT64 - 1 <= value <= INT64) or (
                    (kind is list or kind is dict) and not _ints_ok(value)):
                return 400, f"record {rid!r}: a number is out of range"
        if len(text) > limits.max_record_bytes:  # characters <= bytes: checked exactly below
            size = len(text.encode())
            if size > limits.max_record_bytes:
                return 413, (f"record {rid!r} is {size} bytes (at most "
                             f"{limits.max_record_bytes})")
    return None


def callbacks_ok(box: str, callbacks: Any) -> bool:
    return isinstance(callbacks, list) and len(callbacks) <= 10_000 and all(
        isinstance(c, dict) and all(isinstance(c.get(k), str) and len(c[k]) <= 100
                                    for k in ("call", "number", "requested_utc"))
        and owned(box, c["call"])
        for c in callbacks)
