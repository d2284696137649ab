"""What every column form is: the interface, the registry by wire tag, and the contexts a
form is handed when it applies a plan or decodes.

An encoding is a JSON array whose first item is the form's one-letter tag, e.g.
``["d", ["c", 1]]``. While a batch is being encoded, int lists and bytes sit inside it
(``["v", [3, 1, 4]]``, ``["h", "p:", b"...", 10]``); placing moves them to the binary part
and leaves offsets (``["u", 0, 3]``): that is the wire form.

How a form proposes itself differs with what it needs, so it is not part of the interface:
each has an ``encode(...)`` that the search (``sync.codec._search``) calls with the values
and whatever the form refers to, returning the encoding or None where the form does not fit
(``candidates(...)`` where it tries every column it could refer to; ``wrap(...)`` for the
number forms that hold an int encoding). The interface is what the rest of the codec does
with an encoding whatever its form: apply its plan to new values, place it, keep its plan,
price it, decode it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, ClassVar, Protocol, TypeVar

from .._numbers import NumberKind, Scaled, only
from .._record import CodecError

if TYPE_CHECKING:
    from ._join import Join

Encoding = list[Any]


class Search(Protocol):
    """The search, as a form sees it when its encoding nests another."""

    def ints(self, ints: list[int], depth: int = 0) -> Encoding:
        """The cheapest encoding of an int list (``depth``: how deep in deltas already)."""
        ...

    def strings(self, values: list[str], references: dict[str, list[str]],
                depth: int = 0) -> Encoding:
        """The cheapest encoding of strings (depth 0: references to other columns allowed)."""
        ...

    def plain(self, values: list[Any]) -> Encoding:
        """The cheapest encoding that refers to no other column."""
        ...


@dataclass(frozen=True, slots=True)
class Column:
    """A column being encoded: its values and what they are as numbers."""

    name: str
    values: list[Any]
    numbers: tuple[NumberKind, Scaled] | None  # None: not a number column
    strings: bool  # every value is a str


@dataclass(frozen=True, slots=True)
class ApplyContext:
    """What a form needs to fit a kept plan to new values."""

    search: Search
    numerics: dict[str, Scaled]  # columns this one may be a difference from
    strings: dict[str, list[str]]  # string columns it may start with or be a prefix of
    join: Join | None  # the group's earlier versions
    scale: int = 0  # decimals of the ints being fitted

    def apply_ints(self, plan: Encoding, ints: list[int]) -> Encoding | None:
        return FORMS[plan[0]].apply_ints(plan, ints, self)

    def alone(self) -> ApplyContext:
        """For the parts of a string: plain ints, no references."""
        return replace(self, numerics={}, scale=0)


class Budget:
    """How many characters decoding may build in all. Every nested value list is counted
    as it is made, so a string built from others (suffix, tokens) was paid for by its
    parts: a small batch whose columns double each other stops here, not in memory."""

    def __init__(self, max_chars: int) -> None:
        self.left = max_chars

    def spend(self, values: list[Any]) -> None:
        cost = 8 * len(values)
        # Lists of ints cost rows only (bounded apart); literal lists live in the header.
        if values and type(values[0]) is str:
            try:
                cost += sum(map(len, values))  # all strings: at C speed
            except TypeError:
                cost += sum(len(v) for v in values if isinstance(v, str))
        self.left -= cost
        if self.left < 0:
            raise CodecError("batch decodes to more data than the receiver allows")


@dataclass(slots=True)
class DecodeContext:
    """A group being decoded: its columns so far (references look back at them)."""

    n: int
    blob: bytes  # the batch's binary part
    join: dict[str, list[Any]] | None = None  # the columns of the group named by "j"
    join_numerics: dict[str, Scaled] = field(default_factory=dict)
    times: dict[int, int] | None = None  # the batch time column, by seq
    positions: list[int] = field(default_factory=list)  # row of the join per row, or -1
    values: dict[str, list[Any]] = field(default_factory=dict)
    numerics: dict[str, Scaled] = field(default_factory=dict)
    budget: Budget | None = None  # shared by the batch's groups: what decoding may build

    def decode(self, enc: Encoding, n: int, scale: int = 0) -> list[Any]:
        """Values of a (nested) encoding; ``scale``: decimals of the column it is part of."""
        form = FORMS.get(enc[0])
        if form is None or not form.nestable:
            raise CodecError(f"unknown column form {enc[0]!r}")
        values = form.decode(enc, self, n, scale)
        if self.budget is not None:
            self.budget.spend(values)
        return values

    def reference(self, name: str) -> Scaled:
        """Column ``name`` as ints; ``^name`` is the joined group's, row matched by id."""
        if name.startswith("^"):
            theirs = self.join_numerics[name[1:]]
            if not self.positions or min(self.positions) < 0:
                raise CodecError("joined reference without a match for every row")
            return Scaled([theirs.ints[p] for p in self.positions], theirs.scale)
        return self.numerics[name]


class BinaryPart:
    """The bytes after the JSON header: int lists and hex strings, laid out as placed."""

    def __init__(self) -> None:
        self.data = bytearray()

    def add(self, data: bytes) -> int:
        """Appends; returns the offset the encoding points at."""
        offset = len(self.data)
        self.data += data
        return offset


class Form:
    """One column form. Subclasses set ``tag`` and override what differs from the defaults:
    ``decode`` always; ``apply_column`` / ``apply_ints`` / ``apply_strings`` where the form
    can be reused from a plan; the structural hooks where its encoding holds data."""

    tag: ClassVar[str]
    nested: ClassVar[tuple[int, ...]] = ()  # positions of the nested encodings
    nestable: ClassVar[bool] = True  # False: a whole column only, never inside another

    # -- structure: what the batch does with any encoding ----------------------------------
    def map_nested(self, enc: Encoding, fn: Callable[[Encoding], Any]) -> Encoding:
        return [fn(e) if i in self.nested else e for i, e in enumerate(enc)]

    def place(self, enc: Encoding, binary: BinaryPart) -> Encoding:
        """The wire encoding: data moved to the binary part."""
        return self.map_nested(enc, lambda sub: place(sub, binary))

    def skeleton(self, enc: Encoding) -> Encoding:
        """The plan kept for the next batch: the encoding without its data."""
        return self.map_nested(enc, skeleton)

    def binary_data(self, enc: Encoding) -> list[int] | bytes | None:
        """What placing would put in the binary part for this very node (not its nested
        ones), so that the cost model prices it apart from the JSON."""
        return None

    # -- applying a plan: None where the values do not fit (the column is searched again) --
    def apply_column(self, plan: Encoding, column: Column, ctx: ApplyContext) -> Encoding | None:
        if column.numbers is not None:
            kind, num = column.numbers
            return self.apply_ints(plan, num.ints, ctx) if kind == "int" else None
        if column.strings:
            return self.apply_strings(plan, column.values, ctx)
        return None

    def apply_ints(self, plan: Encoding, ints: list[int], ctx: ApplyContext) -> Encoding | None:
        return None

    def apply_strings(self, plan: Encoding, values: list[str], ctx: ApplyContext
                      ) -> Encoding | None:
        return None

    # -- decoding -------------------------------------------------------------------------
    def decode(self, enc: Encoding, ctx: DecodeContext, n: int, scale: int) -> list[Any]:
        raise NotImplementedError

    def decode_column(self, name: str, enc: Encoding, ctx: DecodeContext) -> list[Any]:
        """A whole column; one of ints becomes a reference for the columns after it."""
        values = ctx.decode(enc, ctx.n, 0)
        if values and only(values, int):
            ctx.numerics[name] = Scaled(values, 0)
        return values


FORMS: dict[str, Form] = {}
F = TypeVar("F", bound=Form)


def register(form: F) -> F:
    if form.tag in FORMS:
        raise ValueError(f"two forms with tag {form.tag!r}")
    FORMS[form.tag] = form
    return form


def place(enc: Encoding, binary: BinaryPart) -> Encoding:
    return FORMS[enc[0]].place(enc, binary)


def skeleton(enc: Encoding) -> Encoding:
    return FORMS[enc[0]].skeleton(enc)


def decode_column(name: str, enc: Encoding, ctx: DecodeContext) -> list[Any]:
    form = FORMS.get(enc[0])
    if form is None:
        raise CodecError(f"unknown column form {enc[0]!r}")
    return form.decode_column(name, enc, ctx)
