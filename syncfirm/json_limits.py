"""JSON from outside (API bodies, webhook bodies) checked before anything trusts it (pure).

Python's json module parses anything it is given: an array where an object was meant, a lone
UTF-16 surrogate ("\\ud800", which PostgreSQL and UTF-8 cannot hold), a NUL character (which
PostgreSQL text cannot hold), or thousands of nested brackets (a RecursionError deep in the
parser or in whatever walks the result). Each of those became a 500 somewhere later;
`load_json` turns them into one clear refusal up front.
"""

import json
import re

MAX_DEPTH = 32  # our deepest real payload (a QuickBooks notification) is 5 levels deep

# A JSON string, unrolled so that long strings are matched in linear time. One never closed
# runs to the end (a lone backslash there too): the match must not fail, or the search
# starts again at the next quote and scans to the end again, quadratic in the body. Such a
# body is not JSON anyway; json.loads says so.
_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*\\?(?:"|\Z)', re.DOTALL)
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")


class BadJson(ValueError):
    """The body is not JSON we accept; the message says why, for the caller to read."""


def nesting_depth(body: bytes) -> int:
    """How deep the brackets of `body` nest, without parsing it (strings skipped)."""
    depth = deepest = 0
    for byte in _STRING.sub(b"", body).translate(None, _NOT_BRACKETS):
        if byte in b"[{":
            depth += 1
            deepest = max(deepest, depth)
        else:
            depth -= 1
    return deepest


def _refuse_constant(name: str):
    raise BadJson(f"{name} is not a JSON number")


def _unstorable(value, path: str = "$") -> str:
    """Where a string (or key) of `value` holds a NUL or a lone surrogate, else ""."""
    if isinstance(value, str):
        if "\x00" in value:
            return f"{path} holds a NUL character"
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return f"{path} holds a lone UTF-16 surrogate (not a character)"
        return ""
    if isinstance(value, dict):
        items = value.items()
    elif isinstance(value, list):
        items = enumerate(value)
    else:
        return ""
    for key, item in items:
        where = f"{path}[{key}]" if isinstance(key, int) else f"{path}.{key!s:.40}"
        if isinstance(key, str) and (problem := _unstorable(key, f"a key in {path}")):
            return problem
        if problem := _unstorable(item, where):
            return problem
    return ""


def load_json(
    body: bytes, *, shapes: tuple[type, ...] = (dict,), max_depth: int = MAX_DEPTH
) -> dict | list:
    """`body` parsed, when it is UTF-8 JSON of one of `shapes`, nested at most `max_depth`
    deep, with no NUL, lone surrogate, NaN or Infinity; else BadJson saying which."""
    if nesting_depth(body) > max_depth:
        raise BadJson(f"nested deeper than {max_depth} levels")
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as error:
        raise BadJson(f"not UTF-8 (byte {error.start})") from error
    try:
        value = json.loads(text, parse_constant=_refuse_constant)
    except (ValueError, RecursionError) as error:
        raise BadJson(f"not JSON: {error}") from error
    if not isinstance(value, shapes):
        wanted = " or ".join("an object" if s is dict else "an array" for s in shapes)
        raise BadJson(f"expected {wanted}, not {type(value).__name__}")
    if problem := _unstorable(value):
        raise BadJson(problem)
    return value
