"""Business and person names reduced to what identifies them, driven by data.

"The Okafor Bros. Const. Co., L.L.C." and "Okafor Brothers Construction" are one company:
legal forms in any spelling are dropped, trade abbreviations expanded, "&"/"and", "The",
punctuation, case and diacritics ignored. The tables below are the data; a client adds its
own words with `Vocabulary.extended(...)`.
"""

import re
import unicodedata
from collections.abc import Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from typing import NamedTuple

from rapidfuzz.distance import Levenshtein

# Every spelling, after lower-casing and joining dotted letters ("L.L.C." → "llc").
LEGAL_FORMS = frozenset(
    [
        "inc",
        "incorporated",
        "incorp",
        "llc",
        "lc",
        "ltd",
        "limited",
        "co",
        "company",
        "cos",
        "corp",
        "corporation",
        "plc",
        "pty",
        "pllc",
        "llp",
        "lp",
        "gmbh",
        "ag",
        "sa",
        "sarl",
        "srl",
        "bv",
        "nv",
        "ab",
        "as",
        "oy",
        "kk",
        "spa",
        "sas",
        "ulc",
        "lllp",
        "pc",
        "pa",
        "sl",
        "kg",
        "ohg",
        "ug",
        "mbh",
        "proprietary",  # "Proprietary Limited": Australia's Pty Ltd written out
        "ltee",  # Quebec: "Ltée", "Limitée", "Incorporée", "Enr."
        "limitee",
        "incorporee",
        "enr",
    ]
)
# Long legal forms, whose misspelling ("Limitd", "Icorporated") at a name's end is still one
LONG_LEGAL_FORMS = ("limited", "incorporated", "corporation", "company", "proprietary")
# their first letters, and the second ones ("Icorporated"): most words are ruled out at once
LEGAL_INITIALS = frozenset("licpnor")
# Legal forms written as two or more words, joined before the single-word step.
LEGAL_PHRASES = (
    ("limited", "liability", "company"),
    ("limited", "liability", "partnership"),
    ("limited", "partnership"),
    ("professional", "corporation"),
    ("pty", "ltd"),
    ("co", "ltd"),
)
FILLER = frozenset({"the", "and", "of"})
# Trade phrases written as one word or as initials, read as that one word (after the legal
# forms are dropped, before the single-word abbreviations).
TRADE_PHRASES = {
    ("homeowners", "association"): "hoa",
    ("homeowners", "assn"): "hoa",
    ("homeowners", "assoc"): "hoa",
    ("home", "owners", "association"): "hoa",
    ("home", "owners", "assn"): "hoa",
    ("home", "owners", "assoc"): "hoa",
    ("owners", "corporation"): "hoa",  # an Australian strata's body corporate
    ("air", "conditioning"): "ac",
    ("a", "c"): "ac",  # "A/C"
    ("property", "management"): "pm",
    ("auto", "repair"): "automotive",
}
PHRASE_WORDS = frozenset(phrase[0] for phrase in TRADE_PHRASES)
# Trade words as contractors abbreviate them (the expansion is what is compared).
ABBREVIATIONS = {
    "const": "construction",
    "constr": "construction",
    "cnstr": "construction",
    "constrn": "construction",
    "bros": "brothers",
    "bro": "brothers",
    "mech": "mechanical",
    "elec": "electric",
    "electrical": "electric",
    "svc": "services",
    "svcs": "services",
    "serv": "services",
    "service": "services",
    "plbg": "plumbing",
    "plmbg": "plumbing",
    "mfg": "manufacturing",
    "htg": "heating",
    "hvac": "hvac",
    "rfg": "roofing",
    "contr": "contractors",
    "contractor": "contractors",
    "contracting": "contractors",
    "bldrs": "builders",
    "bldr": "builders",
    "builder": "builders",
    "reno": "renovations",
    "renovation": "renovations",
    "landscape": "landscaping",
    "lndscp": "landscaping",
    "maint": "maintenance",
    "dev": "development",
    "devel": "development",
    "intl": "international",
    "natl": "national",
    "assoc": "associates",
    "assocs": "associates",
    "ent": "enterprises",
    "enterprise": "enterprises",
    "grp": "group",
    "hldgs": "holdings",
    "inst": "installation",
    "mgmt": "management",
    "prop": "properties",
    "props": "properties",
    "sys": "systems",
    "tech": "technologies",
    "ch": "church",
    "mtce": "maintenance",
    "mtc": "maintenance",
    "clg": "cooling",
    "aircon": "ac",
    "auto": "automotive",
    "devs": "development",
    "developments": "development",
    "renos": "renovations",
    "landscapes": "landscaping",
    "remodelling": "remodeling",
    "plumb": "plumbing",
    "st": "saint",
    "mt": "mount",
    "ft": "fort",
    "n": "north",
    "s": "south",
    "e": "east",
    "w": "west",
}


@dataclass(frozen=True)
class Vocabulary:
    """The words a name is reduced with; `extended` adds a client's own."""

    legal_forms: frozenset[str] = LEGAL_FORMS
    filler: frozenset[str] = FILLER
    abbreviations: dict[str, str] = field(default_factory=lambda: dict(ABBREVIATIONS))
    # Names already read with these words (records.read_name): company names repeat across
    # the books and the CRM, so each distinct one is taken apart once.
    readings: dict = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        # Words of another type would make the two readings fail at different places (the
        # Python one raises where the native one reads on): refused where they are given.
        tables = (self.legal_forms, self.filler, self.abbreviations, self.abbreviations.values())
        if not all(isinstance(word, str) for table in tables for word in table):
            raise TypeError("a vocabulary's words must be str")

    @cached_property
    def business(self) -> frozenset[str]:
        """Words that make a name a business's, not a person's ("llc", "plumbing")."""
        return self.legal_forms | frozenset(self.abbreviations.values())

    def extended(
        self,
        *,
        legal_forms: AbstractSet[str] = frozenset(),
        abbreviations: dict[str, str] | None = None,
    ) -> "Vocabulary":
        return Vocabulary(
            self.legal_forms | {w.casefold() for w in legal_forms},
            self.filler,
            self.abbreviations
            | {k.casefold(): v.casefold() for k, v in (abbreviations or {}).items()},
        )


DEFAULT = Vocabulary()
# Letters with dots between them are one word: "L.L.C." is "llc".
DOTTED = re.compile(r"\b(?:[^\W\d_]\.)+[^\W\d_]?\b\.?")
WORD = re.compile(r"[^\W_]+")
MAX_CHARS = 300  # a 10,000-character "name" is compared by its start, not refused
# Marks inside a word, not between words: "O'Brien" typed with a straight or a curly
# (U+2019) apostrophe is one word; Hebrew writes abbreviations with geresh and gershayim
# ("בע״מ", the Hebrew "Ltd").
IN_WORD = str.maketrans(dict.fromkeys("'\u2019\u02bc\u05f3\u05f4"))


def plain(text: str) -> str:
    """Case-folded, without diacritics; letters of every script kept."""
    text = text[:MAX_CHARS].casefold()
    if text.isascii():  # most names: nothing to take apart
        return text
    text = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in text if not unicodedata.combining(ch))


def words(text: str) -> list[str]:
    if not text:
        return []
    text = plain(text)
    if "." in text:
        text = DOTTED.sub(lambda m: m.group().replace(".", "") + " ", text)
    text = text.replace("&", " and ")
    if "'" in text or not text.isascii():  # translating walks every character: only if needed
        text = text.translate(IN_WORD)
    return WORD.findall(text)


PHRASE_STARTS = frozenset(phrase[0] for phrase in LEGAL_PHRASES)


def _drop_phrases(tokens: list[str]) -> list[str]:
    if PHRASE_STARTS.isdisjoint(tokens):
        return tokens
    out, i = [], 0
    while i < len(tokens):
        for phrase in LEGAL_PHRASES:
            if tuple(tokens[i : i + len(phrase)]) == phrase:
                i += len(phrase)
                break
        else:
            out.append(tokens[i])
            i += 1
    return out


def _join_phrases(tokens: list[str]) -> list[str]:
    if PHRASE_WORDS.isdisjoint(tokens):
        return tokens
    out, i = [], 0
    while i < len(tokens):
        for phrase, word in TRADE_PHRASES.items():
            if tuple(tokens[i : i + len(phrase)]) == phrase:
                out.append(word)
                i += len(phrase)
                break
        else:
            out.append(tokens[i])
            i += 1
    return out


def _misspelt_legal_form(word: str, legal: frozenset[str]) -> bool:
    if len(word) < 6 or word[0] not in LEGAL_INITIALS or word in legal or not word.isalpha():
        return False
    return any(
        abs(len(word) - len(form)) <= 1 and Levenshtein.distance(word, form, score_cutoff=1) <= 1
        for form in LONG_LEGAL_FORMS
    )


def company_tokens(name: str, vocabulary: Vocabulary = DEFAULT) -> list[str]:
    """The words that tell this company from others, in their written order. A name that is
    only a legal form ("LLC") keeps it: the word is all there is to compare."""
    raw = words(name)
    expanded = [vocabulary.abbreviations.get(w, w) for w in _join_phrases(_drop_phrases(raw))]
    legal = vocabulary.legal_forms
    if len(expanded) > 1 and _misspelt_legal_form(expanded[-1], legal):
        expanded = expanded[:-1]  # "2209925 Ontario Limitd" is "2209925 Ontario Limited"
    kept = [w for w in expanded if w not in legal and w not in vocabulary.filler]
    return kept or [vocabulary.abbreviations.get(w, w) for w in raw]


def only_legal_form(name: str, vocabulary: Vocabulary = DEFAULT) -> bool:
    """ "LLC", "Inc.", "The Company": words, but none that tells one company from another."""
    raw = words(name)
    legal, filler = vocabulary.legal_forms, vocabulary.filler  # not their union: per name
    return bool(raw) and all(w in legal or w in filler for w in _drop_phrases(raw))


def normalize_company(name: str, vocabulary: Vocabulary = DEFAULT) -> str:
    return " ".join(company_tokens(name, vocabulary))


# Given names and their common short forms (Bob is Robert): data, easy to extend.
NICKNAMES = {
    "bob": "robert", "bobby": "robert", "rob": "robert", "robbie": "robert", "bert": "robert",
    "bill": "william", "billy": "william", "will": "william", "willy": "william",
    "liz": "elizabeth", "beth": "elizabeth", "betty": "elizabeth", "liza": "elizabeth",
    "lisa": "elizabeth", "eliza": "elizabeth", "jim": "james", "jimmy": "james",
    "jamie": "james", "mike": "michael", "mick": "michael", "dave": "david", "davey": "david",
    "dan": "daniel", "danny": "daniel", "tom": "thomas", "tommy": "thomas", "joe": "joseph",
    "joey": "joseph", "chris": "christopher", "kate": "katherine", "katie": "katherine",
    "kathy": "katherine", "cathy": "catherine", "sue": "susan", "suzy": "susan",
    "jen": "jennifer", "jenny": "jennifer", "steve": "steven", "stephen": "steven",
    "tony": "anthony", "rick": "richard", "ricky": "richard", "rich": "richard",
    "dick": "richard", "matt": "matthew", "nick": "nicholas", "pat": "patrick",
    "patty": "patricia", "peggy": "margaret", "maggie": "margaret", "meg": "margaret",
    "sam": "samuel", "andy": "andrew", "drew": "andrew", "alex": "alexander",
    "ben": "benjamin", "greg": "gregory", "jeff": "jeffrey", "jon": "jonathan",
    "ken": "kenneth", "kenny": "kenneth", "larry": "lawrence", "ron": "ronald",
    "ronnie": "ronald", "tim": "timothy", "frank": "francis", "chuck": "charles",
    "charlie": "charles", "ed": "edward", "eddie": "edward", "ted": "edward",
    "fred": "frederick", "hank": "henry", "harry": "henry", "jack": "john", "johnny": "john",
    "debbie": "deborah", "deb": "deborah", "barb": "barbara", "cindy": "cynthia",
    "sandy": "sandra", "terry": "terrence", "vicky": "victoria", "tori": "victoria",
    "abby": "abigail", "becky": "rebecca", "josh": "joshua", "nate": "nathan",
    "zach": "zachary", "phil": "phillip", "philip": "phillip", "ray": "raymond",
    "don": "donald", "donny": "donald", "doug": "douglas", "jerry": "gerald",
    "gerry": "gerald", "len": "leonard", "lou": "louis", "mandy": "amanda",
    "annie": "anne", "ann": "anne", "nancy": "anne", "wes": "wesley", "walt": "walter",
    "stan": "stanley", "russ": "russell", "al": "albert", "vince": "vincent",
    "tess": "theresa", "teresa": "theresa", "jess": "jessica", "jessie": "jessica",
    "val": "valerie", "nat": "natalie", "gabe": "gabriel", "mel": "melissa",
    "manny": "emmanuel", "bea": "beatrice", "cam": "cameron", "jackie": "jacqueline",
}  # fmt: skip


def given_form(given: str) -> str:
    """A given name as its full form ("bob" -> "robert"), for comparing two people's."""
    first = given.partition(" ")[0]
    return NICKNAMES.get(first, first)


# How a customer's name is written beside who the customer is (data, easy to extend):
# "X dba Y": a legal name and a trade name, either may be what the other system holds.
TRADE_NAME_MARKERS = ("dba", "d/b/a", "d.b.a.", "t/a", "trading as", "doing business as",
                      "o/a", "operating as", "aka", "a.k.a.")  # fmt: skip
# A person's customer written as the place: "Nicholson Residence", "The Smith Household".
PLACE_WORDS = frozenset({"residence", "household", "home", "house", "res", "family"})
# A job named after its site, "Smith - 12 Oak St": the part before the dash is the customer
# (only when the part after it starts with a house number, so "Molly Maid - Markham" stays).
JOB_SEPARATORS = (" - ", " \N{EN DASH} ", " \N{EM DASH} ", " / ")
# A match starts where its run of spaces starts (`(?<!\s)`): tried again from every space of
# a long run, each try running to its end, a name of 40,000 spaces took a minute.
TRADE_SPLIT = re.compile(
    r"(?<!\s)\s+(?:" + "|".join(re.escape(m) for m in TRADE_NAME_MARKERS) + r")(?=\s)\s*", re.I
)


class NameForm(NamedTuple):  # a tuple: built for every distinct name (a frozen dataclass,
    # compiled or not, is built through its Python __init__: ~3 µs a name)
    name: str  # the customer's name, as compared
    trade: str = ""  # a trade name written beside the legal one
    given: str = ""  # a person's parts, when the name is written as one ("Smith, Robert")
    family: str = ""
    household: bool = False  # the name is a person's place or job: "Smith Residence"


def name_form(name: str, vocabulary: Vocabulary = DEFAULT) -> NameForm:
    """The customer behind a written name: a job's site dropped, a trade name set apart, a
    person's name written "Family, Given" or as the place ("Smith Residence") taken apart."""
    job = False
    for separator in JOB_SEPARATORS:
        head, found, site = name.partition(separator)
        if found and head.strip() and site.strip()[:1].isdigit():
            name, job = head, True
            break
    legal, *trade = TRADE_SPLIT.split(name, maxsplit=1)
    if trade and legal.strip() and trade[0].strip():
        return NameForm(legal, trade[0])
    # `business` is read only where a name may be a person's: compiled by mypyc, the cached
    # property is worked out again on every read (~1 µs, for every distinct name)
    family, comma, given = name.partition(",")
    if comma:
        parts = (words(family), words(given))
        person = [w for p in parts for w in p]
        one_comma = "," not in given and all(0 < len(p) <= 2 for p in parts)
        business = vocabulary.business
        if one_comma and all(w.isalpha() and w not in business for w in person):
            return NameForm(name, given=" ".join(parts[1]), family=" ".join(parts[0]))
    ws = [w for w in words(name) if w not in vocabulary.filler]
    if ws and ws[-1] in PLACE_WORDS and 1 <= len(ws) - 1 <= 2:
        person = ws[:-1]
        business = vocabulary.business
        if all(w.isalpha() and w not in business for w in person):
            given = person[0] if len(person) == 2 else ""
            return NameForm(" ".join(person), given=given, family=person[-1], household=True)
    if job and len(ws) == 1 and ws[0].isalpha() and ws[0] not in vocabulary.business:
        # "Anderson - 38 Ann Street": the Andersons' job
        return NameForm(name, family=ws[0], household=True)
    return NameForm(name)


NUMBER = re.compile(r"\d+")


def numbers_in(tokens: Sequence[str]) -> tuple[str, ...]:
    """Numbers in a name, in their written order ("Unit 4", "Unit 5"; "3ontario" has 3)."""
    # a word of letters only (most) has no digit: not searched
    return tuple(n for w in tokens if not w.isalpha() for n in NUMBER.findall(w))


def numbers_differ(a: tuple[str, ...], b: tuple[str, ...]) -> bool:
    """Both names carry numbers and they are not the same ones ("Unit 4" and "Unit 5" are two
    customers). A number in one name only ("Anderson - 38 Ann Street", "2955264 B.C. Corp"
    against its trade name) says nothing: the other fields decide. A space slipped inside a
    number ("196634 3Ontario") is the same number."""
    return bool(a and b) and set(a) != set(b) and "".join(a) != "".join(b)


# A phonetic key in the spirit of Soundex, for any word: letters that sound alike share a
# digit, vowels drop out after the first letter. Kept here (twelve lines) rather than a new
# runtime dependency; non-Latin words are their own key.
SOUND = {c: d for d, letters in enumerate(("bfpv", "cgjkqsxz", "dt", "l", "mn", "r"), 1)
         for c in letters}  # fmt: skip


@lru_cache(maxsize=65536)  # words repeat: surnames, trades, towns
def sound_key(word: str) -> str:
    if not word or not word[0].isascii() or not word[0].isalpha():
        return word
    key, last = word[0], SOUND.get(word[0], 0)
    for ch in word[1:]:
        digit = SOUND.get(ch, 0)
        if digit and digit != last:
            key += str(digit)
        if ch not in "hw":
            last = digit
    return (key + "000")[:4]
