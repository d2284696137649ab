"""The part of XLSForm's expressions (XPath) a phone survey can run, as edgecall split tests.

Skip logic (``relevant``) becomes OR of ANDs of tests (one split, a condition per AND), so
``${a} = 'yes' and (${b} > 2 or selected(${c}, 'x'))`` works. A numeric ``constraint`` on
``.`` becomes the question's min and max. Anything else is refused with the row.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from edge.survey.nodes.split import negate

_TOKEN = re.compile(r"""\s*(?:
    (?P<ref>\$\{\s*(?P<name>[A-Za-z_][\w.-]*)\s*\})
  | (?P<str>'[^']*'|"[^"]*")
  | (?P<num>-?\d+(?:\.\d+)?)
  | (?P<op>!=|>=|<=|=|>|<)
  | (?P<word>[A-Za-z][\w-]*)
  | (?P<dot>\.)
  | (?P<punct>[(),])
)""", re.VERBOSE)

_COMPARE = {"=": "equal_to", "!=": "not_equal_to", ">": "greater_than", "<": "less_than",
            ">=": "greater_than_or_equal_to", "<=": "less_than_or_equal_to"}
_FLIP = {"=": "=", "!=": "!=", ">": "<", "<": ">", ">=": "<=", "<=": ">="}
MAX_BRANCHES = 16


class ExpressionError(Exception):
    pass


@dataclass(frozen=True)
class Test:
    field: str  # the question it reads ("." for the question itself)
    op: str
    value: str


Conjunction = tuple[Test, ...]


def _tokens(text: str) -> list[tuple[str, str]]:
    tokens, pos = [], 0
    text = text.strip()
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if not match or match.end() == pos:
            raise ExpressionError(f"cannot read {text[pos:pos + 20]!r}")
        pos = match.end()
        kind = match.lastgroup
        if kind == "name":
            kind = "ref"
        value = match.group("name") if match.group("ref") else match.group(kind)
        tokens.append((kind, value))
    return tokens


class _Parser:
    """Recursive descent: or > and > comparison/function; a result is a list of
    conjunctions (disjunctive normal form)."""

    def __init__(self, text: str, multiple: set[str]) -> None:
        self.tokens = _tokens(text)
        self.pos = 0
        self.multiple = multiple  # select_multiple fields: their values are space-separated

    def peek(self) -> tuple[str, str] | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def take(self, kind: str, value: str | None = None) -> str:
        token = self.peek()
        if token is None or token[0] != kind or (value is not None and token[1] != value):
            got = "the end" if token is None else repr(token[1])
            raise ExpressionError(f"expected {value or kind}, found {got}")
        self.pos += 1
        return token[1]

    def parse(self) -> list[Conjunction]:
        result = self.disjunction()
        if self.peek() is not None:
            raise ExpressionError(f"unexpected {self.peek()[1]!r}")  # type: ignore[index]
        return result

    def disjunction(self) -> list[Conjunction]:
        branches = self.conjunction()
        while self.peek() == ("word", "or"):
            self.pos += 1
            branches = branches + self.conjunction()
        return _limit(branches)

    def conjunction(self) -> list[Conjunction]:
        branches = self.atom()
        while self.peek() == ("word", "and"):
            self.pos += 1
            right = self.atom()
            branches = _limit([a + b for a in branches for b in right])
        return branches

    def atom(self) -> list[Conjunction]:
        token = self.peek()
        if token == ("punct", "("):
            self.pos += 1
            inner = self.disjunction()
            self.take("punct", ")")
            return inner
        if token and token[0] == "word" and token[1] in ("not", "selected", "regex", "true",
                                                         "false"):
            return self.function(token[1])
        return [(self.comparison(),)]

    def function(self, name: str) -> list[Conjunction]:
        self.pos += 1
        self.take("punct", "(")
        if name in ("true", "false"):
            self.take("punct", ")")
            return [()] if name == "true" else []
        if name == "not":
            inner = self.disjunction()
            self.take("punct", ")")
            return _negate(inner)
        field = self.operand_field()
        self.take("punct", ",")
        value = self.literal()
        self.take("punct", ")")
        if name == "regex":
            return [(Test(field, "regex", value),)]
        if field in self.multiple:  # selected() on a select_multiple: one of its words
            return [(Test(field, "regex", rf"(^| ){re.escape(value)}( |$)"),)]
        return [(Test(field, "equal_to", value),)]

    def operand_field(self) -> str:
        token = self.peek()
        if token and token[0] == "ref":
            self.pos += 1
            return token[1]
        if token and token[0] == "dot":
            self.pos += 1
            return "."
        raise ExpressionError("expected ${name} or .")

    def literal(self) -> str:
        token = self.peek()
        if token and token[0] == "str":
            self.pos += 1
            return token[1][1:-1]
        if token and token[0] == "num":
            self.pos += 1
            return token[1]
        raise ExpressionError("expected a 'text' or a number")

    def comparison(self) -> Test:
        token = self.peek()
        if token and token[0] in ("ref", "dot"):
            field = self.operand_field()
            op = self.take("op")
            value = self.literal()
        elif token and token[0] in ("str", "num"):
            value = self.literal()
            op = _FLIP[self.take("op")]
            field = self.operand_field()
        else:
            raise ExpressionError(f"expected a comparison, found "
                                  f"{'the end' if token is None else repr(token[1])}")
        if value == "" and op in ("=", "!="):
            return Test(field, "is_blank" if op == "=" else "is_not_blank", "")
        return Test(field, _COMPARE[op], value)


def _limit(branches: list[Conjunction]) -> list[Conjunction]:
    if len(branches) > MAX_BRANCHES:
        raise ExpressionError(f"too many alternatives (more than {MAX_BRANCHES}) to check on "
                              "a phone; split it over several questions")
    return branches


def _negate(branches: list[Conjunction]) -> list[Conjunction]:
    """not(A or B) = not A and not B; not(a and b) = not a or not b."""
    result: list[Conjunction] = [()]
    for conjunction in branches:
        options = []
        for test in conjunction:
            op = negate(test.op)
            if op is None:
                raise ExpressionError(f"not(...) of {test.op} cannot be checked on a phone")
            options.append(Test(test.field, op, test.value))
        if not options:  # not(true)
            return []
        result = _limit([(*r, o) for r in result for o in options])
    return result


def skip_logic(text: str, multiple: set[str]) -> list[Conjunction]:
    """``relevant`` as OR of ANDs of tests. ``[()]`` is always; ``[]`` never."""
    return _Parser(text, multiple).parse()


def number_range(text: str, decimals: bool) -> tuple[float | None, float | None]:
    """``. >= 1 and . <= 30`` -> (1, 30); a strict bound moves by one for whole numbers."""
    branches = _Parser(text, set()).parse()
    if len(branches) != 1 or any(t.field != "." for t in branches[0]):
        raise ExpressionError("only limits on the answer itself can be checked on a phone, "
                              "like . >= 1 and . <= 30")
    low = high = None
    step = 0 if decimals else 1
    for test in branches[0]:
        try:
            value = float(test.value)
        except ValueError as exc:
            raise ExpressionError(f"{test.value!r} is not a number") from exc
        if test.op in ("greater_than_or_equal_to", "greater_than"):
            if test.op == "greater_than" and decimals:
                raise ExpressionError("a decimal's lower limit must be >=")
            bound = value + (step if test.op == "greater_than" else 0)
            low = bound if low is None else max(low, bound)
        elif test.op in ("less_than_or_equal_to", "less_than"):
            if test.op == "less_than" and decimals:
                raise ExpressionError("a decimal's upper limit must be <=")
            bound = value - (step if test.op == "less_than" else 0)
            high = bound if high is None else min(high, bound)
        else:
            raise ExpressionError(f"{test.op} of the answer cannot be checked on a phone; "
                                  "give limits like . >= 1 and . <= 30")
    return low, high
