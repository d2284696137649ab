"""``["x", [col, ...], [[key..., value], ...]]``: strings looked up by the values of other
string columns (an answer's value is a function of its question and its keys)."""

from __future__ import annotations

from typing import Any

from ._form import ApplyContext, DecodeContext, Encoding, Form, register


def _table_limit(rows: int) -> int:
    return max(rows // 8, 4)  # a table near the size of the column saves nothing


class LookupForm(Form):
    tag = "x"

    def candidates(self, values: list[str], strings: dict[str, list[str]]) -> list[Encoding]:
        """Keyed by each pair of columns with few distinct values."""
        limit = _table_limit(len(values))
        names = [k for k, col in strings.items() if len(set(col)) <= limit]
        found = []
        for i, first in enumerate(names):
            for second in names[i + 1:]:
                lookup = self.encode(values, [first, second], strings)
                if lookup is not None:
                    found.append(lookup)
        return found

    def encode(self, values: list[str], keys: list[str], strings: dict[str, list[str]]
               ) -> Encoding | None:
        table: dict[tuple[str, ...], str] = {}
        limit = _table_limit(len(values))
        for i, value in enumerate(values):
            key = tuple(strings[k][i] for k in keys)
            known = table.setdefault(key, value)
            if known != value or len(table) > limit:
                return None
        return ["x", keys, [[*k, v] for k, v in table.items()]]

    def skeleton(self, enc: Encoding) -> Encoding:
        return ["x", enc[1], []]

    def apply_strings(self, plan: Encoding, values: list[str], ctx: ApplyContext
                      ) -> Encoding | None:
        if not all(k in ctx.strings for k in plan[1]):
            return None
        return self.encode(values, plan[1], ctx.strings)

    def decode(self, enc: Encoding, ctx: DecodeContext, n: int, scale: int) -> list[Any]:
        table = {tuple(row[:-1]): row[-1] for row in enc[2]}
        keys = [ctx.values[k] for k in enc[1]]
        return [table[tuple(k[i] for k in keys)] for i in range(n)]


LOOKUP = register(LookupForm())
