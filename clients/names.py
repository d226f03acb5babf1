"""Names that end up in email headers (a client's or a firm's name in a subject line).

A header cannot hold a line break: Python's email package refuses it, so a client named
"Acme\\r\\nBcc: …" would make every email about that client fail (and, were it let through,
could add headers). New names are refused at every door (forms, the API, actions) with
`refuse_control_characters`; names saved before that rule are made safe where a header is
built, with `header_safe`.
"""

import re
import unicodedata

from django.core.exceptions import ValidationError

# Cc: control characters (CR, LF, TAB, NUL, ESC…); Zl/Zp: the Unicode line and paragraph
# separators, which mail clients may also break a line on.
_UNSAFE_CATEGORIES = {"Cc", "Zl", "Zp"}


def control_characters(text: str) -> list[str]:
    """The control characters in `text`, as code points (U+000D), in order of appearance."""
    return list(
        dict.fromkeys(
            f"U+{ord(ch):04X}" for ch in text if unicodedata.category(ch) in _UNSAFE_CATEGORIES
        )
    )


def refuse_control_characters(text: str) -> None:
    """A validator: names may not hold line breaks, tabs or other control characters."""
    found = control_characters(text)
    if found:
        raise ValidationError(
            "Names may not contain line breaks, tabs or other control characters "
            f"(found {', '.join(found)}).",
            code="control_characters",
        )


def header_safe(text: str) -> str:
    """`text` on one line: each run of control characters becomes one space."""
    cleaned = "".join(
        " " if unicodedata.category(ch) in _UNSAFE_CATEGORIES else ch for ch in str(text)
    )
    return re.sub(r" {2,}", " ", cleaned).strip()
