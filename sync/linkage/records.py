"""A party as matching sees it: every mapped field, normalised once.

Normalising once per record (not per compared pair) is what keeps 20,000 x 20,000 fast.
Where the native core is built, it reads names of printable ASCII (`_native.c`, `read_name`):
the rules of `python_read_name`, which reads every other name and is what it is tested
against.
"""

import re
from typing import Any, NamedTuple

import phonenumbers

from . import compiled
from .names import (
    DEFAULT,
    JOB_SEPARATORS,
    LEGAL_INITIALS,
    LEGAL_PHRASES,
    LONG_LEGAL_FORMS,
    MAX_CHARS,
    PLACE_WORDS,
    SOUND,
    TRADE_NAME_MARKERS,
    TRADE_PHRASES,
    Vocabulary,
    company_tokens,
    name_form,
    numbers_in,
    plain,
    sound_key,
    words,
)

# the native core, only from the stamped build in use (`compiled.py`): the same readings of
# names; without it, the plain Python below
_native: Any = compiled.native()

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
# Two parties' agreement, a level per comparison (None: a side has no value); `compare.levels`
Pattern = tuple[int | None, ...]
# An extension after the number ("x281", "ext. 12", "#12"): the line is the same party's.
# Its spaces are taken whole (`*+`), from where their run starts: split between the two
# `\s*` every way and from every space, a phone of 2,000 spaces took 40 s.
PHONE_EXTENSION = re.compile(
    r"(?<!\s)\s*+(?:,|;)?\s*+(?:x|ext\.?|extn?|extension|#)\s*\d{1,6}\s*$", re.I
)


class Party(NamedTuple):
    """What matching looks at, from either side; every field may be empty. A named tuple,
    not a frozen dataclass: a first sync makes one per record on each side (40,000 for
    20,000 x 20,000), and a frozen dataclass is built field by field through
    `object.__setattr__`, four times the cost."""

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
_NOT_ALNUM = re.compile(r"[\W_]")
_PHONE_PUNCTUATION = re.compile(r"[\s().+-]")


def _alnum(text: str) -> bool:
    return _ALNUM.search(text) is not None


def _compact(text: str) -> str:
    return _NOT_ALNUM.sub("", plain(text)).upper()


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


_SCHEME = re.compile(r"^[a-z]+://")


def web_domain(url: str) -> str:
    host = _SCHEME.sub("", url.strip().casefold()).split("/")[0].split(":")[0]
    return host.removeprefix("www.") if "." in host else ""


# What _PHONE_PUNCTUATION removes from ASCII text, deleted by str.translate (a number of
# ASCII, the most common, needs no regular expression: 40,000 per large sync)
_ASCII_PUNCTUATION = str.maketrans(
    dict.fromkeys(c for c in map(chr, range(128)) if _PHONE_PUNCTUATION.match(c))
)


def phone_key(phone: str, country: str) -> str:
    """E.164 where the number parses ("+13035550100"), otherwise its digits."""
    if not phone.strip():
        return ""
    if "x" in phone or "X" in phone or "#" in phone:  # every extension's marker has one
        phone = PHONE_EXTENSION.sub("", phone)
    if phone.isascii():
        digits = phone.translate(_ASCII_PUNCTUATION)
    else:
        digits = _PHONE_PUNCTUATION.sub("", phone)
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


# Every field's values repeat: a true pair's two records mostly hold the same email, phone,
# street and town, and towns, states and postal codes recur across thousands of records.
# Each distinct value is normalised once (bounded, so a long-lived process does not grow).
_NORMALISE = {
    "city": lambda v: " ".join(words(v)),
    "region": lambda v: " ".join(words(v)),
    "postal": postal_key,
    "country": _compact,
    "email": email_key,
    "website": web_domain,
    "tax": tax_key,
    "line1": lambda v: (line := street(v), " ".join(sorted(line.split()))),
}
# One table per kind of value, looked up by the value itself: no key tuple is built per
# lookup, and none is left behind for the cyclic collector to walk (~150,000 here).
_SEEN: dict[str, dict[str, Any]] = {kind: {} for kind in _NORMALISE}
_PHONES: dict[tuple[str, str], str] = {}  # by (country, phone): a phone is read per country
_SEEN_LIMIT = 200_000  # a 20,000 x 20,000 run holds ~150,000 distinct values (~30 MB)
_STORED = [0]  # values held across the tables


def _full() -> None:
    """Counts a value to be held, first dropping every held one at the limit."""
    if _STORED[0] >= _SEEN_LIMIT:
        for held in _SEEN.values():
            held.clear()
        _PHONES.clear()
        _STORED[0] = 0
    _STORED[0] += 1


def _once(kind: str, value: str) -> Any:
    table = _SEEN[kind]
    known = table.get(value)
    if known is None:
        _full()
        known = table[value] = _NORMALISE[kind](value)
    return known


def _phone_once(phone: str, country: str) -> str:
    key = (country, phone)
    known = _PHONES.get(key)
    if known is None:
        _full()
        known = _PHONES[key] = phone_key(phone, country)
    return known


_READINGS_LIMIT = 65_536  # a 20,000 x 20,000 run reads ~40,000 distinct names
# "A dba B aka C": the trade names read beside the legal one, each within the one before. A
# name of thousands of markers made as many nested features, each holding the rest of the
# name: RecursionError in plain Python at 1,000; compiled, 100,000 filled the memory.
MAX_TRADE_NAMES = 8


class NameReading(NamedTuple):  # a tuple: built for every distinct name, so built cheaply
    """What matching reads from a party's name fields (see `Features`)."""

    raw: str
    tokens: tuple[str, ...]
    name: str
    sorted_name: str
    numbers: tuple[str, ...]
    given: str
    family: str
    trade: str  # "X dba Y": Y
    sounds: tuple[str, ...]
    household: str  # "Smith Residence": the family name a person of it is searched with


def read_name(name: str, given_name: str = "", family_name: str = "",
              vocabulary: Vocabulary = DEFAULT) -> NameReading:  # fmt: skip
    """The name fields read once per distinct value (and vocabulary): most CRM companies
    are written exactly as in the books."""
    key = (name, given_name, family_name)
    readings = vocabulary.readings
    known = readings.get(key)
    if known is None:
        if len(readings) >= _READINGS_LIMIT:
            readings.clear()
        known = readings[key] = _read_name(name, given_name, family_name, vocabulary)
    return known


def _read_name(name: str, given_name: str, family_name: str, vocabulary: Vocabulary):
    if NATIVE_NAMES:  # a name of printable ASCII (most): read in C, ~10 times faster
        known = _native.read_name(name, given_name, family_name, vocabulary)
        if known is not None:
            return known
    return python_read_name(name, given_name, family_name, vocabulary)


def python_read_name(name: str, given_name: str, family_name: str, vocabulary: Vocabulary):
    """`_read_name` in Python: every name the native core leaves (what it is tested against)."""
    form = name_form(name, vocabulary)  # "Smith, Robert", "X dba Y", "Smith Residence"
    whole = form.name or f"{given_name} {family_name}"
    # A name of no letter or digit ("&", "★") says nothing of who it is, so it is none.
    tokens = tuple(company_tokens(whole, vocabulary)) if _alnum(whole) else ()
    joined = " ".join(tokens)
    parts = (given_name, family_name)
    given, family = parts if any(parts) else (form.given, form.family)
    return NameReading(
        raw=name.casefold().strip(),
        tokens=tokens,
        name=joined,
        sorted_name=" ".join(sorted(tokens)) if len(tokens) > 1 else joined,
        numbers=numbers_in(tokens),
        given=" ".join(words(given)) if given else "",
        family=" ".join(words(family)) if family else "",
        trade=form.trade,
        sounds=tuple(sound_key(w) for w in tokens if len(w) > 1),
        household=" ".join(words(form.family)) if form.household else "",
    )


class Features:
    """One party's normalised fields; computed once, compared many times."""

    __slots__ = (
        "block_keys",
        "city",
        "compared",
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
        "row",
        "sorted_name",
        "sounds",
        "tax",
        "tokens",
        "trade",
        "website",
    )

    def __init__(
        self,
        party: Party,
        vocabulary: Vocabulary = DEFAULT,
        country: str = "US",
        trades: int = MAX_TRADE_NAMES,  # how many trade names within this one are read
    ):
        self.party = party
        # Worked out when first needed: its blocking keys (`blocking.keys`) and its
        # candidates' agreement patterns, with what they were compared against
        # (`Matcher._compared`).
        self.block_keys: list[str] | None = None
        self.compared: tuple[tuple[int, int, int], list[tuple[int, Pattern]]] | None = None
        self.row: tuple | None = None  # its fields as the native comparisons read them
        reading = read_name(party.name, party.given_name, party.family_name, vocabulary)
        self.raw = reading.raw
        self.tokens = reading.tokens
        self.name = reading.name
        self.sorted_name = reading.sorted_name
        self.numbers = reading.numbers
        self.sounds = reading.sounds
        self.given = reading.given
        self.family = reading.family
        self.household = reading.household  # "Smith Residence"
        # "X dba Y": the trade name, compared beside the legal one (whichever agrees better)
        self.trade = (
            Features(Party(party.external_id, reading.trade), vocabulary, "US", trades - 1)
            if reading.trade and trades > 0
            else None
        )
        self.email = _once("email", party.email) if party.email else ""
        domain = self.email.rpartition("@")[2]
        self.domain = "" if domain in FREE_MAIL else domain
        self.website = _once("website", party.website) if party.website else ""
        phone = party.phone
        if len(phone) == 12 and phone.startswith("+1") and phone[1:].isdigit() and phone[2] > "1":
            self.phone = phone  # already E.164 (validation wrote it so): nothing to parse
        else:
            self.phone = _phone_once(phone, party.country or country) if phone else ""
        if party.line1:
            self.line1, self.line1_sorted = _once("line1", party.line1)
        else:
            self.line1 = self.line1_sorted = ""
        self.city = _once("city", party.city) if party.city else ""
        self.region = _once("region", party.region) if party.region else ""
        self.postal = _once("postal", party.postal_code) if party.postal_code else ""
        self.country = _once("country", party.country) if party.country else ""
        self.tax = _once("tax", party.tax_id) if party.tax_id else ""


# The native name reading, given names.py's tables; off when not built, or when a table is
# not of the shape it reads (then every name is read in Python).
NATIVE_NAMES = compiled.set_up(
    _native, "setup_names",
    NameReading, MAX_CHARS, LEGAL_PHRASES, TRADE_PHRASES, LONG_LEGAL_FORMS, LEGAL_INITIALS,
    PLACE_WORDS, JOB_SEPARATORS, TRADE_NAME_MARKERS, SOUND,
)  # fmt: skip
