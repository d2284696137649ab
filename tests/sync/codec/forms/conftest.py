"""Column-form cases as data: ../testdata/forms/<form>.json holds a list of cases for the form
of sync/codec/forms/<form>.py, and test_<form>.py runs them (as tests/edge/survey/nodes does).

A case is a group of columns (``columns``, name -> values) of which ``column`` (default
``"x"``) is under test:

- ``encoded``: its encoding as the search finds it, before placing (int lists inline; the
  bytes of an ``"h"`` as hex text);
- ``wire`` (optional): ``{"encoding", "binary"}``, that encoding placed alone: the wire form
  and the bytes it adds to the binary part;
- every column then decodes back to its values, spelt the same;
- ``earlier`` (optional): the columns of an earlier group holding earlier versions of these
  records (``@id`` matches them), encoded and decoded first;
- ``batch_time`` (optional): the batch has a time column, made from ``@seq`` and ``@t``;
- ``apply`` (optional): ``{"columns", "fits", "encoded"}``: the plan kept from the first
  columns, applied to these: ``fits`` says whether the plan fitted the column (false: it was
  searched again, as if there were no plan), ``encoded`` is what came out; it decodes back
  too.

A case with ``error`` instead decodes ``wire`` (``rows`` rows, binary part ``binary``, the
ints of earlier columns ``numerics``: name -> [ints, scale]) and expects a CodecError whose
message contains ``error``.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from sync.codec import CodecError, _search
from sync.codec._batch import decode_group
from sync.codec._numbers import Scaled
from sync.codec._search import encode_group, plan_of
from sync.codec._time import iso_ms
from sync.codec.forms import (
    ApplyContext,
    BinaryPart,
    Column,
    DecodeContext,
    Encoding,
    Join,
    decode_column,
    place,
)

TESTDATA = Path(__file__).parents[1] / "testdata" / "forms"


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """test_<form>.py gets one test per case of testdata/forms/<form>.json."""
    if "case" in metafunc.fixturenames:
        form = Path(metafunc.module.__file__).stem.removeprefix("test_")
        cases = json.loads((TESTDATA / f"{form}.json").read_text(encoding="utf-8"))
        metafunc.parametrize("case", cases, ids=[c["description"] for c in cases])


@pytest.fixture
def run_case() -> Callable[[dict[str, Any]], None]:
    return _run_case


def as_json(enc: Any) -> Any:
    """An encoding as the case files spell it: bytes as hex text."""
    if isinstance(enc, bytes):
        return enc.hex()
    if isinstance(enc, list):
        return [as_json(e) for e in enc]
    return enc


def _spelt(values: Any) -> str:
    return json.dumps(values, ensure_ascii=False)  # 1, 1.0, true and -0.0 all differ


class _Group:
    """A group encoded as a batch would, then placed and decoded again."""

    encoded: list[list[Any]]
    numerics: dict[str, Scaled]
    decoded: DecodeContext

    def __init__(self, columns: dict[str, list[Any]], earlier: _Group | None,
                 batch_time: bool, plans: dict[str, Encoding] | None = None) -> None:
        self.columns = columns
        self.times = ({seq: ms for seq, t in zip(columns["@seq"], columns["@t"], strict=True)
                       if (ms := iso_ms(t)) is not None} if batch_time else None)
        join = (Join.by_id(columns["@id"], earlier.columns, earlier.numerics)
                if earlier else None)
        self.encoded, self.numerics = encode_group(columns, list(columns), join, self.times,
                                                   plans)
        binary = BinaryPart()
        wire = [[name, place(enc, binary)] for name, enc in self.encoded]
        self.decoded = DecodeContext(len(next(iter(columns.values()))), bytes(binary.data),
                                     earlier.decoded.values if earlier else None,
                                     earlier.decoded.numerics if earlier else {}, self.times)
        decode_group(wire, self.decoded)

    def encoding(self, name: str) -> Encoding:
        return dict(self.encoded)[name]


@contextmanager
def _fits(name: str) -> Iterator[list[bool]]:
    """Whether the plan of column ``name`` fitted, as the search's apply_plan answered."""
    answers: list[bool] = []
    apply_plan = _search.apply_plan

    def watched(plan: Encoding, column: Column, ctx: ApplyContext) -> Encoding | None:
        enc = apply_plan(plan, column, ctx)
        if column.name == name:
            answers.append(enc is not None)
        return enc

    _search.apply_plan = watched
    try:
        yield answers
    finally:
        _search.apply_plan = apply_plan


def compute(case: dict[str, Any]) -> dict[str, Any]:
    """What the codec makes of a case (the fields a case file expects)."""
    name = case.get("column", "x")
    earlier = _Group(case["earlier"], None, False) if "earlier" in case else None
    group = _Group(case["columns"], earlier, case.get("batch_time", False))
    out: dict[str, Any] = {"encoded": as_json(group.encoding(name))}
    if "wire" in case:
        binary = BinaryPart()
        out["wire"] = {"encoding": place(group.encoding(name), binary),
                       "binary": binary.data.hex()}
    if "apply" in case:
        plans = plan_of(group.encoded)
        columns = case["apply"]["columns"]
        with _fits(name) as answers:
            applied = _Group(columns, earlier, case.get("batch_time", False), plans)
        fresh = _Group(columns, earlier, case.get("batch_time", False))
        enc = applied.encoding(name)
        fits = answers == [True]  # (a constant column is caught before any plan: no answer)
        # Not fitting means searched again: the same as with no plan at all.
        assert fits or enc == fresh.encoding(name)
        out["apply"] = {"fits": fits, "encoded": as_json(enc)}
        out["decoded"] = [group.decoded.values, applied.decoded.values]
    else:
        out["decoded"] = [group.decoded.values]
    return out


def _run_error(case: dict[str, Any]) -> None:
    ctx = DecodeContext(case["rows"], bytes.fromhex(case.get("binary", "")))
    for ref, (ints, scale) in case.get("numerics", {}).items():
        ctx.numerics[ref] = Scaled(ints, scale)
    with pytest.raises(CodecError, match=case["error"]):
        decode_column("x", case["wire"], ctx)


def _run_case(case: dict[str, Any]) -> None:
    if "error" in case:
        _run_error(case)
        return
    got = compute(case)
    assert got["encoded"] == case["encoded"]
    if "wire" in case:
        assert got["wire"] == case["wire"]
    sources = [case["columns"]] + ([case["apply"]["columns"]] if "apply" in case else [])
    for decoded, columns in zip(got["decoded"], sources, strict=True):
        assert {k: _spelt(v) for k, v in decoded.items()} == {
            k: _spelt(v) for k, v in columns.items()}
    if "apply" in case:
        assert got["apply"] == {"fits": case["apply"]["fits"],
                                "encoded": case["apply"]["encoded"]}
