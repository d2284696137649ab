"""The search: each column of a group in its cheapest form (``_cost``), among the forms that
fit its values, the columns decoded before it, and the group's earlier versions.

Candidates are tried in a fixed order and the first of the cheapest wins, so the order below
is part of the wire format's bytes: keep it.
"""

from __future__ import annotations

from typing import Any

from ._cost import cheapest
from ._numbers import NumberKind, Scaled, as_numbers, only
from .forms import (
    BATCH_TIME,
    CONSTANT,
    DECIMALS,
    DELTAS,
    DURATION,
    EARLIER_VERSION,
    FORMS,
    HEX_BYTES,
    LITERAL,
    LOOKUP,
    OFFSET,
    PREFIX,
    RESIDUAL,
    STAMPS,
    SUFFIX,
    TOKENS,
    VARINTS,
    ApplyContext,
    Column,
    Encoding,
    Join,
    skeleton,
)

# Large groups: the cheapest form of each column is searched on the first rows only, then
# applied to the whole column (searched again only where it does not fit).
SAMPLE = 600  # measured: same bytes as a full search, 20-25% less time


def encode_ints(ints: list[int], depth: int = 0) -> Encoding:
    if not ints:
        return LITERAL.encode([])
    raw = CONSTANT.encode(ints) or VARINTS.encode(ints)
    if raw[0] == "c" or depth > 1 or len(ints) < 2:
        return raw  # deltas of deltas of deltas find nothing more
    candidates = [raw, DELTAS.encode(ints, SEARCH, depth)]
    offset = OFFSET.encode(ints)
    if offset is not None:
        candidates.append(offset)
    return cheapest(candidates)


def _wrap(kind: NumberKind, num: Scaled, sub: Encoding) -> Encoding:
    if kind == "int":
        return sub
    if kind == "float":
        return DECIMALS.wrap(num.scale, sub)
    return STAMPS.wrap(sub)


def encode_numbers(kind: NumberKind, num: Scaled, known: dict[str, Scaled]) -> Encoding:
    """Numbers alone, or as a difference from one column or two (``known``)."""
    candidates = [_wrap(kind, num, encode_ints(num.ints))]
    candidates += [_wrap(kind, num, r) for r in RESIDUAL.candidates(num, known, SEARCH)]
    if kind == "float":
        candidates += [_wrap(kind, num, q) for q in DURATION.candidates(num, known, SEARCH)]
    return cheapest(candidates)


def encode_strings(values: list[str], strings: dict[str, list[str]], depth: int = 0
                   ) -> Encoding:
    """``depth`` 0: a column that may refer to ``strings``; 1: the rest of one that does;
    2: a run of a tokenised one."""
    const = CONSTANT.encode(values)
    if const is not None:
        return const
    candidates: list[Encoding] = [LITERAL.encode(values)]
    if depth == 0:
        for name, ref in strings.items():
            for form in (SUFFIX, PREFIX):
                found = form.encode(values, name, ref, SEARCH)
                if found is not None:
                    candidates.append(found)
        candidates += LOOKUP.candidates(values, strings)
    if depth < 2:
        tokens = TOKENS.encode(values, SEARCH)
        if tokens is not None:
            candidates.append(tokens)
    hexed = HEX_BYTES.encode(values)
    if hexed is not None:
        candidates.append(hexed)
    return cheapest(candidates)


def encode_plain(values: list[Any]) -> Encoding:
    """A column with no references to others (the exceptions of a joined column)."""
    if not values:
        return LITERAL.encode([])
    const = CONSTANT.encode(values)
    if const is not None:
        return const
    numbers = as_numbers(values)
    if numbers is not None:
        return encode_numbers(numbers[0], numbers[1], {})
    if only(values, str):
        return encode_strings(values, {}, 1)
    return LITERAL.encode(values)


class _Search:
    """The search as forms see it (``forms.Search``): they nest encodings through it."""

    def ints(self, ints: list[int], depth: int = 0) -> Encoding:
        return encode_ints(ints, depth)

    def strings(self, values: list[str], references: dict[str, list[str]],
                depth: int = 0) -> Encoding:
        return encode_strings(values, references, depth)

    def plain(self, values: list[Any]) -> Encoding:
        return encode_plain(values)


SEARCH = _Search()


def _order(names: list[str], numeric: dict[str, tuple[NumberKind, Scaled] | None]) -> list[str]:
    # The record id first (joins need it); then coarse numbers before fine ones so that
    # finer ones can be residuals of them (e.g. a monotonic reading against a UTC stamp: the
    # box records both to the millisecond, so the residual is constant within a boot);
    # envelope before body.
    def rank(name: str) -> tuple[int, int, int, str]:
        entry = numeric[name]
        scale = entry[1].scale if entry else 99
        return (0 if name == "@id" else 1, scale, 0 if name.startswith("@") else 1, name)

    return sorted(names, key=rank)


def encode_group(columns: dict[str, list[Any]], names: list[str], join: Join | None,
                 times: dict[int, int] | None = None, cached: dict[str, Encoding] | None = None
                 ) -> tuple[list[list[Any]], dict[str, Scaled]]:
    """``[[name, encoding], ...]`` in decoding order, and the group's numeric columns (a
    later group of the same kind refers to them through a join). ``cached``: the plans of
    this kind of group in the previous batch."""
    plans: dict[str, Encoding] = {}
    if cached is not None:
        plans = cached
    elif len(columns[names[0]]) > 2 * SAMPLE:
        sample = {name: values[:SAMPLE] for name, values in columns.items()}
        plans = dict(encode_group(sample, names, join.head(SAMPLE) if join else None,
                                  times)[0])
    numeric = {name: as_numbers(values) for name, values in columns.items()}
    numerics: dict[str, Scaled] = join.references() if join else {}
    strings: dict[str, list[str]] = {}
    encoded = []
    for name in _order(names, numeric):
        values = columns[name]
        entry = numeric[name]
        if name == "@t" and times is not None and entry is not None and entry[0] == "stamp":
            # From the batch's time column (decoded before the groups).
            numerics[name] = entry[1]
            encoded.append([name, BATCH_TIME.encode()])
            continue
        column = Column(name, values, entry, only(values, str))
        # @seq stands alone: the decoder reads it first to place the batch's times.
        known = {} if name == "@seq" else numerics
        enc = CONSTANT.encode(values)
        if enc is None and name in plans:
            enc = apply_plan(plans[name], column, ApplyContext(
                SEARCH, known, {} if name == "@id" else strings, join))
        if enc is None:
            enc = _search(column, known, strings, join)
        # Only what the decoder can rebuild is a reference: a constant float or stamp is not.
        if entry is not None and (entry[0] == "int" or enc[0] in ("t", "f")):
            numerics[name] = entry[1]
        if column.strings:
            strings[name] = values
        encoded.append([name, enc])
    return encoded, {k: v for k, v in numerics.items() if not k.startswith("^")}


def apply_plan(plan: Encoding, column: Column, ctx: ApplyContext) -> Encoding | None:
    """The plan's forms fitted to the column's values; None where they do not fit."""
    return FORMS[plan[0]].apply_column(plan, column, ctx)


def _search(column: Column, known: dict[str, Scaled], strings: dict[str, list[str]],
            join: Join | None) -> Encoding:
    name, values = column.name, column.values
    if column.numbers is not None:
        enc = encode_numbers(column.numbers[0], column.numbers[1], known)
    elif column.strings:
        enc = encode_strings(values, {} if name == "@id" else strings)
    else:
        enc = LITERAL.encode(values)
    if join and name not in ("@id", "@seq"):
        joined = EARLIER_VERSION.encode(values, name, join, SEARCH)
        if joined is not None:
            enc = cheapest([enc, joined])
    return enc


def plan_of(encoded: list[list[Any]]) -> dict[str, Encoding]:
    """What a later batch keeps of this group's encodings: the forms, not the data."""
    return {name: skeleton(enc) for name, enc in encoded}
