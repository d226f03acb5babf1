"""Validation of a customer about to be written to an accounting system.

Each check uses the library that knows the rules (email-validator, phonenumbers,
python-stdnum); postal-code shapes are regular expressions because no maintained library
covers them for the countries we serve. A record that fails is held with its reasons; the
caller decides, nothing is silently dropped or truncated.
"""

import re
import unicodedata
from dataclasses import dataclass, field

import phonenumbers
from email_validator import EmailNotValidError, validate_email
from stdnum.au import abn
from stdnum.ca import bn
from stdnum.eu import vat
from stdnum.exceptions import ValidationError as StdnumError
from stdnum.gb import vat as gb_vat
from stdnum.us import ein

from .linkage.names import only_legal_form

# QuickBooks Online field limits (characters).
LIMITS = {
    "display_name": 500,
    "company_name": 100,
    "given_name": 100,
    "family_name": 100,
    "email": 100,
    "phone": 30,
    "notes": 2000,
    "line1": 500,
    "city": 255,
    "postal_code": 30,
}
POSTAL_CODES = {
    "US": re.compile(r"^\d{5}(-\d{4})?$"),
    "CA": re.compile(r"^[A-Z]\d[A-Z] ?\d[A-Z]\d$"),
    "GB": re.compile(r"^[A-Z]{1,2}\d[A-Z\d]? ?\d[A-Z]{2}$"),
    "AU": re.compile(r"^\d{4}$"),
}
TAX_ID_RULES = {"US": ein, "CA": bn, "GB": gb_vat, "AU": abn}


@dataclass
class Checked:
    """A customer's fields after validation: normalised values and the problems found."""

    values: dict[str, str]
    problems: list[str] = field(default_factory=list)  # the record is held for these
    notes: list[str] = field(default_factory=list)  # changes made, with their reason

    @property
    def ok(self) -> bool:
        return not self.problems


# Format characters that belong to the text: the zero-width joiner holds emoji sequences
# together (👨‍👩‍👧, 🏳️‍🌈), the non-joiner is part of Persian spelling.
JOINERS = "\u200c\u200d"


def strip_control(text: str) -> str:
    """Text without control characters (line breaks, tabs and other control whitespace
    become spaces); emoji, joined emoji and right-to-left scripts are kept."""
    cleaned = "".join(
        " " if ch.isspace() and ch != " " and unicodedata.category(ch) in ("Cc", "Zl", "Zp")
        else ch
        for ch in text
        if ch.isspace() or ch in JOINERS or not unicodedata.category(ch).startswith("C")
    )  # fmt: skip
    return re.sub(r" {2,}", " ", cleaned).strip()


def check_customer(values: dict[str, str], country: str = "US") -> Checked:
    """Validate and normalise a mapped customer; never raises on bad input."""
    out, problems, notes = {}, [], []
    for name, raw in values.items():
        text = strip_control(str(raw or ""))
        if text != str(raw or "").strip():
            notes.append(f"{name}: control characters removed")
        out[name] = text
    if not (out.get("display_name") or out.get("company_name") or out.get("given_name")):
        problems.append("display_name: a name is required (display, company or given name)")
    else:
        problems.extend(_check_name(out))
    if out.get("email"):
        try:
            out["email"] = validate_email(out["email"], check_deliverability=False).normalized
        except EmailNotValidError as error:
            problems.append(f"email: {error}")
    if out.get("phone"):
        try:
            number = phonenumbers.parse(out["phone"], country or None)
            if not phonenumbers.is_valid_number(number):
                raise phonenumbers.NumberParseException(0, "not a valid number")
            out["phone"] = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
        except phonenumbers.NumberParseException as error:
            problems.append(f"phone: {out['phone'][:40]!r} is not a phone number ({error})")
    postal = out.get("postal_code", "").upper()
    shape = POSTAL_CODES.get((out.get("country") or country).upper())
    if postal:
        out["postal_code"] = postal
        if shape and not shape.match(postal):
            problems.append(f"postal_code: {postal[:20]!r} is not a {country} postal code")
    if out.get("tax_id"):
        problems.extend(_check_tax_id(out, country))
    for name, limit in LIMITS.items():
        if len(out.get(name, "")) > limit:
            problems.append(
                f"{name}: {len(out[name])} characters, the accounting system allows {limit}"
            )
    return Checked(out, problems, notes)


def _check_name(out: dict[str, str]) -> list[str]:
    """A name nobody could find the customer by: no letter or digit ("🏗🏗", "---"), or a
    company's name that is only its legal form ("LLC", "Inc."), which every company shares."""
    name = out.get("display_name") or out.get("company_name") or out.get("given_name", "")
    shown = name if len(name) <= 40 else f"{name[:40]}…"
    if not any(unicodedata.category(ch)[0] in "LN" for ch in name):
        return [f"display_name: “{shown}” has no letter or digit; the customer's name is missing"]
    company = out.get("company_name") or (
        "" if out.get("given_name") or out.get("family_name") else out.get("display_name", "")
    )
    if only_legal_form(company):
        return [
            f"company_name: “{company[:40]}” is only a legal form; the company's own name "
            "is missing"
        ]
    return []


def _check_tax_id(out: dict[str, str], country: str) -> list[str]:
    value = out["tax_id"]
    rule = TAX_ID_RULES.get(country.upper())
    try:
        if rule is not None:
            out["tax_id"] = rule.compact(rule.validate(value))
        else:
            out["tax_id"] = vat.compact(vat.validate(value))
    except StdnumError as error:
        return [f"tax_id: {value[:30]!r} is not a valid {country} tax ID ({error})"]
    return []
