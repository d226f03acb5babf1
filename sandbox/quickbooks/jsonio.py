"""JSON in and out with Decimal money: numbers parse as Decimal and are written as numbers."""

import json
from decimal import Decimal


class QboEncoder(json.JSONEncoder):
    def default(self, o):
        if isinstance(o, Decimal):
            # JSON has only one number type; QBO's own answers carry amounts as numbers.
            return float(o)
        return super().default(o)


class QboDecoder(json.JSONDecoder):
    def __init__(self, *args, **kwargs):
        kwargs["parse_float"] = Decimal
        super().__init__(*args, **kwargs)


def loads(text: str | bytes):
    return json.loads(text, parse_float=Decimal)


def dumps(value) -> str:
    return json.dumps(value, cls=QboEncoder)
