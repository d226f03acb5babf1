"""A party as matching sees it: every mapped field, normalised once.

Normalising once per record (not per compared pair) is what keeps 20,000 x 20,000 fast.
"""

import re
from dataclasses import dataclass
from functools import cached_property

import phonenumbers

from .names import (
    DEFAULT,
    Vocabulary,
    company_tokens,
    name_form,
    numbers_in,
    plain,
    sound_key,
    words,
)

# Mailboxes anyone can have: a shared domain here is no evidence of one company.
FREE_MAIL = frozenset(
    [
        "gmail.com",
        "googlemail.com",
        "yahoo.com",
        "ymail.com",
        "hotmail.com",
        "outlook.com",
        "live.com",
        "msn.com",
        "aol.com",
        "icloud.com",
        "me.com",
        "mac.com",
        "proton.me",
        "protonmail.com",
        "gmx.com",
        "gmx.net",
        "mail.com",
        "comcast.net",
        "att.net",
        "verizon.net",
        "sbcglobal.net",
        "bellsouth.net",
        "cox.net",
        "charter.net",
        "yahoo.co.uk",
        "hotmail.co.uk",
        "btinternet.com",
        "bigpond.com",
        "optusnet.com.au",
        "shaw.ca",
        "rogers.com",
        "sympatico.ca",
        "web.de",
        "t-online.de",
        "orange.fr",
        "free.fr",
        "example.com",
    ]
)
STREET_WORDS = {
    "street": "st", "str": "st", "road": "rd", "avenue": "ave", "av": "ave", "drive": "dr",
    "boulevard": "blvd", "lane": "ln", "court": "ct", "place": "pl", "suite": "ste",
    "highway": "hwy", "parkway": "pkwy", "circuit": "cct", "crescent": "cres", "terrace": "tce",
    "apartment": "apt", "unit": "unit", "north": "n", "south": "s", "east": "e", "west": "w",
}  # fmt: skip
MAX_FIELD = 300
# An extension after the number ("x281", "ext. 12", "#12"): the line is the same party's.
PHONE_EXTENSION = re.compile(r"\s*(?:,|;)?\s*(?:x|ext\.?|extn?|extension|#)\s*\d{1,6}\s*$", re.I)


@dataclass(frozen=True, slots=True)
class Party:
    """What matching looks at, from either side; every field may be empty."""

    external_id: str
    name: str = ""  # a company's name, or a person's whole name
    email: str = ""
    tax_id: str = ""
    postal_code: str = ""
    given_name: str = ""
    family_name: str = ""
    phone: str = ""
    website: str = ""
    line1: str = ""
    city: str = ""
    region: str = ""
    country: str = ""


_ALNUM = re.compile(r"[^\W_]")  # a character str.isalnum() accepts


def _alnum(text: str) -> bool:
    return _ALNUM.search(text) is not None


def _compact(text: str) -> str:
    return re.sub(r"[\W_]", "", plain(text)).upper()


def tax_key(tax_id: str) -> str:
    """Without punctuation; "" for one with no digit ("N/A"), a placeholder, not an identity."""
    compact = _compact(tax_id)
    if not compact or compact.isalpha():
        return ""
    return compact if compact.isdigit() or any(ch.isdigit() for ch in compact) else ""


# A role mailbox at a free mail domain ("info@gmail.com") is a placeholder typed where the
# address was unknown, not anyone's identity: like a tax ID of "N/A", it is no value.
ROLE_MAILBOXES = frozenset(
    ["info", "office", "admin", "contact", "sales", "support", "billing", "accounts", "mail",
     "noreply", "no-reply", "none", "na", "test"]
)  # fmt: skip


def email_key(email: str) -> str:
    email = email.strip().casefold()[:MAX_FIELD]
    local, at, domain = email.rpartition("@")
    if not at or (local in ROLE_MAILBOXES and domain in FREE_MAIL):
        return ""
    return email


def web_domain(url: str) -> str:
    host = re.sub(r"^[a-z]+://", "", url.strip().casefold()).split("/")[0].split(":")[0]
    return host.removeprefix("www.") if "." in host else ""


def phone_key(phone: str, country: str) -> str:
    """E.164 where the number parses ("+13035550100"), otherwise its digits."""
    if not phone.strip():
        return ""
    phone = PHONE_EXTENSION.sub("", phone)
    digits = re.sub(r"[\s().+-]", "", phone)
    region = (country or "US").upper()[:2]
    if digits.isdigit() and region in ("US", "CA"):  # the North American plan, read directly
        if len(digits) == 10 and digits[0] in "23456789":
            return "+1" + digits
        if len(digits) == 11 and digits[0] == "1" and not phone.lstrip().startswith("+1 1"):
            return "+" + digits
    try:
        number = phonenumbers.parse(phone[:40], region)
        if phonenumbers.is_possible_number(number):
            return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    except phonenumbers.NumberParseException:
        pass
    return re.sub(r"\D", "", phone)[:20]


def postal_key(code: str) -> str:
    return _compact(code)[:10]


def street(line: str) -> str:
    return " ".join(STREET_WORDS.get(w, w) for w in words(line))


# Towns, states, postal codes and countries repeat across thousands of records: each
# distinct value is normalised once (bounded, so a long-lived process does not grow).
_SEEN: dict[tuple[str, str], str] = {}
_SEEN_LIMIT = 100_000


def _once(kind: str, value: str) -> str:
    key = (kind, value)
    known = _SEEN.get(key)
    if known is None:
        if len(_SEEN) >= _SEEN_LIMIT:
            _SEEN.clear()
        if kind == "postal":
            known = postal_key(value)
        elif kind == "country":
            known = _compact(value)
        else:
            known = " ".join(words(value))
        _SEEN[key] = known
    return known


class Features:
    """One party's normalised fields; computed once, compared many times."""

    __slots__ = (
        "__dict__",
        "city",
        "country",
        "domain",
        "email",
        "family",
        "given",
        "household",
        "line1",
        "line1_sorted",
        "name",
        "numbers",
        "party",
        "phone",
        "postal",
        "raw",
        "region",
        "sorted_name",
        "tax",
        "tokens",
        "trade",
        "website",
    )

    def __init__(self, party: Party, vocabulary: Vocabulary = DEFAULT, country: str = "US"):
        self.party = party
        self.raw = party.name.casefold().strip()
        form = name_form(party.name, vocabulary)  # "Smith, Robert", "X dba Y", "Smith Residence"
        whole = form.name or f"{party.given_name} {party.family_name}"
        # A name of no letter or digit ("&", "★") says nothing of who it is, so it is none.
        self.tokens = tokens = company_tokens(whole, vocabulary) if _alnum(whole) else []
        self.name = " ".join(tokens)
        self.sorted_name = " ".join(sorted(tokens)) if len(tokens) > 1 else self.name
        self.numbers = numbers_in(tokens)
        parts = (party.given_name, party.family_name)
        given, family = parts if any(parts) else (form.given, form.family)
        self.given = " ".join(words(given)) if given else ""
        self.family = " ".join(words(family)) if family else ""
        self.household = " ".join(words(form.family)) if form.household else ""  # "Smith Residence"
        # "X dba Y": the trade name, compared beside the legal one (whichever agrees better)
        self.trade = (
            Features(Party(party.external_id, form.trade), vocabulary) if form.trade else None
        )
        self.email = email_key(party.email) if party.email else ""
        domain = self.email.rpartition("@")[2]
        self.domain = "" if domain in FREE_MAIL else domain
        self.website = web_domain(party.website) if party.website else ""
        phone = party.phone
        if len(phone) == 12 and phone.startswith("+1") and phone[1:].isdigit() and phone[2] > "1":
            self.phone = phone  # already E.164 (validation wrote it so): nothing to parse
        else:
            self.phone = phone_key(phone, party.country or country) if phone else ""
        line1 = party.line1
        if line1:
            self.line1 = street(line1)
            self.line1_sorted = " ".join(sorted(self.line1.split()))
        else:
            self.line1 = self.line1_sorted = ""
        self.city = _once("city", party.city) if party.city else ""
        self.region = _once("region", party.region) if party.region else ""
        self.postal = _once("postal", party.postal_code) if party.postal_code else ""
        self.country = _once("country", party.country) if party.country else ""
        self.tax = tax_key(party.tax_id) if party.tax_id else ""

    @cached_property
    def sounds(self) -> list[str]:
        return [sound_key(w) for w in self.tokens if len(w) > 1]
