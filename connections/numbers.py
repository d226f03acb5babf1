"""Every number a provider sends, read by one strict function; and the text beside it.

A value that is not a finite number within what the books can hold raises `BadValue` with a
reason a person can read ("quantity 'NaN' is not a number", "amount 1E+309 is too large"),
and the record carrying it is held by the caller; it never reaches arithmetic (a Decimal
NaN makes every comparison raise, and 1E+309 cannot be rounded to cents).

Conventions per provider:
- QuickBooks sends JSON numbers, which python-quickbooks (`use_decimal=True`) parses to
  Decimal or int; strings in plain decimal notation are read too.
- Xero sends JSON numbers too; its adapter reads them as Decimal (`parse_float`).
- HubSpot sends every property as a string with a '.' decimal point: no thousands
  separators, no comma decimals.
Neither passes through float. A finite float (only a hand-built payload has one) is read
from its shortest round-trip text, which is the JSON text it came from.
"""

import re
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from enum import Enum

# QuickBooks documents its amounts as "max 15 digits in 10.5 format": ten digits before the
# point, five after. Nothing larger can be written to or read from the books, so nothing
# larger is believed from either system; quantities and prices get the same bound (a
# line's amount is their product and must fit too).
LIMIT = Decimal(10) ** 10
PLACES = 5
STEP = Decimal(1).scaleb(-PLACES)
LONGEST = 40  # characters of a number's text; more is not a number anyone typed
SHOWN = 40  # characters of a bad value shown in a reason

_PLAIN = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?", re.ASCII)
_COMMA_DECIMAL = re.compile(r"[+-]?\d+,\d+", re.ASCII)
_THOUSANDS = re.compile(r"[+-]?\d{1,3}([,\s'\u00a0\u202f]\d{3})+(\.\d+)?", re.ASCII)
_UNPAIRED = re.compile("[\ud800-\udfff\x00]")


class Provider(Enum):
    QUICKBOOKS = "QuickBooks"
    XERO = "Xero"
    HUBSPOT = "HubSpot"
    JOBBER = "Jobber"


class BadValue(ValueError):
    """A provider value syncfirm will not read; `str()` is the reason, for a person."""

    def __init__(self, field: str, shown: str, reason: str):
        self.field, self.shown, self.reason = field, shown, reason
        super().__init__(" ".join(part for part in (field, shown, reason) if part))


def shown(value: object) -> str:
    """A bad value as a reason quotes it: short, and safe to store and print (lone
    surrogates and NUL escaped by repr)."""
    if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > 128:
        return f"(a whole number of about {value.bit_length() * 3 // 10} digits)"
    if isinstance(value, Decimal | int) and not isinstance(value, bool):
        text = str(value)
    elif isinstance(value, str):
        text = repr(value)
    elif isinstance(value, dict | list | tuple):
        return f"(a {type(value).__name__})"
    else:
        text = repr(value)
    return text if len(text) <= SHOWN else text[: SHOWN - 1] + "…"


def parse_number(
    value: object, field: str, provider: Provider, *, default: Decimal | None = None
) -> Decimal:
    """`value` from `provider` as a finite Decimal within the books' limits, or BadValue.

    Missing (None or "") is `default` when one is given. More than five decimal places are
    rounded to five (QuickBooks keeps no more); -0 is 0."""
    if value is None or (isinstance(value, str) and not value.strip()):
        if default is not None:
            return default
        raise BadValue(field, "", "is missing")
    number = _read(value, field, provider)
    if not number.is_finite():
        raise BadValue(field, shown(value), "is not a number")
    if number.copy_abs() >= LIMIT:  # copy_abs: no context, so no Overflow on 1e99999999999
        raise BadValue(field, shown(value), "is too large")
    if number.as_tuple().exponent < -PLACES:  # type: ignore[operator] - finite here
        number = number.quantize(STEP, rounding=ROUND_HALF_UP)
        if number.copy_abs() >= LIMIT:  # 9999999999.999999 rounds up to the limit
            raise BadValue(field, shown(value), "is too large")
    return number.copy_abs() if number.is_zero() else number


def _read(value: object, field: str, provider: Provider) -> Decimal:
    if isinstance(value, bool):  # a subclass of int: True is no quantity
        raise BadValue(field, shown(value), "is a yes/no value, not a number")
    if isinstance(value, Decimal):
        return value
    if isinstance(value, int):
        if abs(value) >= LIMIT:  # before Decimal(): a huge int is slow to convert (or refused)
            raise BadValue(field, shown(value), "is too large")
        return Decimal(value)
    if isinstance(value, float):
        return Decimal(repr(value))  # the JSON text, never the binary expansion
    if not isinstance(value, str):
        raise BadValue(field, shown(value), "is not a number")
    text = value.strip()
    if len(text) > LONGEST:
        raise BadValue(field, shown(value), "is too long to be a number")
    if not _PLAIN.fullmatch(text):
        raise BadValue(field, shown(value), _why_not(text, provider))
    try:
        return Decimal(text)
    except InvalidOperation as error:  # the pattern admits only what Decimal reads
        raise BadValue(field, shown(value), "is not a number") from error


def _why_not(text: str, provider: Provider) -> str:
    if _THOUSANDS.fullmatch(text):
        return f"has thousands separators; {provider.value} numbers have none"
    if _COMMA_DECIMAL.fullmatch(text):
        return f"uses a comma; {provider.value} numbers use a point"
    return "is not a number"


def quickbooks_number(value: object, field: str, *, default: Decimal | None = None) -> Decimal:
    return parse_number(value, field, Provider.QUICKBOOKS, default=default)


def xero_number(value: object, field: str, *, default: Decimal | None = None) -> Decimal:
    """Xero's JSON numbers, read as Decimal by the adapter (never float)."""
    return parse_number(value, field, Provider.XERO, default=default)


def hubspot_number(value: object, field: str, *, default: Decimal | None = None) -> Decimal:
    return parse_number(value, field, Provider.HUBSPOT, default=default)


def jobber_number(value: object, field: str, *, default: Decimal | None = None) -> Decimal:
    """Jobber's GraphQL Floats, read from the JSON text as Decimal by its client."""
    return parse_number(value, field, Provider.JOBBER, default=default)


# A number on a CRM record that syncfirm itself writes (the deal's amount paid): the CRM's
# plain decimal text, read with HubSpot's rules (the stricter of the two shapes we read).
crm_number = hubspot_number


def text(value: object, field: str) -> str:
    """A provider's text value: None is blank; a number or an object where text belongs is
    BadValue; lone surrogates and NUL (which PostgreSQL refuses) become U+FFFD."""
    if value is None:
        return ""
    if not isinstance(value, str):
        raise BadValue(field, shown(value), "is not text")
    return _UNPAIRED.sub("\ufffd", value)


def clean_text(value: object) -> str:
    """Any value as storable text (for HubSpot properties, which are strings on the wire:
    the client turns whatever the JSON held into one)."""
    if value is None:
        return ""
    try:
        found = str(value)
    except ValueError:  # an int past Python's 4,300-digit limit for text
        found = shown(value)
    return _UNPAIRED.sub("\ufffd", found)
