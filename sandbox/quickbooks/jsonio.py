"""JSON in and out with Decimal money: numbers parse as Decimal and are written as numbers.

The standard encoder can only write a Decimal by turning it into a float first, which
rounds large or long amounts. Here each Decimal is written as its exact digits instead:
`default` emits a marker string, and `encode` swaps every marker for the bare number. That
keeps the C encoder's speed (single reads and query pages are the emulator's hot path).
The marker carries a random tag chosen when the process starts; it never leaves the
process (every marker is replaced), so no client text can imitate it.
"""

import json
import re
import secrets
from decimal import Decimal

_TAG = f"qbo-decimal-{secrets.token_hex(8)}:"
_MARK = "\x00" + _TAG
_MARKED = re.compile(r'"\\u0000' + _TAG + r'(-?[0-9]+(?:\.[0-9]+)?)"')


class QboEncoder(json.JSONEncoder):
    def default(self, o: object) -> object:
        if isinstance(o, Decimal):
            if not o.is_finite():
                raise ValueError(f"{o} is not a JSON number")
            return _MARK + format(o, "f")
        return super().default(o)

    def encode(self, o) -> str:
        return _MARKED.sub(r"\1", super().encode(o))


class QboDecoder(json.JSONDecoder):
    def __init__(self, *args, **kwargs):
        kwargs["parse_float"] = Decimal
        super().__init__(*args, **kwargs)


def loads(text: str | bytes) -> object:
    return json.loads(text, parse_float=Decimal)


def dumps(value) -> str:
    return json.dumps(value, cls=QboEncoder)
