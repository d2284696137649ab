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

import calendar
import gzip
import json
import lzma
import math
import re
import threading
import time
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from itertools import pairwise
from typing import Any

from edge.records import OutboxRow

FORMAT_VERSION = 2
_READABLE = (1, 2)  # version 1 batches (sealed before an upgrade) still decode
COMPRESSIONS = ("xz", "gzip")

_XZ_MAGIC = b"\xfd7zXZ\x00"
_GZIP_MAGIC = b"\x1f\x8b"
# Preset 9's 64 MiB dictionary would cost a Pi ~700 MiB per compression; a batch is well
# under 1 MiB of JSON, so a 1 MiB dictionary loses nothing.
# lc=1, pb=0: the binary part is varints with no 4-byte structure (measured: 2.5% smaller).
_XZ_FILTERS = [{"id": lzma.FILTER_LZMA2, "preset": 9 | lzma.PRESET_EXTREME, "dict_size": 1 << 20,
                "lc": 1, "lp": 0, "pb": 0}]
_ISO_MS = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z")
_HEX_TAIL = re.compile(r"[0-9a-f]*\Z")
_TOKENS = re.compile(r"\d+|\D+")

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
#   ["c", v]             every row has v
#   ["j", [v, ...]]      as they are
#   ["v", offset, n]     n ints, zigzag LEB128 varints at ``offset`` of the binary part
#   ["u", offset, n]     n ints >= 0, plain LEB128 varints (no zigzag)
#   ["t", sub]           ISO-8601 millisecond UTC strings as epoch milliseconds (ints)
#   ["f", d, sub]        floats with <= d decimals as ints scaled by 10**d
#   ["d", sub]           ints as first value then differences
#   ["b", base, sub]     ints as base + sub (a large offset with small variation)
#   ["r", col, sub]      ints minus column col's ints (rescaled to this column's decimals)
#   ["q", a, b, sub]     ints minus (column a - column b), rescaled (floor division when the
#                        columns have more decimals): a duration from an end and a start
#   ["s", col, sub]      strings that start with column col's value: the rest
#   ["p", col, sub]      strings that are a prefix of column col's value: their lengths
#   ["k", [sub, ...]]    strings of one digits/non-digits token shape: one column per token
#   ["x", [col, ...], [[key..., value], ...]]  strings looked up by the values of other
#                        string columns (an answer's value is a function of question and keys)
#   ["m", col, mask, rest]  mask (ints) 1: the value of column col in the joined group's row
#                        with the same record id (an earlier version of the record in this
#                        batch); 0: the next of ``rest`` (a column as long as the zeros)
#   ["h", prefix, off, n, size]  strings prefix + lowercase hex of ``size`` bytes, the bytes
#                        laid out at ``off`` of the binary part (pseudonyms: 10 bytes, not
#                        20 hex characters the compressor cannot pack to 4 bits each)
#   ["T"]                the record's created time from the batch's time column ("t" in the
#                        header: every record's @t in seq order, so a stamp costs its delta
#                        from the record before it, whatever group that one is in)
# where sub is a nested column encoding of the derived values, as long as the column.


@dataclass
class _Numeric:
    ints: list[int]
    scale: int  # decimals: the values are ints / 10**scale


def _zigzag_varints(ints: list[int]) -> bytes:
    return _uvarints([v * 2 if v >= 0 else -v * 2 - 1 for v in ints])


def _uvarints(ints: list[int]) -> bytes:
    """Plain LEB128 (no zigzag) for columns without negatives: 2000..9000 fits 2 bytes,
    where its zigzag (4000..18000) often needs 3."""
    if not ints or max(ints) < 0x80:
        return bytes(ints)
    out = bytearray()
    for u in ints:
        if u < 0x80:
            out.append(u)
        elif u < 0x4000:
            out += bytes(((u & 0x7F) | 0x80, u >> 7))
        else:
            while u >= 0x80:
                out.append((u & 0x7F) | 0x80)
                u >>= 7
            out.append(u)
    return bytes(out)


def _read_uvarints(blob: bytes, offset: int, n: int) -> list[int]:
    chunk = blob[offset:offset + n]
    if len(chunk) == n and (not chunk or max(chunk) < 0x80):
        return list(chunk)  # all one-byte values
    out = []
    pos = offset
    for _ in range(n):
        u = shift = 0
        while True:
            byte = blob[pos]
            pos += 1
            u |= (byte & 0x7F) << shift
            shift += 7
            if byte < 0x80:
                break
        out.append(u)
    return out


def _read_varints(blob: bytes, offset: int, n: int) -> list[int]:
    return [u >> 1 if not u & 1 else -(u >> 1) - 1 for u in _read_uvarints(blob, offset, n)]


# Where each form keeps its nested encodings (everything else is data or column names).
_SUBS = {"t": (1,), "f": (2,), "d": (1,), "b": (2,), "r": (2,), "q": (3,), "s": (2,), "p": (2,),
         "m": (2, 3)}


def _map_subs(enc: list[Any], fn: Callable[[Any], Any]) -> list[Any]:
    if enc[0] == "k":
        return ["k", [fn(sub) for sub in enc[1]]]
    positions = _SUBS.get(enc[0], ())
    return [fn(e) if i in positions else e for i, e in enumerate(enc)]


class _Blob:
    """Int lists are kept as Python lists while encoding and laid out at the end."""

    def __init__(self) -> None:
        self.parts = bytearray()

    def place(self, enc: list[Any]) -> list[Any]:
        if enc[0] == "v" and len(enc) == 2:
            offset = len(self.parts)
            if enc[1] and min(enc[1]) >= 0:
                self.parts += _uvarints(enc[1])
                return ["u", offset, len(enc[1])]
            self.parts += _zigzag_varints(enc[1])
            return ["v", offset, len(enc[1])]
        if enc[0] == "h" and len(enc) == 4:
            offset = len(self.parts)
            self.parts += enc[2]
            return ["h", enc[1], offset, len(enc[2]) // enc[3], enc[3]]
        return _map_subs(enc, self.place)


_memo = threading.local()  # per encode: compressed size of each int list, by identity


def _int_cost(ints: list[int]) -> int:
    cache: dict[int, tuple[list[int], int]] | None = getattr(_memo, "cache", None)
    if cache is not None and id(ints) in cache:
        return cache[id(ints)][1]
    # (The first value is left out: a delta list starts with an absolute value.)
    if len(ints) > 8 and max(max(ints[1:]), -min(ints[1:])) >= 1 << 31:
        # Large numbers (absolute stamps) lose against their deltas: priced high, without
        # spending time on their varints.
        cost = 8 * len(ints)
    else:
        cost = len(zlib.compress(_uvarints(ints) if min(ints) >= 0 else _zigzag_varints(ints), 1))
    if cache is not None:
        cache[id(ints)] = (ints, cost)  # the list is kept so that its id stays unique
    return cost


def _cost(enc: Any) -> int:
    # A cheap stand-in for the compressed size a column adds to the batch.
    int_cost = 0

    def strip(node: list[Any]) -> Any:
        nonlocal int_cost
        if node[0] == "v" and len(node) == 2:
            int_cost += _int_cost(node[1])
            return "v"
        if node[0] == "h" and len(node) == 4:
            int_cost += len(node[2])
            return "h"
        return _map_subs(node, strip)

    text = json.dumps(strip(enc), separators=(",", ":")).encode()
    return len(zlib.compress(text, 1)) + int_cost


def _best(candidates: list[Any]) -> Any:
    if len(candidates) == 1:
        return candidates[0]
    return min(candidates, key=_cost)


def _same(a: Any, b: Any) -> bool:
    """Equal and spelt the same in JSON (0.0 == -0.0 and 1 == 1.0 == True are not)."""
    if type(a) is not type(b) or a != b:
        return False
    return type(a) is not float or repr(a) == repr(b)


def _const_or(values: list[Any], other: Any) -> Any:
    first = values[0]
    # count() (C speed) rules most columns out; 1 == 1.0 == True, hence the type check.
    if values.count(first) != len(values) or len(set(map(type, values))) != 1:
        return other
    if type(first) is float and len(set(map(repr, values))) != 1:
        return other  # 0.0 and -0.0
    return ["c", first]


def _enc_ints(ints: list[int], depth: int = 0) -> Any:
    if not ints:
        return ["j", []]
    raw = _const_or(ints, ["v", ints])
    if raw[0] == "c" or depth > 1 or len(ints) < 2:
        return raw
    deltas = [ints[0]] + [b - a for a, b in pairwise(ints)]
    candidates = [raw, ["d", _enc_ints(deltas, depth + 1)]]
    low = min(ints)
    if low and max(ints) - low < 1 << 31:
        candidates.append(["b", low, ["v", [v - low for v in ints]]])
    return _best(candidates)


@lru_cache(maxsize=4096)
def _day_ms(day: str) -> int | None:
    """``YYYY-MM-DD`` as epoch milliseconds of its midnight (None: no such date)."""
    try:
        y, m, d = int(day[0:4]), int(day[5:7]), int(day[8:10])
        datetime(y, m, d)  # validates month and day
    except ValueError:
        return None
    return calendar.timegm((y, m, d, 0, 0, 0)) * 1000


@lru_cache(maxsize=1 << 16)  # stamps repeat: a record's own time is also its created time
def _iso_ms(value: str) -> int | None:
    if not _ISO_MS.fullmatch(value):
        return None
    day = _day_ms(value[:10])
    hour, minute, second = int(value[11:13]), int(value[14:16]), int(value[17:19])
    if day is None or hour > 23 or minute > 59 or second > 59:
        return None
    return day + ((hour * 60 + minute) * 60 + second) * 1000 + int(value[20:23])


@lru_cache(maxsize=4096)
def _ms_day(day: int) -> str:
    t = time.gmtime(day * 86400)
    return f"{t.tm_year:04d}-{t.tm_mon:02d}-{t.tm_mday:02d}T"


@lru_cache(maxsize=1 << 16)
def _ms_iso(ms: int) -> str:
    day, rest = divmod(ms, 86_400_000)
    seconds, millis = divmod(rest, 1000)
    minutes, second = divmod(seconds, 60)
    hour, minute = divmod(minutes, 60)
    return f"{_ms_day(day)}{hour:02d}:{minute:02d}:{second:02d}.{millis:03d}Z"


def _decimals(value: float) -> int | None:
    text = repr(value)
    if "e" in text or "n" in text:  # exponent, nan, inf: leave as they are
        return None
    return len(text.split(".")[1]) if "." in text else 0


def _only(values: list[Any], kind: type) -> bool:
    """Every value is of exactly this type (not a subclass: True is no int here)."""
    return set(map(type, values)) == {kind}


def _as_numeric(values: list[Any]) -> tuple[str, _Numeric] | None:
    first = values[0]
    if isinstance(first, bool) or first is None:
        return None
    if _only(values, int):
        return "i", _Numeric(values, 0)
    if _only(values, float):
        if 0.0 in values and any(v == 0 and math.copysign(1.0, v) < 0 for v in values):
            return None  # -0.0 would come back as 0.0
        # The decimals of the first rows usually are those of all: checked by the round trip
        # (as a list comparison, C speed); otherwise every value is looked at.
        head = [_decimals(v) for v in values[:64]]
        if any(d is None for d in head):
            return None
        scale = max(d for d in head if d is not None)
        factor = 10**scale
        try:
            ints = [round(v * factor) for v in values]
            fits = scale <= 9 and [i / factor for i in ints] == values
        except (OverflowError, ValueError):  # inf or nan after the first rows
            fits = False
        if not fits:
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
    if _only(values, str):
        if _iso_ms(first) is None:  # most text columns are not stamps: one look tells
            return None
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


def _rescale(ints: list[int], scale: int, to: int) -> list[int]:
    if to >= scale:
        return [i * 10 ** (to - scale) for i in ints]
    return [i // 10 ** (scale - to) for i in ints]


def _enc_numeric(form: str, num: _Numeric, known: dict[str, _Numeric]) -> Any:
    candidates = [_wrap(form, num, _enc_ints(num.ints))]
    for name, ref in known.items():
        if ref.scale > num.scale or len(ref.ints) != len(num.ints):
            continue
        factor = 10 ** (num.scale - ref.scale)
        residual = [v - r * factor for v, r in zip(num.ints, ref.ints, strict=True)]
        candidates.append(_wrap(form, num, ["r", name, _enc_ints(residual)]))
    if form == "f":
        fine = [(k, r) for k, r in known.items() if r.scale > 0 and len(r.ints) == len(num.ints)]
        for a, ra in fine:
            for b, rb in fine:
                if a == b or ra.scale != rb.scale:
                    continue
                diff = _rescale([x - y for x, y in zip(ra.ints, rb.ints, strict=True)],
                                ra.scale, num.scale)
                residual = [v - d for v, d in zip(num.ints, diff, strict=True)]
                if max(map(abs, residual)) * 100 < max(map(abs, num.ints)) + 1:
                    candidates.append(_wrap(form, num, ["q", a, b, _enc_ints(residual)]))
    return _best(candidates)


def _enc_strings(values: list[str], strings: dict[str, list[str]], depth: int = 0) -> Any:
    const = _const_or(values, None)
    if const is not None:
        return const
    candidates: list[Any] = [["j", values]]
    if depth == 0:
        for name, ref in strings.items():
            if all(v.startswith(r) for v, r in zip(values, ref, strict=True)):
                rest = [v[len(r):] for v, r in zip(values, ref, strict=True)]
                candidates.append(["s", name, _enc_strings(rest, {}, 1)])
            if all(r.startswith(v) for v, r in zip(values, ref, strict=True)):
                candidates.append(["p", name, _enc_ints([len(v) for v in values])])
        limit = max(len(values) // 8, 4)
        names = [k for k, col in strings.items() if len(set(col)) <= limit]
        for i, first in enumerate(names):
            for second in names[i + 1:]:
                lookup = _lookup(values, [first, second], strings)
                if lookup is not None:
                    candidates.append(lookup)
    tokenised = [_TOKENS.findall(v) for v in values]
    shape = [t[0].isdigit() for t in tokenised[0]]
    same_shape = all(
        len(t) == len(shape) and all(tok.isdigit() == d for tok, d in zip(t, shape, strict=True))
        for t in tokenised
    )
    # Only canonical numbers ("7", not "007") survive the round trip through int; a digit
    # token that never changes (a hex epoch's "062") stays text.
    positions = [[t[i] for t in tokenised] for i in range(len(shape))] if same_shape else []
    if depth < 2 and same_shape and all(
        not digits or len(set(column)) == 1 or all(tok == str(int(tok)) for tok in column)
        for digits, column in zip(shape, positions, strict=True)
    ):
        subs = []
        for digits, column in zip(shape, positions, strict=True):
            if digits and len(set(column)) > 1:
                subs.append(_enc_ints([int(tok) for tok in column]))
            else:
                subs.append(_const_or(column, ["j", column]))
        candidates.append(["k", subs])
    hexed = _hex_form(values)
    if hexed is not None:
        candidates.append(hexed)
    return _const_or(values, _best(candidates))


def _hex_form(values: list[str]) -> Any | None:
    """A common prefix then lowercase hex of one length (pseudonyms): the hex as bytes."""
    first = values[0]
    match = _HEX_TAIL.search(first)
    tail = len(match.group()) // 2 * 2 if match else 0
    if tail < 8:
        return None
    return _hex_with(values, first[:len(first) - tail], tail // 2)


def _hex_with(values: list[str], prefix: str, size: int) -> Any | None:
    start, width = len(prefix), len(prefix) + 2 * size
    if not all(len(v) == width and v.startswith(prefix) for v in values):
        return None
    digits = "".join([v[start:] for v in values])
    if not _HEX_TAIL.fullmatch(digits):  # bytes.fromhex would also take A-F and spaces
        return None
    return ["h", prefix, bytes.fromhex(digits), size]


def _lookup(values: list[str], keys: list[str], strings: dict[str, list[str]]) -> Any | None:
    table: dict[tuple[str, ...], str] = {}
    limit = max(len(values) // 8, 4)  # a table near the size of the column saves nothing
    for i, value in enumerate(values):
        key = tuple(strings[k][i] for k in keys)
        known = table.setdefault(key, value)
        if known != value or len(table) > limit:
            return None
    return ["x", keys, [[*k, v] for k, v in table.items()]]


def _enc_plain(values: list[Any]) -> Any:
    """A column with no references to others (the exceptions of a joined column)."""
    if not values:
        return ["j", []]
    const = _const_or(values, None)
    if const is not None:
        return const
    numeric = _as_numeric(values)
    if numeric is not None:
        return _enc_numeric(numeric[0], numeric[1], {})
    if _only(values, str):
        return _enc_strings(values, {}, 1)
    return ["j", values]


@dataclass
class _Join:
    """Rows of an earlier group (same kind) holding an earlier version of a row's record."""

    columns: dict[str, list[Any]]
    numerics: dict[str, _Numeric]  # the joined group's numeric references
    positions: list[int]  # per row of this group: the joined row, or -1

    def references(self) -> dict[str, _Numeric]:
        """The joined group's numbers as references ("^name") when every row has a match
        (an end-of-call record against its start: a duration instead of a date)."""
        if any(p < 0 for p in self.positions):
            return {}
        return {"^" + name: _Numeric([num.ints[p] for p in self.positions], num.scale)
                for name, num in self.numerics.items()}


def _enc_joined(values: list[Any], name: str, join: _Join) -> Any | None:
    theirs = join.columns.get(name)
    if theirs is None:
        return None
    mask, rest = [], []
    for value, pos in zip(values, join.positions, strict=True):
        same = pos >= 0 and _same(theirs[pos], value)
        mask.append(1 if same else 0)
        if not same:
            rest.append(value)
    if len(rest) * 2 > len(values):
        return None
    return ["m", name, _enc_ints(mask), _enc_plain(rest)]


def _order(names: list[str], numeric: dict[str, tuple[str, _Numeric] | None]) -> list[str]:
    # The record id first (joins need it); then coarse numbers before fine ones so that
    # finer ones can be residuals of them (e.g. a monotonic reading against a UTC stamp: the
    # box records both to the millisecond, so the residual is constant within a boot);
    # envelope before body.
    def rank(name: str) -> tuple[int, int, int, str]:
        entry = numeric[name]
        scale = entry[1].scale if entry else 99
        return (0 if name == "@id" else 1, scale, 0 if name.startswith("@") else 1, name)

    return sorted(names, key=rank)


# Large groups: the cheapest form of each column is searched on the first rows only, then
# applied to the whole column (searched again only where it does not fit).
_SAMPLE = 600  # measured: same bytes as a full search, 20-25% less time


def _apply_ints(plan: Any, ints: list[int], numerics: dict[str, _Numeric], scale: int
                ) -> Any | None:
    form = plan[0]
    if form in ("c", "v", "j"):
        return _enc_ints(ints) if form == "c" else ["v", ints]
    if form == "d":
        deltas = [ints[0]] + [b - a for a, b in pairwise(ints)]
        sub = _apply_ints(plan[1], deltas, numerics, scale)
        return None if sub is None else ["d", sub]
    if form == "b":
        low = min(ints)
        return ["b", low, ["v", [v - low for v in ints]]]
    if form == "r":
        ref = numerics.get(plan[1])
        if ref is None or ref.scale > scale or len(ref.ints) != len(ints):
            return None
        factor = 10 ** (scale - ref.scale)
        residual = [v - r * factor for v, r in zip(ints, ref.ints, strict=True)]
        sub = _apply_ints(plan[2], residual, numerics, scale)
        return None if sub is None else ["r", plan[1], sub]
    if form == "q":
        a, b = numerics.get(plan[1]), numerics.get(plan[2])
        if a is None or b is None or a.scale != b.scale or len(a.ints) != len(ints):
            return None
        diff = _rescale([x - y for x, y in zip(a.ints, b.ints, strict=True)], a.scale, scale)
        residual = [v - d for v, d in zip(ints, diff, strict=True)]
        sub = _apply_ints(plan[3], residual, numerics, scale)
        return None if sub is None else ["q", plan[1], plan[2], sub]
    return None


def _apply_strings(plan: Any, values: list[str], strings: dict[str, list[str]]) -> Any | None:
    form = plan[0]
    if form == "j":
        return ["j", values]
    if form == "s":
        ref = strings.get(plan[1])
        if ref is None or not all(v.startswith(r) for v, r in zip(values, ref, strict=True)):
            return None
        return ["s", plan[1], _enc_strings([v[len(r):] for v, r in zip(values, ref, strict=True)],
                                           {}, 1)]
    if form == "p":
        ref = strings.get(plan[1])
        if ref is None or not all(r.startswith(v) for v, r in zip(values, ref, strict=True)):
            return None
        return ["p", plan[1], _enc_ints([len(v) for v in values])]
    if form == "x":
        if not all(k in strings for k in plan[1]):
            return None
        return _lookup(values, plan[1], strings)
    if form == "h":
        return _hex_with(values, plan[1], plan[3])
    if form == "k":
        tokenised = [_TOKENS.findall(v) for v in values]
        subs_plan = plan[1]
        if any(len(t) != len(subs_plan) for t in tokenised):
            return None
        subs = []
        for i, sub in enumerate(subs_plan):
            column = [t[i] for t in tokenised]
            if sub[0] == "c" and isinstance(sub[1], str):
                if any(tok != sub[1] for tok in column):
                    return None
                subs.append(sub)
            elif sub[0] == "j":
                if any(tok.isdigit() != column[0].isdigit() for tok in column):
                    return None
                subs.append(_const_or(column, ["j", column]))
            else:
                if not all(tok.isdigit() and tok == str(int(tok)) for tok in column):
                    return None
                applied = _apply_ints(sub, [int(tok) for tok in column], {}, 0)
                if applied is None:
                    return None
                subs.append(applied)
        return ["k", subs]
    return None


def _apply(plan: Any, name: str, values: list[Any], entry: tuple[str, _Numeric] | None,
           numerics: dict[str, _Numeric], strings: dict[str, list[str]], join: _Join | None
           ) -> Any | None:
    form = plan[0]
    if form == "c":
        return None  # not constant after all (constants are caught before)
    if form == "m":
        return _enc_joined(values, name, join) if join else None
    if entry is not None:
        kind, num = entry
        if form == "t" and kind == "t":
            sub = _apply_ints(plan[1], num.ints, numerics, 3)
            return None if sub is None else ["t", sub]
        if form == "f" and kind == "f" and plan[1] == num.scale:
            sub = _apply_ints(plan[2], num.ints, numerics, num.scale)
            return None if sub is None else ["f", plan[1], sub]
        if kind == "i":
            return _apply_ints(plan, num.ints, numerics, 0)
        return None
    if _only(values, str):
        return _apply_strings(plan, values, {} if name == "@id" else strings)
    return ["j", values] if form == "j" else None


def _skeleton(enc: Any) -> Any:
    """A column's encoding without its data: the plan kept for the next batch."""
    if enc[0] == "v" and len(enc) == 2:
        return ["v", []]
    if enc[0] == "j":
        return ["j", []]
    if enc[0] == "h":
        return ["h", enc[1], b"", enc[3]]
    if enc[0] == "x":
        return ["x", enc[1], []]
    return _map_subs(enc, _skeleton)


def _encode_group(columns: dict[str, list[Any]], names: list[str], join: _Join | None,
                  times: dict[int, int] | None = None, cached: dict[str, Any] | None = None
                  ) -> tuple[list[Any], dict[str, _Numeric]]:
    plans: dict[str, Any] = {}
    if cached is not None:  # the forms found for this kind of group in the previous batch
        plans = cached
    elif len(columns["@seq"]) > 2 * _SAMPLE:
        head = _Join(join.columns, join.numerics, join.positions[:_SAMPLE]) if join else None
        sample = {name: values[:_SAMPLE] for name, values in columns.items()}
        plans = dict(_encode_group(sample, names, head, times)[0])
    numeric = {name: _as_numeric(values) for name, values in columns.items()}
    numerics: dict[str, _Numeric] = join.references() if join else {}
    strings: dict[str, list[str]] = {}
    encoded = []
    for name in _order(names, numeric):
        values = columns[name]
        entry = numeric[name]
        if name == "@t" and times is not None and entry is not None and entry[0] == "t":
            # From the batch's time column (decoded before the groups).
            numerics[name] = entry[1]
            encoded.append([name, ["T"]])
            continue
        # @seq stands alone: the decoder reads it first to place the batch's times.
        known = {} if name == "@seq" else numerics
        const = _const_or(values, None)
        planned = None
        if const is None and name in plans:
            planned = _apply(plans[name], name, values, entry, known, strings, join)
        if const is not None:
            enc = const
        elif planned is not None:
            enc = planned
        else:
            if entry is not None:
                enc = _enc_numeric(entry[0], entry[1], known)
            elif _only(values, str):
                enc = _enc_strings(values, {} if name == "@id" else strings)
            else:
                enc = ["j", values]
            joined = (_enc_joined(values, name, join)
                      if join and name not in ("@id", "@seq") else None)
            if joined is not None:
                enc = _best([enc, joined])
        # Only what the decoder can rebuild is a reference: a constant float or stamp is not.
        if entry is not None and (entry[0] == "i" or enc[0] in ("t", "f")):
            numerics[name] = entry[1]
        if _only(values, str):
            strings[name] = values
        encoded.append([name, enc])
    return encoded, {k: v for k, v in numerics.items() if not k.startswith("^")}


# -- column decoding ------------------------------------------------------------------------


class _Ctx:
    def __init__(self, n: int, blob: bytes, join: dict[str, list[Any]] | None,
                 join_numerics: dict[str, _Numeric] | None = None,
                 times: dict[int, int] | None = None) -> None:
        self.n = n
        self.blob = blob
        self.join = join
        self.join_numerics = join_numerics or {}
        self.times = times
        self.positions: list[int] = []
        self.values: dict[str, list[Any]] = {}
        self.numerics: dict[str, _Numeric] = {}

    def reference(self, name: str) -> _Numeric:
        if name.startswith("^"):
            theirs = self.join_numerics[name[1:]]
            if not self.positions or min(self.positions) < 0:
                raise CodecError("joined reference without a match for every row")
            return _Numeric([theirs.ints[p] for p in self.positions], theirs.scale)
        return self.numerics[name]


def _dec(enc: Any, ctx: _Ctx, n: int, scale: int = 0) -> list[Any]:
    form = enc[0]
    if form == "c":
        return [enc[1]] * n
    if form == "j":
        if len(enc[1]) != n:
            raise CodecError("column length differs from the group's")
        return list(enc[1])
    if form == "v":
        if enc[2] != n:
            raise CodecError("column length differs from the group's")
        return _read_varints(ctx.blob, enc[1], n)
    if form == "u":
        if enc[2] != n:
            raise CodecError("column length differs from the group's")
        return _read_uvarints(ctx.blob, enc[1], n)
    if form == "d":
        out, total = [], 0
        for i, d in enumerate(_dec(enc[1], ctx, n)):
            total = d if i == 0 else total + d
            out.append(total)
        return out
    if form == "b":
        return [enc[1] + v for v in _dec(enc[2], ctx, n)]
    if form == "r":
        ref = ctx.reference(enc[1])
        factor = 10 ** (scale - ref.scale)
        return [v + r * factor for v, r in zip(_dec(enc[2], ctx, n), ref.ints, strict=True)]
    if form == "q":
        a, b = ctx.reference(enc[1]), ctx.reference(enc[2])
        if a.scale != b.scale:
            raise CodecError("difference of columns with different decimals")
        diff = _rescale([x - y for x, y in zip(a.ints, b.ints, strict=True)], a.scale, scale)
        return [v + d for v, d in zip(_dec(enc[3], ctx, n), diff, strict=True)]
    if form == "s":
        return [r + v for r, v in zip(ctx.values[enc[1]], _dec(enc[2], ctx, n), strict=True)]
    if form == "p":
        return [r[:k] for r, k in zip(ctx.values[enc[1]], _dec(enc[2], ctx, n), strict=True)]
    if form == "k":
        parts = [[str(v) for v in _dec(sub, ctx, n)] for sub in enc[1]]
        return ["".join(row) for row in zip(*parts, strict=True)] if parts else [""] * n
    if form == "t":  # nested (the exceptions of a joined column); top level: _dec_column
        return [_ms_iso(i) for i in _dec(enc[1], ctx, n, 3)]
    if form == "f":
        return [i / 10 ** enc[1] for i in _dec(enc[2], ctx, n, enc[1])]
    if form == "h":
        prefix, off, count, size = enc[1], enc[2], enc[3], enc[4]
        if count != n or size < 1:
            raise CodecError("column length differs from the group's")
        digits = ctx.blob[off:off + n * size].hex()
        if len(digits) != 2 * n * size:
            raise CodecError("hex column runs past the binary part")
        step = 2 * size
        return [prefix + digits[i:i + step] for i in range(0, len(digits), step)]
    if form == "x":
        table = {tuple(row[:-1]): row[-1] for row in enc[2]}
        keys = [ctx.values[k] for k in enc[1]]
        return [table[tuple(k[i] for k in keys)] for i in range(n)]
    if form == "m":
        if ctx.join is None:
            raise CodecError("joined column in a group without a join")
        theirs = ctx.join[enc[1]]
        mask = _dec(enc[2], ctx, n)
        rest = iter(_dec(enc[3], ctx, mask.count(0)))
        return [theirs[ctx.positions[i]] if m else next(rest) for i, m in enumerate(mask)]
    raise CodecError(f"unknown column form {form!r}")


def _dec_column(name: str, enc: Any, ctx: _Ctx) -> list[Any]:
    form = enc[0]
    if form == "T":
        if ctx.times is None or "@seq" not in ctx.values:
            raise CodecError("batch time column missing")
        ints = [ctx.times[s] for s in ctx.values["@seq"]]
        ctx.numerics[name] = _Numeric(ints, 3)
        return [_ms_iso(i) for i in ints]
    if form == "t":
        ints = _dec(enc[1], ctx, ctx.n, 3)
        ctx.numerics[name] = _Numeric(ints, 3)
        return [_ms_iso(i) for i in ints]
    if form == "f":
        scale = enc[1]
        ints = _dec(enc[2], ctx, ctx.n, scale)
        ctx.numerics[name] = _Numeric(ints, scale)
        return [i / 10**scale for i in ints]
    values = _dec(enc, ctx, ctx.n, 0)
    if values and _only(values, int):
        ctx.numerics[name] = _Numeric(values, 0)
    return values


# -- batches --------------------------------------------------------------------------------


def _find_join(kind: str, ids: list[str],
               earlier: list[tuple[str, dict[str, list[Any]], dict[str, _Numeric]]]
               ) -> tuple[int, _Join] | None:
    best = None
    for index, (their_kind, columns, numerics) in enumerate(earlier):
        if their_kind != kind:
            continue
        where = {rid: pos for pos, rid in enumerate(columns["@id"])}
        positions = [where.get(rid, -1) for rid in ids]
        hits = sum(p >= 0 for p in positions)
        if hits and (best is None or hits > best[0]):
            best = (hits, index, _Join(columns, numerics, positions))
    return (best[1], best[2]) if best else None


def encode_batch(meta: dict[str, Any], records: Sequence[Record],
                 compression: str = "xz", plans: dict[Any, Any] | None = None) -> bytes:
    """The wire bytes of a batch (meta: box, batch, first, last). ``plans`` (a dict the caller
    keeps between batches) remembers each group's column forms so that the next batch applies
    them instead of searching again."""
    groups: dict[tuple[Any, ...], list[Record]] = {}
    shapes: dict[tuple[Any, ...], tuple[Any, ...]] = {}
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
    _memo.cache = {}
    try:
        return _encode_batch(meta, groups, records, compression, plans)
    finally:
        _memo.cache = None


def _batch_times(records: Sequence[Record]) -> dict[int, int] | None:
    """Every record's created time by seq, when all are millisecond stamps."""
    times = {}
    for rec in records:
        ms = _iso_ms(rec.created_utc)
        if ms is None or _ms_iso(ms) != rec.created_utc:
            return None
        times[rec.seq] = ms
    return times if len(times) == len(records) else None  # seqs are unique


def _encode_batch(meta: dict[str, Any], groups: dict[tuple[Any, ...], list[Record]],
                  records: Sequence[Record], compression: str, plans: dict[Any, Any] | None
                  ) -> bytes:
    doc_groups = []
    earlier: list[tuple[str, dict[str, list[Any]], dict[str, _Numeric]]] = []
    blob = _Blob()
    times = _batch_times(records)
    doc: dict[str, Any] = {"v": FORMAT_VERSION, **meta, "n": len(records)}
    if times is not None:
        doc["t"] = blob.place(_enc_ints([times[s] for s in sorted(times)]))
    for (kind, shape, _earlier), recs in groups.items():
        keys = [k for k, _ in shape]
        names = [*_ENVELOPE, *keys]
        bodies = [r.body for r in recs]
        columns = {"@seq": [r.seq for r in recs], "@id": [r.id for r in recs],
                   "@v": [r.version for r in recs], "@t": [r.created_utc for r in recs]}
        for k in keys:
            columns[k] = [b[k] for b in bodies]
        found = _find_join(kind, [r.id for r in recs], earlier)
        group: dict[str, Any] = {"k": kind, "n": len(recs)}
        if found:
            group["j"] = found[0]
        plan_key = (kind, shape, found is not None, times is not None)
        encoded, numerics = _encode_group(columns, names, found[1] if found else None, times,
                                          plans.get(plan_key) if plans is not None else None)
        if plans is not None:
            plans[plan_key] = {name: _skeleton(enc) for name, enc in encoded}
        group["c"] = [[name, blob.place(enc)] for name, enc in encoded]
        doc_groups.append(group)
        earlier.append((kind, columns, numerics))
    doc["g"] = doc_groups
    text = json.dumps(doc, separators=(",", ":"), ensure_ascii=False).encode()
    return compress(len(text).to_bytes(4, "big") + text + bytes(blob.parts), compression)


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
        else:
            raise CodecError("not an xz or gzip batch")
    except (lzma.LZMAError, zlib.error, EOFError) as exc:
        raise CodecError(f"cannot decompress: {exc}") from exc
    if len(out) >= max_size:
        raise CodecError("batch too large once decompressed")
    return out


def decode_batch(data: bytes) -> dict[str, Any]:
    """Inverse of :func:`encode_batch`; raises CodecError on anything malformed."""
    try:
        payload = decompress(data)
        size = int.from_bytes(payload[:4], "big")
        doc = json.loads(payload[4:4 + size])
        blob = payload[4 + size:]
        if not isinstance(doc, dict) or doc.get("v") not in _READABLE:
            raise CodecError("not a batch of format 1 or 2")
        times = _decode_times(doc, blob)
        records: list[Record] = []
        decoded: list[dict[str, list[Any]]] = []
        decoded_numerics: list[dict[str, _Numeric]] = []
        for group in doc["g"]:
            join = decoded[group["j"]] if "j" in group else None
            ctx = _Ctx(int(group["n"]), blob, join,
                       decoded_numerics[group["j"]] if "j" in group else None, times)
            for name, enc in group["c"]:
                ctx.values[name] = _dec_column(name, enc, ctx)
                if name == "@id" and join is not None:
                    where = {rid: pos for pos, rid in enumerate(join["@id"])}
                    ctx.positions = [where.get(rid, -1) for rid in ctx.values["@id"]]
            cols = ctx.values
            decoded.append(cols)
            decoded_numerics.append(ctx.numerics)
            kind = group["k"]
            keys = sorted(k for k in cols if not k.startswith("@"))
            records += [Record(seq, rid, version, kind, created,
                               dict(zip(keys, body, strict=False)))  # same length: built so
                        for seq, rid, version, created, *body in zip(
                            cols["@seq"], cols["@id"], cols["@v"], cols["@t"],
                            *(cols[k] for k in keys), strict=True)]
    except CodecError:
        raise
    except (ValueError, KeyError, TypeError, IndexError, AttributeError,
            StopIteration) as exc:
        raise CodecError(f"malformed batch: {exc}") from exc
    records.sort(key=lambda r: r.seq)
    if len(records) != doc.get("n"):
        raise CodecError("record count differs from the batch header")
    meta = {k: v for k, v in doc.items() if k not in ("g", "v", "n", "t")}
    return {"v": FORMAT_VERSION, **meta, "records": records}


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
        seqs += _dec(encs[0], _Ctx(n, blob, None), n)
    seqs.sort()
    ms = _dec(doc["t"], _Ctx(len(seqs), blob, None), len(seqs), 3)
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
