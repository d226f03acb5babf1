"""The SQL-like query language of QuickBooks Online, parsed into plain data.

Hand-written rather than built on a SQL parser: the grammar is tiny and not SQL (ORDERBY as
one word, STARTPOSITION/MAXRESULTS, backslash-escaped quotes, no OR), and a general SQL
parser would accept far more than QBO does. Grammar:

    SELECT * | COUNT(*) [, field]* FROM Entity
        [WHERE cond (AND cond)*] [ORDER BY | ORDERBY field [ASC|DESC]]
        [STARTPOSITION n] [MAXRESULTS n]
    cond := field (= | < | > | <= | >= | !=) value | field IN (value, ...) | field LIKE 'pattern'
"""

import re
from dataclasses import dataclass, field
from decimal import Decimal

DEFAULT_MAX_RESULTS = 100
MAX_RESULTS_LIMIT = 1000

_TOKEN = re.compile(
    r"""\s*(?:
        (?P<string>'(?:\\.|[^'\\])*')
      | (?P<number>-?\d+(?:\.\d+)?)
      | (?P<op><=|>=|!=|<>|=|<|>)
      | (?P<punct>[(),*])
      | (?P<word>[A-Za-z_][A-Za-z0-9_.]*)
    )""",
    re.VERBOSE,
)


class QuerySyntaxError(ValueError):
    pass


@dataclass(frozen=True)
class Condition:
    field: str
    op: str  # =, !=, <, >, <=, >=, in, like
    value: object  # str, Decimal, bool, or a tuple for IN


@dataclass(frozen=True)
class Query:
    entity: str
    count: bool = False
    conditions: tuple[Condition, ...] = ()
    order_by: str | None = None
    descending: bool = False
    start_position: int = 1
    max_results: int = DEFAULT_MAX_RESULTS
    extra_fields: tuple[str, ...] = field(default=())


def tokenize(text: str) -> list[tuple[str, str]]:
    tokens, position = [], 0
    text = text.strip().rstrip(";")
    while position < len(text):
        match = _TOKEN.match(text, position)
        if not match or match.end() == position:
            raise QuerySyntaxError(
                f"unexpected text at {position}: {text[position : position + 20]!r}"
            )
        kind = match.lastgroup
        tokens.append((kind, match.group(kind)))
        position = match.end()
    return tokens


def _value(kind: str, text: str) -> object:
    if kind == "string":
        return re.sub(r"\\(.)", r"\1", text[1:-1])
    if kind == "number":
        return Decimal(text)
    if kind == "word" and text.lower() in ("true", "false"):
        return text.lower() == "true"
    raise QuerySyntaxError(f"expected a value, got {text!r}")


class _Parser:
    def __init__(self, tokens: list[tuple[str, str]]):
        self.tokens, self.i = tokens, 0

    def peek(self) -> tuple[str, str] | None:
        return self.tokens[self.i] if self.i < len(self.tokens) else None

    def take(self) -> tuple[str, str]:
        token = self.peek()
        if token is None:
            raise QuerySyntaxError("the query ends too early")
        self.i += 1
        return token

    def keyword(self, *words: str) -> bool:
        token = self.peek()
        if token and token[0] == "word" and token[1].upper() in words:
            self.i += 1
            return True
        return False

    def expect_keyword(self, word: str) -> None:
        if not self.keyword(word):
            raise QuerySyntaxError(f"expected {word}, got {self.peek()}")

    def expect(self, text: str) -> None:
        _kind, got = self.take()
        if got != text:
            raise QuerySyntaxError(f"expected {text!r}, got {got!r}")

    def integer(self) -> int:
        kind, text = self.take()
        if kind != "number" or "." in text:
            raise QuerySyntaxError(f"expected a whole number, got {text!r}")
        return int(text)


def parse(text: str) -> Query:
    p = _Parser(tokenize(text))
    p.expect_keyword("SELECT")
    count, extra = False, []
    if p.keyword("COUNT"):
        p.expect("(")
        p.expect("*")
        p.expect(")")
        count = True
    else:
        p.expect("*")
    while p.peek() == ("punct", ","):
        p.take()
        kind, name = p.take()
        if kind != "word":
            raise QuerySyntaxError(f"expected a field name, got {name!r}")
        extra.append(name)
    p.expect_keyword("FROM")
    kind, entity = p.take()
    if kind != "word":
        raise QuerySyntaxError(f"expected an entity name, got {entity!r}")

    conditions = []
    if p.keyword("WHERE"):
        conditions.append(_condition(p))
        while p.keyword("AND"):
            conditions.append(_condition(p))
        if p.keyword("OR"):
            raise QuerySyntaxError("OR is not supported")

    order_by, descending = None, False
    if p.keyword("ORDERBY") or (p.keyword("ORDER") and (p.expect_keyword("BY") or True)):
        kind, order_by = p.take()
        if kind != "word":
            raise QuerySyntaxError(f"expected a field to order by, got {order_by!r}")
        if p.keyword("DESC"):
            descending = True
        else:
            p.keyword("ASC")

    start, maximum = 1, DEFAULT_MAX_RESULTS
    while p.peek() is not None:
        if p.keyword("STARTPOSITION"):
            start = p.integer()
        elif p.keyword("MAXRESULTS"):
            maximum = p.integer()
        else:
            raise QuerySyntaxError(f"unexpected {p.peek()[1]!r}")
    if start < 1:
        raise QuerySyntaxError("STARTPOSITION starts at 1")
    if not 1 <= maximum <= MAX_RESULTS_LIMIT:
        raise QuerySyntaxError(f"MAXRESULTS must be between 1 and {MAX_RESULTS_LIMIT}")
    return Query(
        entity, count, tuple(conditions), order_by, descending, start, maximum, tuple(extra)
    )


def _condition(p: _Parser) -> Condition:
    kind, name = p.take()
    if kind != "word":
        raise QuerySyntaxError(f"expected a field name, got {name!r}")
    if p.keyword("IN"):
        p.expect("(")
        values = [_value(*p.take())]
        while p.peek() == ("punct", ","):
            p.take()
            values.append(_value(*p.take()))
        p.expect(")")
        return Condition(name, "in", tuple(values))
    if p.keyword("LIKE"):
        kind, text = p.take()
        if kind != "string":
            raise QuerySyntaxError("LIKE needs a quoted pattern")
        return Condition(name, "like", _value(kind, text))
    kind, op = p.take()
    if kind != "op":
        raise QuerySyntaxError(f"expected an operator after {name}, got {op!r}")
    return Condition(name, "!=" if op == "<>" else op, _value(*p.take()))
