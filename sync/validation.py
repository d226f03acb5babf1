"""Validation of a customer about to be written to an accounting system.

Each check uses the library that knows the rules (email-validator, phonenumbers,
python-stdnum); postal-code shapes are regular expressions because no maintained library
covers them for the countries we serve. A record that fails is held with its reasons; the
caller decides, nothing is silently dropped or truncated.
"""

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache

import phonenumbers
from email_validator import SPECIAL_USE_DOMAIN_NAMES, EmailNotValidError, validate_email
from email_validator.rfc_constants import (
    CASE_INSENSITIVE_MAILBOX_NAMES,
    DOMAIN_MAX_LENGTH,
    EMAIL_MAX_LENGTH,
)
from stdnum.au import abn
from stdnum.ca import bn
from stdnum.eu import vat
from stdnum.exceptions import ValidationError as StdnumError
from stdnum.gb import vat as gb_vat
from stdnum.us import ein

from .linkage.names import only_legal_form

# Field limits (characters) where no books say theirs: the tightest of the books we speak
# (QuickBooks Online's). A sync passes its adapter's `capabilities.field_limits`.
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
    if text.isprintable():  # no control, format or separator character: nothing to remove
        return re.sub(r" {2,}", " ", text).strip() if "  " in text else text.strip()
    cleaned = "".join(
        " " if ch.isspace() and ch != " " and unicodedata.category(ch) in ("Cc", "Zl", "Zp")
        else ch
        for ch in text
        if ch.isspace() or ch in JOINERS or not unicodedata.category(ch).startswith("C")
    )  # fmt: skip
    return re.sub(r" {2,}", " ", cleaned).strip()


def check_customer(
    values: dict[str, str], country: str = "US", limits: Mapping[str, int] | None = None
) -> Checked:
    """Validate and normalise a mapped customer; never raises on bad input."""
    out, problems, notes = {}, [], []
    for name, raw in values.items():
        raw = raw if type(raw) is str else str(raw or "")
        if raw.isprintable() and "  " not in raw:  # the common case: nothing to clean
            out[name] = raw.strip()
            continue
        text = strip_control(raw)
        if text != raw.strip():
            notes.append(f"{name}: control characters removed")
        out[name] = text
    if not (out.get("display_name") or out.get("company_name") or out.get("given_name")):
        problems.append("display_name: a name is required (display, company or given name)")
    else:
        problems.extend(_check_name(out))
    if out.get("email"):
        try:
            out["email"] = normalized_email(out["email"])
        except EmailNotValidError as error:
            problems.append(f"email: {error}")
    if out.get("phone"):
        try:
            out["phone"] = e164(out["phone"], country)
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
    for name, limit in (LIMITS if limits is None else limits).items():
        if len(out.get(name, "")) > limit:
            problems.append(
                f"{name}: {len(out[name])} characters, the accounting system allows {limit}"
            )
    return Checked(out, problems, notes)


_ASCII_ALNUM = re.compile(r"[A-Za-z0-9]")


def _check_name(out: dict[str, str]) -> list[str]:
    """A name nobody could find the customer by: no letter or digit ("🏗🏗", "---"), or a
    company's name that is only its legal form ("LLC", "Inc."), which every company shares."""
    name = out.get("display_name") or out.get("company_name") or out.get("given_name", "")
    shown = name if len(name) <= 40 else f"{name[:40]}…"
    # an ASCII letter or digit is found by one regular expression; other scripts by category
    if not (_ASCII_ALNUM.search(name) or any(unicodedata.category(ch)[0] in "LN" for ch in name)):
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


# The common shape of an address: a dot-atom mailbox at an ASCII host name whose labels are
# letters, digits and single hyphens, under a top-level domain of letters. For it,
# email-validator's answer is known without running it: valid, the domain lower-cased, the
# mailbox kept (or lower-cased for RFC 2142's role names). Anything else asks the library.
_ATEXT = r"[a-zA-Z0-9_!#$%&'*+\-/=?^`{|}~]+"
_LABEL = r"[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?"
COMMON_EMAIL = re.compile(rf"({_ATEXT}(?:\.{_ATEXT})*)@((?:{_LABEL}\.)+[a-zA-Z]{{2,63}})")
_ROLE_MAILBOXES = frozenset(CASE_INSENSITIVE_MAILBOX_NAMES)
_RESERVED_TLDS = frozenset(d for d in SPECIAL_USE_DOMAIN_NAMES if "." not in d)
_RESERVED_DEEP = tuple(d for d in SPECIAL_USE_DOMAIN_NAMES if "." in d)


def normalized_email(text: str) -> str:
    """The address as email-validator normalises it; EmailNotValidError if it is not one."""
    common = COMMON_EMAIL.fullmatch(text)
    if common and len(text) <= EMAIL_MAX_LENGTH:
        local, domain = common.group(1), common.group(2).lower()
        if (
            len(domain) <= DOMAIN_MAX_LENGTH
            and "--" not in domain  # Punycode and R-LDH labels: the library's own rules
            and domain[domain.rfind(".") + 1 :] not in _RESERVED_TLDS
            and not any(domain == d or domain.endswith("." + d) for d in _RESERVED_DEEP)
        ):
            if local.lower() in _ROLE_MAILBOXES:
                local = local.lower()
            return f"{local}@{domain}"
    return validate_email(text, check_deliverability=False).normalized


# Most numbers of a North American client are written one of a few ways: "(303) 555-0100",
# "303.555.0100", "+1 303 555 0100". Those are read directly; anything else is parsed.
NANP_REGIONS = frozenset(phonenumbers.COUNTRY_CODE_TO_REGION_CODE[1])
NANP_NUMBER = re.compile(
    r"(\+1[ .-]?|1[ .-]?)?(?:\(([2-9]\d\d)\)|([2-9]\d\d))[ .-]?(\d{3})[ .-]?(\d{4})"
)


def _nanp_rules() -> list[tuple[re.Pattern | None, re.Pattern, re.Pattern]]:
    """phonenumbers' own test of a ten-digit number of the North American plan, as regular
    expressions compiled once: per region in the plan's order, its leading digits (if it
    has them), its general shape, and any of its number types."""
    kinds = ("premium_rate", "toll_free", "shared_cost", "voip", "personal_number", "pager",
             "uan", "voicemail", "fixed_line", "mobile")  # fmt: skip

    def fits(desc) -> bool:
        return not desc.possible_length or 10 in desc.possible_length

    rules = []
    for region in phonenumbers.COUNTRY_CODE_TO_REGION_CODE[1]:
        meta = phonenumbers.PhoneMetadata.metadata_for_region(region)
        types = [
            desc.national_number_pattern
            for desc in (getattr(meta, kind) for kind in kinds)
            if desc is not None and desc.national_number_pattern and fits(desc)
        ]
        general = meta.general_desc
        shape = general.national_number_pattern if fits(general) else "(?!)"
        leading = re.compile(meta.leading_digits) if meta.leading_digits else None
        rules.append(
            (leading, re.compile(shape), re.compile("|".join(f"(?:{t})" for t in types) or "(?!)"))
        )
    return rules


NANP_RULES = _nanp_rules()


def nanp_valid(digits: str) -> bool:
    """phonenumbers.is_valid_number for +1 and these ten digits, without parsing: the first
    region whose leading digits or patterns fit decides, as `region_code_for_number` does."""
    for leading, shape, types in NANP_RULES:
        if leading is not None:
            if leading.match(digits):
                return bool(shape.fullmatch(digits) and types.fullmatch(digits))
        elif shape.fullmatch(digits) and types.fullmatch(digits):
            return True
    return False


def e164(text: str, country: str) -> str:
    """The number in E.164 ("+13035550100"); NumberParseException if it is not a valid one."""
    shape = NANP_NUMBER.fullmatch(text)
    if shape and (text[0] == "+" or country in NANP_REGIONS):
        digits = (shape[2] or shape[3]) + shape[4] + shape[5]
        if nanp_valid(digits):
            return "+1" + digits
        raise phonenumbers.NumberParseException(0, "not a valid number")
    number = phonenumbers.parse(text, country or None)
    if not phonenumbers.is_valid_number(number):
        raise phonenumbers.NumberParseException(0, "not a valid number")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


EIN_SHAPE = re.compile(r"(\d{2})-?(\d{7})")


@lru_cache(maxsize=128)
def _ein_prefix_valid(prefix: str) -> bool:
    return ein.is_valid(f"{prefix}-0000000")  # the IRS assigns by prefix (python-stdnum's table)


def _check_tax_id(out: dict[str, str], country: str) -> list[str]:
    value = out["tax_id"]
    rule = TAX_ID_RULES.get(country.upper())
    shape = EIN_SHAPE.fullmatch(value) if rule is ein else None
    if shape and _ein_prefix_valid(shape[1]):  # the common shape: "12-3456789"
        out["tax_id"] = shape[1] + shape[2]
        return []
    try:
        if rule is not None:
            out["tax_id"] = rule.compact(rule.validate(value))
        else:
            out["tax_id"] = vat.compact(vat.validate(value))
    except StdnumError as error:
        return [f"tax_id: {value[:30]!r} is not a valid {country} tax ID ({error})"]
    return []
