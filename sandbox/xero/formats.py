"""Xero's JSON conventions: Microsoft JSON dates, the response envelope, error bodies.

xero-python parses `date[ms-format]` fields only as `/Date(ms+0000)/` (a plain ISO date
raises ValueError), and sends them as `/Date(ms)/`; the API docs use "2019-03-11". The
emulator writes the first form and reads all three (api-facts C1).
"""

import re
import uuid
from datetime import UTC, date, datetime, time
from decimal import ROUND_HALF_UP, Decimal

from django.http import HttpResponse

from sandbox.quickbooks import jsonio

_MS_DATE = re.compile(r"^/Date\((-?\d+)([+-]\d{2,4})?\)/$")
CENT = Decimal("0.01")


class Invalid(ValueError):
    """A record-level validation error: the message Xero puts in ValidationErrors."""


class Missing(LookupError):
    """No record with the id or number asked for: Xero's 404."""


def money(value: Decimal) -> Decimal:
    return Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)


def decimal(value: object, field: str, default: str | None = None) -> Decimal:
    if value is None or value == "":
        if default is None:
            raise Invalid(f"{field} is required.")
        return Decimal(default)
    try:
        number = Decimal(str(value))
    except ArithmeticError as error:
        raise Invalid(f"{field} must be a number.") from error
    if not number.is_finite():
        raise Invalid(f"{field} must be a number.")
    return number


def ms_datetime(moment: datetime) -> str:
    return f"/Date({int(moment.timestamp() * 1000)}+0000)/"


def ms_date(day: date) -> str:
    return ms_datetime(datetime.combine(day, time(), tzinfo=UTC))


def parse_date(value: object, field: str = "Date") -> date:
    """A request's date: /Date(ms)/, /Date(ms+0000)/, "2019-03-11" or an ISO date-time."""
    text = str(value or "").strip()
    match = _MS_DATE.match(text)
    if match:
        return datetime.fromtimestamp(int(match.group(1)) / 1000, tz=UTC).date()
    try:
        return date.fromisoformat(text[:10])
    except ValueError as error:
        raise Invalid(f"{field} is not a valid date.") from error


def iso_day(day: date) -> str:
    return f"{day.isoformat()}T00:00:00"


def answer(body: dict, status: int = 200) -> HttpResponse:
    envelope = {
        "Id": str(uuid.uuid4()),
        "Status": "OK",
        "ProviderName": "syncfirm sandbox",
        "DateTimeUTC": ms_datetime(datetime.now(UTC)),
        **body,
    }
    return HttpResponse(jsonio.dumps(envelope), status=status, content_type="application/json")


def problem(status: int, title: str, detail: str) -> HttpResponse:
    """The identity layer's answer to a bad token or tenant (api-facts C2, C12)."""
    body = {
        "Type": None,
        "Title": title,
        "Status": status,
        "Detail": detail,
        "Instance": str(uuid.uuid4()),
        "Extensions": {},
    }
    return HttpResponse(jsonio.dumps(body), status=status, content_type="application/json")


def validation_error(elements: list[dict]) -> HttpResponse:
    """Xero's 400: the submitted elements echoed, the failing ones with their messages."""
    body = {
        "ErrorNumber": 10,
        "Type": "ValidationException",
        "Message": "A validation exception occurred",
        "Elements": elements,
    }
    return HttpResponse(jsonio.dumps(body), status=400, content_type="application/json")


def not_found(message: str = "The resource you're looking for cannot be found") -> HttpResponse:
    return HttpResponse(message, status=404, content_type="text/plain")
