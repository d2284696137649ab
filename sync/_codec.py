"""Batch wire format: outbox records as columns, each column in its cheapest lossless form,
then xz (or gzip, for receivers without lzma such as Node) over the JSON.

Why columns: a batch of answers repeats the same keys thousands of times and its values are
near-copies of each other (ids differing by a counter, timestamps seconds apart, a monotonic
reading that moves in step with the wall clock). Stored as columns and turned into deltas and
residuals, most of that becomes constants and small numbers that compress to almost nothing.
Every encoding is checked by decoding it again before a batch is sealed.

A decoded batch is ``{"v": 1, "box", "batch", "first", "last", "records": [...]}`` with each
record ``{"seq", "id", "version", "kind", "created_utc", "body"}`` (see sync/PROTOCOL.md).
"""

from __future__ import annotations

import gzip
import json
import lzma
import re
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from itertools import pairwise
from typing import Any

from edge.store import OutboxRow

FORMAT_VERSION = 1
COMPRESSIONS = ("xz", "gzip")

_XZ_MAGIC = b"\xfd7zXZ\x00"
_GZIP_MAGIC = b"\x1f\x8b"
# Preset 9's 64 MiB dictionary would cost a Pi ~700 MiB per compression; a batch is well
# under 1 MiB of JSON, so a 1 MiB dictionary loses nothing.
_XZ_FILTERS = [{"id": lzma.FILTER_LZMA2, "preset": 9 | lzma.PRESET_EXTREME, "dict_size": 1 << 20}]
_ISO_MS = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z")
_TOKENS = re.compile(r"\d+|\D+")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

# Envelope fields of each record travel as columns beside the body's keys.
_ENVELOPE = ("@seq", "@id", "@v", "@t")


class CodecError(ValueError):
    """Bytes that are not a batch of this format."""


@dataclass(frozen=True, slots=True)
class Record:
    seq: int
    id: str
    version: int
    kind: str
    created_utc: str
    body: dict[str, Any]

    def as_dict(self) -> dict[str, Any]:
        return {"seq": self.seq, "id": self.id, "version": self.version, "kind": self.kind,
                "created_utc": self.created_utc, "body": self.body}


# -- column encoding ------------------------------------------------------------------------
# A column's values become one of (JSON arrays, first item the form):
#   ["c", v]            every row has v
#   ["j", [v, ...]]     as they are
#   ["t", sub]          ISO-8601 millisecond UTC strings as epoch milliseconds (ints)
#   ["f", d, sub]       floats with <= d decimals as ints scaled by 10**d
#   ["d", sub]          ints as first value then differences
#   ["r", col, sub]     ints minus column col's ints (rescaled to this column's decimals)
#   ["s", col, sub]     strings that start with column col's value: the rest
#   ["p", col, sub]     strings that are a prefix of column col's value: their lengths
#   ["k", [sub, ...]]   strings of one digits/non-digits token shape: one column per token
# where sub is a nested column encoding of the derived values.


@dataclass
class _Numeric:
    ints: list[int]
    scale: int  # decimals: the values are ints / 10**scale


def _cost(enc: Any) -> int:
    # A cheap stand-in for the compressed size a column adds to the batch.
    return len(zlib.compress(json.dumps(enc, separators=(",", ":")).encode(), 6))


def _best(candidates: list[Any]) -> Any:
    if len(candidates) == 1:
        return candidates[0]
    return min(candidates, key=_cost)


def _const_or(values: list[Any], other: Any) -> Any:
    first = values[0]
    if all(type(v) is type(first) and v == first for v in values):
        return ["c", first]
    return other


def _enc_ints(ints: list[int], depth: int = 0) -> Any:
    raw = _const_or(ints, ["j", ints])
    if raw[0] == "c" or depth > 1 or len(ints) < 2:
        return raw
    deltas = [ints[0]] + [b - a for a, b in pairwise(ints)]
    return _best([raw, ["d", _enc_ints(deltas, depth + 1)]])


def _iso_ms(value: str) -> int | None:
    if not _ISO_MS.fullmatch(value):
        return None
    try:
        moment = datetime.strptime(value, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)
    except ValueError:
        return None
    delta = moment - _EPOCH
    return (delta.days * 86400 + delta.seconds) * 1000 + delta.microseconds // 1000


def _ms_iso(ms: int) -> str:
    seconds, millis = divmod(ms, 1000)
    moment = datetime.fromtimestamp(seconds, UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{millis:03d}Z"


def _decimals(value: float) -> int | None:
    text = repr(value)
    if "e" in text or "n" in text:  # exponent, nan, inf: leave as they are
        return None
    return len(text.split(".")[1]) if "." in text else 0


def _as_numeric(values: list[Any]) -> tuple[str, _Numeric] | None:
    first = values[0]
    if isinstance(first, bool) or first is None:
        return None
    if all(type(v) is int for v in values):
        return "i", _Numeric(values, 0)
    if all(type(v) is float for v in values):
        decimals = [_decimals(v) for v in values]
        if any(d is None for d in decimals):
            return None
        scale = max(d for d in decimals if d is not None)
        if scale > 9:
            return None
        ints = [round(v * 10**scale) for v in values]
        if any(i / 10**scale != v for i, v in zip(ints, values, strict=True)):
            return None
        return "f", _Numeric(ints, scale)
    if all(type(v) is str for v in values):
        ms = [_iso_ms(v) for v in values]
        if any(m is None for m in ms):
            return None
        ints = [m for m in ms if m is not None]
        if any(_ms_iso(i) != v for i, v in zip(ints, values, strict=True)):
            return None
        return "t", _Numeric(ints, 3)
    return None


def _wrap(form: str, num: _Numeric, sub: Any) -> Any:
    if form == "i":
        return sub
    if form == "f":
        return ["f", num.scale, sub]
    return ["t", sub]


def _enc_numeric(form: str, num: _Numeric, known: dict[str, _Numeric]) -> Any:
    candidates = [_wrap(form, num, _enc_ints(num.ints))]
    for name, ref in known.items():
        if ref.scale > num.scale or len(ref.ints) != len(num.ints):
            continue
        factor = 10 ** (num.scale - ref.scale)
        residual = [v - r * factor for v, r in zip(num.ints, ref.ints, strict=True)]
        candidates.append(_wrap(form, num, ["r", name, _enc_ints(residual)]))
    return _best(candidates)


def _enc_strings(values: list[str], strings: dict[str, list[str]], depth: int = 0) -> Any:
    candidates: list[Any] = [["j", values]]
    if depth == 0:
        for name, ref in strings.items():
            if all(v.startswith(r) for v, r in zip(values, ref, strict=True)):
                rest = [v[len(r):] for v, r in zip(values, ref, strict=True)]
                candidates.append(["s", name, _enc_strings(rest, {}, 1)])
            if all(r.startswith(v) for v, r in zip(values, ref, strict=True)):
                candidates.append(["p", name, _enc_ints([len(v) for v in values])])
    tokenised = [_TOKENS.findall(v) for v in values]
    shape = [t[0].isdigit() for t in tokenised[0]]
    same_shape = all(
        len(t) == len(shape) and all(tok.isdigit() == d for tok, d in zip(t, shape, strict=True))
        for t in tokenised
    )
    # Only canonical numbers ("7", not "007") survive the round trip through int.
    if depth < 2 and same_shape and all(
        tok == str(int(tok)) for t in tokenised for tok, d in zip(t, shape, strict=True) if d
    ):
        subs = []
        for i, digits in enumerate(shape):
            column = [t[i] for t in tokenised]
            if digits:
                subs.append(_enc_ints([int(tok) for tok in column]))
            else:
                subs.append(_const_or(column, ["j", column]))
        candidates.append(["k", subs])
    return _const_or(values, _best(candidates))


def _order(names: list[str], columns: dict[str, list[Any]]) -> list[str]:
    # Coarse numbers first so that finer ones can be residuals of them (a monotonic reading
    # in microseconds against a UTC stamp in milliseconds), envelope before body.
    def rank(name: str) -> tuple[int, int, str]:
        numeric = _as_numeric(columns[name])
        scale = numeric[1].scale if numeric else 99
        return (scale, 0 if name.startswith("@") else 1, name)

    return sorted(names, key=rank)


def _encode_group(rows: list[tuple[Any, ...]], names: list[str]) -> list[Any]:
    columns = {name: [row[i] for row in rows] for i, name in enumerate(names)}
    numerics: dict[str, _Numeric] = {}
    strings: dict[str, list[str]] = {}
    encoded = []
    for name in _order(names, columns):
        values = columns[name]
        const = _const_or(values, None)
        numeric = _as_numeric(values)
        if const is not None:
            enc = const
        elif numeric is not None:
            enc = _enc_numeric(numeric[0], numeric[1], numerics)
        elif all(type(v) is str for v in values):
            enc = _enc_strings(values, strings)
        else:
            enc = ["j", values]
        # Only what the decoder can rebuild is a reference: a constant float or stamp is not.
        if numeric is not None and (numeric[0] == "i" or enc[0] in ("t", "f")):
            numerics[name] = numeric[1]
        if all(type(v) is str for v in values):
            strings[name] = values
        encoded.append([name, enc])
    return encoded


# -- column decoding ------------------------------------------------------------------------


class _Ctx:
    def __init__(self, n: int) -> None:
        self.n = n
        self.values: dict[str, list[Any]] = {}
        self.numerics: dict[str, _Numeric] = {}


def _dec(enc: Any, ctx: _Ctx, scale: int = 0) -> list[Any]:
    form = enc[0]
    if form == "c":
        return [enc[1]] * ctx.n
    if form == "j":
        if len(enc[1]) != ctx.n:
            raise CodecError("column length differs from the group's")
        return list(enc[1])
    if form == "d":
        out, total = [], 0
        for i, d in enumerate(_dec(enc[1], ctx)):
            total = d if i == 0 else total + d
            out.append(total)
        return out
    if form == "r":
        ref = ctx.numerics[enc[1]]
        factor = 10 ** (scale - ref.scale)
        return [v + r * factor for v, r in zip(_dec(enc[2], ctx), ref.ints, strict=True)]
    if form == "s":
        return [r + v for r, v in zip(ctx.values[enc[1]], _dec(enc[2], ctx), strict=True)]
    if form == "p":
        return [r[:n] for r, n in zip(ctx.values[enc[1]], _dec(enc[2], ctx), strict=True)]
    if form == "k":
        parts = [_dec(sub, ctx) for sub in enc[1]]
        return ["".join(str(p[i]) for p in parts) for i in range(ctx.n)]
    raise CodecError(f"unknown column form {form!r}")


def _dec_column(name: str, enc: Any, ctx: _Ctx) -> list[Any]:
    form = enc[0]
    if form == "t":
        ints = _dec(enc[1], ctx, 3)
        ctx.numerics[name] = _Numeric(ints, 3)
        return [_ms_iso(i) for i in ints]
    if form == "f":
        scale = enc[1]
        ints = _dec(enc[2], ctx, scale)
        ctx.numerics[name] = _Numeric(ints, scale)
        return [i / 10**scale for i in ints]
    values = _dec(enc, ctx, 0)
    if values and all(type(v) is int for v in values):
        ctx.numerics[name] = _Numeric(values, 0)
    return values


# -- batches --------------------------------------------------------------------------------


def encode_batch(meta: dict[str, Any], records: Sequence[Record],
                 compression: str = "xz") -> bytes:
    """The wire bytes of a batch (meta: box, batch, first, last)."""
    groups: dict[tuple[Any, ...], list[Record]] = {}
    for rec in records:
        shape = (rec.kind, tuple((k, rec.body[k] is None) for k in sorted(rec.body)))
        groups.setdefault(shape, []).append(rec)
    doc_groups = []
    for (kind, shape), recs in groups.items():
        keys = [k for k, _ in shape]
        names = [*_ENVELOPE, *keys]
        rows = [(r.seq, r.id, r.version, r.created_utc, *(r.body[k] for k in keys)) for r in recs]
        doc_groups.append({"k": kind, "n": len(recs), "c": _encode_group(rows, names)})
    doc = {"v": FORMAT_VERSION, **meta, "n": len(records), "g": doc_groups}
    text = json.dumps(doc, separators=(",", ":"), ensure_ascii=False).encode()
    return compress(text, compression)


def compress(data: bytes, compression: str) -> bytes:
    if compression == "xz":
        return lzma.compress(data, format=lzma.FORMAT_XZ, check=lzma.CHECK_CRC32,
                             filters=_XZ_FILTERS)
    if compression == "gzip":
        return gzip.compress(data, compresslevel=9, mtime=0)
    if compression == "none":
        return data
    raise ValueError(f"unknown compression {compression!r}")


def decompress(data: bytes, max_size: int = 64 * 1024 * 1024) -> bytes:
    try:
        if data.startswith(_XZ_MAGIC):
            out = lzma.LZMADecompressor().decompress(data, max_length=max_size)
        elif data.startswith(_GZIP_MAGIC):
            out = zlib.decompressobj(wbits=31).decompress(data, max_size)
        elif data.startswith(b"{"):
            out = data
        else:
            raise CodecError("not an xz, gzip or JSON batch")
    except (lzma.LZMAError, zlib.error, EOFError) as exc:
        raise CodecError(f"cannot decompress: {exc}") from exc
    if len(out) >= max_size:
        raise CodecError("batch too large once decompressed")
    return out


def decode_batch(data: bytes) -> dict[str, Any]:
    """Inverse of :func:`encode_batch`; raises CodecError on anything malformed."""
    try:
        doc = json.loads(decompress(data))
        if doc.get("v") != FORMAT_VERSION:
            raise CodecError(f"unsupported batch format {doc.get('v')!r}")
        records: list[Record] = []
        for group in doc["g"]:
            ctx = _Ctx(int(group["n"]))
            for name, enc in group["c"]:
                ctx.values[name] = _dec_column(name, enc, ctx)
            cols = ctx.values
            for i in range(ctx.n):
                body = {k: v[i] for k, v in cols.items() if not k.startswith("@")}
                records.append(Record(cols["@seq"][i], cols["@id"][i], cols["@v"][i],
                                      group["k"], cols["@t"][i],
                                      dict(sorted(body.items()))))
    except CodecError:
        raise
    except (ValueError, KeyError, TypeError, IndexError, AttributeError) as exc:
        raise CodecError(f"malformed batch: {exc}") from exc
    records.sort(key=lambda r: r.seq)
    if len(records) != doc.get("n"):
        raise CodecError("record count differs from the batch header")
    meta = {k: v for k, v in doc.items() if k not in ("g", "v", "n")}
    return {"v": FORMAT_VERSION, **meta, "records": records}


def batch_encoder(box_id: str, compression: str = "xz"
                  ) -> Callable[[Sequence[OutboxRow], str], bytes]:
    """``encode(rows, batch_id)`` for a sink's ledger."""

    def encode(rows: Sequence[OutboxRow], batch_id: str) -> bytes:
        records = [Record(r.seq, r.record_id, r.version, r.kind, r.created_utc, r.data())
                   for r in rows]
        meta = {"box": box_id, "batch": batch_id, "first": rows[0].seq, "last": rows[-1].seq}
        data = encode_batch(meta, records, compression)
        # Seal only what decodes back to the very records (a codec bug must not lose data).
        if decode_batch(data)["records"] != records:
            raise CodecError("batch does not decode to its records")
        return data

    return encode
