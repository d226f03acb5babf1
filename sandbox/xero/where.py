"""Xero's `where` filter: a small C#-like expression, parsed into a predicate on records.

Xero documents no grammar (api-facts C7, uncertain); this covers the forms integrators
use: `Name=="Acme"`, `Status!="DELETED"`, `Contact.ContactID==GUID("…")`, `Total>100`,
`Date>=DateTime(2026,01,01)`, `EmailAddress!=null`, `Name.Contains("x")`, `.StartsWith`,
`.EndsWith`, joined with AND/&&, OR/||, NOT/! and parentheses. String comparisons ignore
case, as Xero's do. Anything else is refused with the 400 Xero gives a bad filter.
"""

import re
from collections.abc import Callable
from datetime import date
from decimal import Decimal, InvalidOperation

from .formats import Invalid, parse_date

Predicate = Callable[[dict], bool]

_TOKEN = re.compile(
    r'\s*(?:(?P<string>"(?:[^"\\]|\\.)*")|(?P<number>-?\d+(?:\.\d+)?)'
    r"|(?P<op>==|!=|>=|<=|&&|\|\||[=<>!(),.])|(?P<word>[A-Za-z_][A-Za-z0-9_]*))"
)
_METHODS = {
    "contains": lambda field, arg: arg in field,
    "startswith": lambda field, arg: field.startswith(arg),
    "endswith": lambda field, arg: field.endswith(arg),
}


def _tokens(text: str) -> list[tuple[str, str]]:
    out, position = [], 0
    text = text.rstrip()
    while position < len(text):
        match = _TOKEN.match(text, position)
        if not match or match.end() == position:
            raise Invalid(f"Unable to parse the where clause near '{text[position:][:20]}'")
        kind = match.lastgroup or ""
        out.append((kind, match.group(kind)))
        position = match.end()
    return out


def _lookup(record: dict, path: list[str]) -> object:
    value: object = record
    for part in path:
        value = value.get(part) if isinstance(value, dict) else None
    return value


def _comparable(value: object, like: object) -> object:
    """The record's value in the type of the literal it is compared with."""
    if value is None or like is None:
        return value
    if isinstance(like, date):
        try:
            return parse_date(value)
        except Invalid:
            return None
    if isinstance(like, Decimal):
        try:
            return Decimal(str(value))
        except InvalidOperation:
            return None
    if isinstance(like, bool):
        return value if isinstance(value, bool) else str(value).lower() == "true"
    return str(value).lower()


_COMPARE = {
    "==": lambda a, b: a == b,
    "=": lambda a, b: a == b,
    "!=": lambda a, b: a != b,
    ">": lambda a, b: a is not None and a > b,
    "<": lambda a, b: a is not None and a < b,
    ">=": lambda a, b: a is not None and a >= b,
    "<=": lambda a, b: a is not None and a <= b,
}


class _Parser:
    def __init__(self, text: str) -> None:
        self.tokens = _tokens(text)
        self.at = 0

    def peek(self) -> tuple[str, str]:
        return self.tokens[self.at] if self.at < len(self.tokens) else ("end", "")

    def take(self, value: str | None = None) -> tuple[str, str]:
        token = self.peek()
        if token[0] == "end" or (value is not None and token[1].lower() != value.lower()):
            raise Invalid(f"Unable to parse the where clause: expected {value or 'more'}")
        self.at += 1
        return token

    def expression(self) -> Predicate:
        left = self.conjunction()
        while self.peek()[1].lower() in ("or", "||"):
            self.take()
            left = (lambda a, b: lambda r: a(r) or b(r))(left, self.conjunction())
        return left

    def conjunction(self) -> Predicate:
        left = self.factor()
        while self.peek()[1].lower() in ("and", "&&"):
            self.take()
            left = (lambda a, b: lambda r: a(r) and b(r))(left, self.factor())
        return left

    def factor(self) -> Predicate:
        if self.peek()[1].lower() in ("not", "!"):
            self.take()
            inner = self.factor()
            return lambda r: not inner(r)
        if self.peek()[1] == "(":
            self.take("(")
            inner = self.expression()
            self.take(")")
            return inner
        return self.comparison()

    def comparison(self) -> Predicate:
        kind, word = self.take()
        if kind != "word":
            raise Invalid(f"Unable to parse the where clause near '{word}'")
        path = [word]
        while self.peek()[1] == ".":
            self.take(".")
            path.append(self.take()[1])
        if path[-1].lower() in _METHODS and self.peek()[1] == "(":
            method, path = _METHODS[path[-1].lower()], path[:-1]
            self.take("(")
            argument = str(self.literal() or "").lower()
            self.take(")")
            return lambda r: (
                (v := _lookup(r, path)) is not None and method(str(v).lower(), argument)
            )
        operator = self.take()[1]
        if operator not in _COMPARE:
            raise Invalid(f"Unable to parse the where clause near '{operator}'")
        literal = self.literal()
        expected = literal.lower() if isinstance(literal, str) else literal
        compare = _COMPARE[operator]
        return lambda r: compare(_comparable(_lookup(r, path), literal), expected)

    def literal(self) -> object:
        kind, value = self.take()
        if kind == "string":
            return value[1:-1].replace('\\"', '"')
        if kind == "number":
            return Decimal(value)
        word = value.lower()
        if word == "null":
            return None
        if word in ("true", "false"):
            return word == "true"
        if word == "guid":
            self.take("(")
            inner = self.literal()
            self.take(")")
            return inner
        if word == "datetime":
            self.take("(")
            parts = [int(self.take()[1])]
            while self.peek()[1] == ",":
                self.take(",")
                parts.append(int(self.take()[1]))
            self.take(")")
            try:
                return date(*parts[:3])
            except (TypeError, ValueError) as error:
                raise Invalid("Unable to parse the where clause: bad DateTime") from error
        raise Invalid(f"Unable to parse the where clause near '{value}'")


def predicate(text: str) -> Predicate:
    """The filter a `where` parameter asks for (everything when it is empty)."""
    if not text.strip():
        return lambda record: True
    parser = _Parser(text)
    result = parser.expression()
    if parser.peek()[0] != "end":
        raise Invalid(f"Unable to parse the where clause near '{parser.peek()[1]}'")
    return result
