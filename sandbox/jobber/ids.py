"""Jobber's encoded ids: base64 of `gid://Jobber/<Type>/<number>` (api-facts E1), and the
opaque cursors of its Relay connections."""

import base64
import binascii

PREFIX = "gid://Jobber/"


def encode_id(kind: str, number: int) -> str:
    return base64.b64encode(f"{PREFIX}{kind}/{number}".encode()).decode()


def decode_id(value: str, kind: str | None = None) -> tuple[str, int] | None:
    """(type, number) of an encoded id; None when it is not one (or not of `kind`)."""
    try:
        text = base64.b64decode(value.encode(), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None
    if not text.startswith(PREFIX):
        return None
    found, _, number = text[len(PREFIX) :].partition("/")
    if not number.isdigit() or (kind is not None and found != kind):
        return None
    return found, int(number)


def encode_cursor(position: int) -> str:
    # Jobber's cursors are short base64 strings ("MQ" for the first row); ours carry the
    # row's primary key, so a page boundary stays put when rows are added before it.
    return base64.b64encode(str(position).encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> int | None:
    try:
        text = base64.b64decode(cursor + "=" * (-len(cursor) % 4), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None
    return int(text) if text.isdigit() else None
