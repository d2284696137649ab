"""A group's link to an earlier group of the batch holding earlier versions of its records
(used by the earlier-version form and the search that offers it)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .._numbers import Scaled


@dataclass
class Join:
    """Rows of an earlier group (same kind) holding an earlier version of a row's record."""

    columns: dict[str, list[Any]]
    numerics: dict[str, Scaled]  # the joined group's numeric references
    positions: list[int]  # per row of this group: the joined row, or -1

    @classmethod
    def by_id(cls, ids: list[str], columns: dict[str, list[Any]], numerics: dict[str, Scaled]
              ) -> Join:
        where = {rid: pos for pos, rid in enumerate(columns["@id"])}
        return cls(columns, numerics, [where.get(rid, -1) for rid in ids])

    def head(self, rows: int) -> Join:
        return Join(self.columns, self.numerics, self.positions[:rows])

    def references(self) -> dict[str, Scaled]:
        """The joined group's numbers as references ("^name") when every row has a match
        (an end-of-call record against its start: a duration instead of a date)."""
        if any(p < 0 for p in self.positions):
            return {}
        return {"^" + name: Scaled([num.ints[p] for p in self.positions], num.scale)
                for name, num in self.numerics.items()}
