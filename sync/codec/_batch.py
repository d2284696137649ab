"""A batch: records grouped by kind and body shape, each group as columns, the header as
JSON followed by the binary part, compressed (sync/PROTOCOL.md, "Batch bytes")."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Sequence
from typing import Any

from edge.records import OutboxRow

from ._compression import compress, decompress
from ._cost import one_batch
from ._numbers import Scaled
from ._record import CodecError, Record
from ._search import encode_group, encode_ints, plan_of
from ._time import iso_ms, ms_iso
from .forms import BinaryPart, DecodeContext, Join, decode_column, place
from .forms._form import Budget

FORMAT_VERSION = 2
_READABLE = (1, 2)  # version 1 batches (sealed before an upgrade) still decode

# Envelope fields of each record travel as columns beside the body's keys.
_ENVELOPE = ("@seq", "@id", "@v", "@t")

# A group's shape: (kind, ((body key, value is None), ...) sorted, earlier version in batch).
_Shape = tuple[str, tuple[tuple[str, bool], ...], bool]
# An encoded group as a later one of the same kind may join it: kind, columns, numerics.
_Earlier = tuple[str, dict[str, list[Any]], dict[str, Scaled]]


def encode_batch(meta: dict[str, Any], records: Sequence[Record],
                 compression: str = "xz", plans: dict[Any, Any] | None = None) -> bytes:
    """The wire bytes of a batch (meta: box, batch, first, last). ``plans`` (a dict the caller
    keeps between batches) remembers each group's column forms so that the next batch applies
    them instead of searching again."""
    with one_batch():
        return _encode_batch(meta, _groups(records), records, compression, plans)


def _groups(records: Sequence[Record]) -> dict[_Shape, list[Record]]:
    groups: dict[_Shape, list[Record]] = {}
    shapes: dict[tuple[Any, ...], _Shape] = {}
    seen: set[str] = set()
    for rec in records:
        body = rec.body
        # A later version whose earlier one is in this batch goes apart from those whose
        # earlier one is not (a batch that starts in the middle of a call): the first kind
        # join their earlier rows, and one unmatched row would cost the whole group that.
        earlier = rec.id in seen
        seen.add(rec.id)
        # Bodies of one kind share their key order (canonical JSON): sorted once per layout.
        layout = (rec.kind, earlier, tuple(body), tuple([v is None for v in body.values()]))
        shape = shapes.get(layout)
        if shape is None:
            shape = shapes[layout] = (rec.kind, tuple((k, body[k] is None) for k in sorted(body)),
                                      earlier)
        groups.setdefault(shape, []).append(rec)
    return groups


def _batch_times(records: Sequence[Record]) -> dict[int, int] | None:
    """Every record's created time by seq, when all are millisecond stamps."""
    times = {}
    for rec in records:
        ms = iso_ms(rec.created_utc)
        if ms is None or ms_iso(ms) != rec.created_utc:
            return None
        times[rec.seq] = ms
    return times if len(times) == len(records) else None  # seqs are unique


def _find_join(kind: str, ids: list[str], earlier: list[_Earlier]) -> tuple[int, Join] | None:
    """The earlier group of this kind holding the most of these records' earlier versions."""
    best = None
    for index, (their_kind, columns, numerics) in enumerate(earlier):
        if their_kind != kind:
            continue
        join = Join.by_id(ids, columns, numerics)
        hits = sum(p >= 0 for p in join.positions)
        if hits and (best is None or hits > best[0]):
            best = (hits, index, join)
    return (best[1], best[2]) if best else None


def _encode_batch(meta: dict[str, Any], groups: dict[_Shape, list[Record]],
                  records: Sequence[Record], compression: str, plans: dict[Any, Any] | None
                  ) -> bytes:
    doc_groups = []
    earlier: list[_Earlier] = []
    binary = BinaryPart()
    times = _batch_times(records)
    doc: dict[str, Any] = {"v": FORMAT_VERSION, **meta, "n": len(records)}
    if times is not None:
        doc["t"] = place(encode_ints([times[s] for s in sorted(times)]), binary)
    for (kind, shape, _earlier), recs in groups.items():
        keys = [k for k, _ in shape]
        names = [*_ENVELOPE, *keys]
        bodies = [r.body for r in recs]
        columns: dict[str, list[Any]] = {
            "@seq": [r.seq for r in recs], "@id": [r.id for r in recs],
            "@v": [r.version for r in recs], "@t": [r.created_utc for r in recs]}
        for k in keys:
            columns[k] = [b[k] for b in bodies]
        found = _find_join(kind, [r.id for r in recs], earlier)
        group: dict[str, Any] = {"k": kind, "n": len(recs)}
        if found:
            group["j"] = found[0]
        plan_key = (kind, shape, found is not None, times is not None)
        encoded, numerics = encode_group(columns, names, found[1] if found else None, times,
                                         plans.get(plan_key) if plans is not None else None)
        if plans is not None:
            plans[plan_key] = plan_of(encoded)
        group["c"] = [[name, place(enc, binary)] for name, enc in encoded]
        doc_groups.append(group)
        earlier.append((kind, columns, numerics))
    doc["g"] = doc_groups
    text = json.dumps(doc, separators=(",", ":"), ensure_ascii=False).encode()
    return compress(len(text).to_bytes(4, "big") + text + bytes(binary.data), compression)


def decode_group(columns: list[list[Any]], ctx: DecodeContext) -> None:
    """Decodes ``[[name, encoding], ...]`` in order into ``ctx.values`` (and its numbers into
    ``ctx.numerics``); once ``@id`` is known, its rows are matched to the join's."""
    for name, enc in columns:
        ctx.values[name] = decode_column(name, enc, ctx)
        if name == "@id" and ctx.join is not None:
            where = {rid: pos for pos, rid in enumerate(ctx.join["@id"])}
            ctx.positions = [where.get(rid, -1) for rid in ctx.values["@id"]]


def decode_batch(data: bytes, *, max_size: int = 64 * 1024 * 1024,
                 max_rows: int | None = None, max_chars: int | None = None,
                 max_depth: int = 64) -> dict[str, Any]:
    """Inverse of :func:`encode_batch`; raises CodecError on anything malformed.

    A receiver facing untrusted boxes passes its limits: ``max_size`` bytes once
    decompressed, ``max_rows`` records, ``max_chars`` characters built while decoding,
    ``max_depth`` nesting of the JSON header. Each is checked before the work it bounds."""
    try:
        payload = decompress(data, max_size)
        size = int.from_bytes(payload[:4], "big")
        header = payload[4:4 + size]
        _check_depth(header, max_depth)
        doc = json.loads(header)
        blob = payload[4 + size:]
        if not isinstance(doc, dict) or doc.get("v") not in _READABLE:
            raise CodecError("not a batch of format 1 or 2")
        rows = [int(group["n"]) for group in doc["g"]]
        if any(n < 0 for n in rows) or (max_rows is not None and sum(rows) > max_rows):
            raise CodecError(f"batch of {sum(rows)} rows (at most {max_rows})")
        budget = Budget(max_chars) if max_chars is not None else None
        times = _decode_times(doc, blob)
        records: list[Record] = []
        decoded: list[DecodeContext] = []
        for group in doc["g"]:
            joined = decoded[group["j"]] if "j" in group else None
            ctx = DecodeContext(int(group["n"]), blob, joined.values if joined else None,
                                joined.numerics if joined else {}, times, budget=budget)
            decode_group(group["c"], ctx)
            decoded.append(ctx)
            cols = ctx.values
            kind = group["k"]
            keys = sorted(k for k in cols if not k.startswith("@"))
            records += [Record(seq, rid, version, kind, created,
                               dict(zip(keys, body, strict=False)))  # same length: built so
                        for seq, rid, version, created, *body in zip(
                            cols["@seq"], cols["@id"], cols["@v"], cols["@t"],
                            *(cols[k] for k in keys), strict=True)]
    except CodecError:
        raise
    except (ValueError, KeyError, TypeError, IndexError, AttributeError, StopIteration,
            ArithmeticError, RecursionError) as exc:
        raise CodecError(f"malformed batch: {type(exc).__name__}: {str(exc)[:100]}") from exc
    records.sort(key=lambda r: r.seq)
    if len(records) != doc.get("n"):
        raise CodecError("record count differs from the batch header")
    meta = {k: v for k, v in doc.items() if k not in ("g", "v", "n", "t")}
    return {"v": FORMAT_VERSION, **meta, "records": records}


_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"')
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")


def _check_depth(text: bytes, max_depth: int) -> None:
    """Refuse JSON nested deeper than ``max_depth`` before parsing it. Brackets inside
    strings do not count; the scan runs over the brackets alone."""
    brackets = _STRING.sub(b"", text).translate(None, _NOT_BRACKETS)
    if len(brackets) <= max_depth:
        return
    depth = 0
    for byte in brackets:
        depth += 1 if byte in (0x5B, 0x7B) else -1
        if depth > max_depth:
            raise CodecError(f"batch header nested deeper than {max_depth}")


def _decode_times(doc: dict[str, Any], blob: bytes) -> dict[int, int] | None:
    """The batch's time column by seq: each group's @seq first (it refers to nothing)."""
    if "t" not in doc:
        return None
    seqs: list[int] = []
    for group in doc["g"]:
        n = int(group["n"])
        encs = [enc for name, enc in group["c"] if name == "@seq"]
        if len(encs) != 1:
            raise CodecError("group without its @seq column")
        seqs += DecodeContext(n, blob).decode(encs[0], n)
    seqs.sort()
    ms = DecodeContext(len(seqs), blob).decode(doc["t"], len(seqs), 3)
    return dict(zip(seqs, ms, strict=True))


def batch_encoder(box_id: str, compression: str = "xz") -> Callable[..., bytes]:
    """``encode(rows, batch_id, callbacks=())`` for a sink's ledger."""

    plans: dict[Any, Any] = {}  # column forms of the last batch, by kind of group

    def encode(rows: Sequence[OutboxRow], batch_id: str,
               callbacks: Sequence[dict[str, str]] = ()) -> bytes:
        records = [Record(r.seq, r.record_id, r.version, r.kind, r.created_utc, r.data())
                   for r in rows]
        meta: dict[str, Any] = {"box": box_id, "batch": batch_id, "first": rows[0].seq,
                                "last": rows[-1].seq}
        if callbacks:  # raw numbers of pending callbacks, only when the deployment allows it
            meta["callbacks"] = [dict(c) for c in callbacks]
        data = encode_batch(meta, records, compression, plans)
        # Seal only what decodes back to the very records (a codec bug must not lose data).
        decoded = decode_batch(data)
        if decoded["records"] != records or decoded.get("callbacks") != meta.get("callbacks"):
            raise CodecError("batch does not decode to its records")
        return data

    return encode
