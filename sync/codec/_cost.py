"""The cost model: a cheap stand-in for the compressed size a column adds to the batch.

The JSON of an encoding is priced by zlib level 1, its int lists by the zlib size of their
varints (memoised per batch: the same list is priced once per candidate it appears in).
"""

from __future__ import annotations

import json
import threading
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from ._varints import unsigned_varints, zigzag_varints
from .forms import FORMS, Encoding

_memo = threading.local()  # per encode: compressed size of each int list, by identity


@contextmanager
def one_batch() -> Iterator[None]:
    """Int lists are priced once while one batch is encoded (ids are unique only so long)."""
    _memo.cache = {}
    try:
        yield
    finally:
        _memo.cache = None


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
        cost = len(zlib.compress(unsigned_varints(ints) if min(ints) >= 0
                                 else zigzag_varints(ints), 1))
    if cache is not None:
        cache[id(ints)] = (ints, cost)  # the list is kept so that its id stays unique
    return cost


def cost(enc: Encoding) -> int:
    binary = 0

    def strip(node: Encoding) -> Any:
        nonlocal binary
        form = FORMS[node[0]]
        data = form.binary_data(node)
        if data is None:
            return form.map_nested(node, strip)
        binary += len(data) if isinstance(data, bytes) else _int_cost(data)
        return node[0]

    text = json.dumps(strip(enc), separators=(",", ":")).encode()
    return len(zlib.compress(text, 1)) + binary


def cheapest(candidates: list[Encoding]) -> Encoding:
    """The first of the cheapest (the order of the candidates settles ties)."""
    if len(candidates) == 1:
        return candidates[0]
    return min(candidates, key=cost)
