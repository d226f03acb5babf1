"""CSV cells that a spreadsheet will not run (CSV/formula injection), pure.

Excel, LibreOffice and Google Sheets treat a cell starting with = + - @ (and tab or CR,
which some of them skip before looking) as a formula; text from a CRM deal or an invoice
could then run one on an accountant's machine. Such a cell gets a leading apostrophe, the
spreadsheets' own "this is text" mark (OWASP's advice). A plain number is left alone, so an
amount of -123.45 still reads as a number to the accountant and sums in a column: a cell
that is only a sign, digits and one decimal point cannot be a formula. See
docs/decisions/0015-every-run-ends.md.
"""

import re

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
# Spreadsheets that trim a cell or fold full-width forms before parsing it: the same marks
# after leading blanks, and their full-width twins.
_AFTER_BLANKS = ("=", "+", "-", "@", "\uff1d", "\uff0b", "\uff0d", "\uff20")
_PLAIN_NUMBER = re.compile(r"[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)")


def safe_cell(value) -> str:
    text = "" if value is None else str(value)
    trimmed = text.lstrip(" \t\r\n")
    if (text.startswith(FORMULA_STARTS) and not _PLAIN_NUMBER.fullmatch(text)) or (
        trimmed.startswith(_AFTER_BLANKS) and not _PLAIN_NUMBER.fullmatch(trimmed)
    ):
        return "'" + text
    return text


def safe_row(values) -> list[str]:
    return [safe_cell(v) for v in values]
