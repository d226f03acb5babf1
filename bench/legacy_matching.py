"""The customer matcher shipped before issue 16, kept only as the benchmarks' "before"
baseline (bench/linkage.py, bench/matching.py, bench/matching_accuracy.py); the product
matches with `sync.linkage` (decision 0025) and finds duplicates with
`sync.linkage.duplicates` (decision 0027).

Finding the accounting customer a CRM record already is, before anything is created.

Cheapest evidence first: tax ID, email, normalised name with postal code; then fuzzy name
similarity (rapidfuzz) among a few blocked candidates — never all pairs, so 20,000 against
20,000 stays near-linear. A sure match links, a near one goes to review, only a clear miss
creates. The same index finds duplicates within one system.
"""

import re
import unicodedata
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from rapidfuzz import fuzz, process

LEGAL_WORDS = {
    "inc",
    "llc",
    "ltd",
    "co",
    "corp",
    "corporation",
    "company",
    "the",
    "and",
    "lp",
    "llp",
    "pllc",
}
SURE_SCORE = 96.0
NEAR_SCORE = 85.0
MAX_BLOCK = 400


@dataclass(frozen=True, slots=True)
class Party:
    """What matching looks at, from either side."""

    external_id: str
    name: str
    email: str = ""
    tax_id: str = ""
    postal_code: str = ""


@dataclass(frozen=True, slots=True)
class Match:
    kind: str  # "sure", "near" or "miss"
    candidate: Party | None
    score: float
    reason: str


# Letters with dots between them are one word: "L.L.C." is "llc", "J.R." is "jr".
DOTTED = re.compile(r"\b(?:[^\W\d_]\.)+[^\W\d_]\b")


def normalize_name(name: str) -> str:
    text = unicodedata.normalize("NFKD", name.casefold())
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    text = DOTTED.sub(lambda m: m.group().replace(".", ""), text)
    words = re.findall(r"[^\W_]+", text)
    kept = [w for w in words if w not in LEGAL_WORDS]
    return " ".join(kept or words)


def _numbers(normalized: str) -> frozenset[str]:
    return frozenset(w for w in normalized.split() if w.isdigit())


def _similarity(a: str, b: str, **kwargs) -> float:
    """Word order may differ ("Lee, Ann"), and so may letters within a word (a typo):
    the better of the two views."""
    return max(fuzz.token_sort_ratio(a, b), fuzz.ratio(a, b))


def _tax_key(tax_id: str) -> str:
    """The tax ID without punctuation; "" for one with no digit ("N/A", "-"), which is a
    placeholder, not an identity two customers could share."""
    compact = re.sub(r"[\W_]", "", tax_id).upper()
    return compact if any(ch.isdigit() for ch in compact) else ""


def _email_key(email: str) -> str:
    return email.strip().casefold()


def _postal(code: str) -> str:
    return re.sub(r"\s", "", code.upper())[:5]


def _blocks(normalized: str, postal: str) -> list[str]:
    words = normalized.split()
    if not words:
        return []
    keys = [f"w:{words[0]}:{words[-1][:2]}", f"l:{words[-1]}:{words[0][:1]}"]
    if postal:
        keys.append(f"p:{postal}:{words[0][:1]}")
    return keys


class CustomerIndex:
    def __init__(self, parties: Iterable[Party]):
        self.parties: list[Party] = []
        self.names: list[str] = []
        self.by_tax: dict[str, int] = {}
        self.by_email: dict[str, int] = {}
        self.by_name_postal: dict[tuple[str, str], int] = {}
        self.blocks: dict[str, list[int]] = defaultdict(list)
        for party in parties:
            self.add(party)

    def add(self, party: Party) -> None:
        i = len(self.parties)
        name = normalize_name(party.name)
        self.parties.append(party)
        self.names.append(name)
        if tax := _tax_key(party.tax_id):
            self.by_tax.setdefault(tax, i)
        if email := _email_key(party.email):
            self.by_email.setdefault(email, i)
        postal = _postal(party.postal_code)
        if name:  # a name of emoji or punctuation alone says nothing about who it is
            self.by_name_postal.setdefault((name, postal), i)
        for key in _blocks(name, postal):
            block = self.blocks[key]
            if len(block) < MAX_BLOCK:
                block.append(i)

    def match(self, party: Party, *, exclude: str | None = None) -> Match:
        name, postal = normalize_name(party.name), _postal(party.postal_code)

        def usable(i: int | None) -> bool:
            return i is not None and self.parties[i].external_id != exclude

        tax_key, email_key = _tax_key(party.tax_id), _email_key(party.email)
        tax = self.by_tax.get(tax_key) if tax_key else None
        if usable(tax):
            return Match("sure", self.parties[tax], 100.0, "same tax ID")
        by_email = self.by_email.get(email_key) if email_key else None
        if usable(by_email):
            score = fuzz.token_sort_ratio(name, self.names[by_email])
            kind = "sure" if score >= 60 else "near"
            return Match(kind, self.parties[by_email], score, "same email")
        exact = self.by_name_postal.get((name, postal))
        if usable(exact) and postal and name:
            return Match("sure", self.parties[exact], 100.0, "same name and postal code")
        pool = {i for key in _blocks(name, postal) for i in self.blocks.get(key, ())}
        numbers = _numbers(name)
        # Names that carry different numbers ("Unit 4", "Unit 5") are different customers.
        pool = [i for i in pool if usable(i) and _numbers(self.names[i]) == numbers]
        if not pool:
            return Match("miss", None, 0.0, "no similar customer")
        best = process.extractOne(name, [self.names[i] for i in pool], scorer=_similarity)
        score, candidate = best[1], self.parties[pool[best[2]]]
        same_postal = bool(postal) and _postal(candidate.postal_code) == postal
        if score >= SURE_SCORE and same_postal:
            return Match("sure", candidate, score, "nearly the same name, same postal code")
        if score >= NEAR_SCORE:
            return Match("near", candidate, score, "similar name: link, or create new?")
        return Match("miss", None, score, "no similar customer")


def find_duplicates(parties: list[Party]) -> list[tuple[Party, Party, Match]]:
    """Pairs within one system that look like one person (each pair reported once)."""
    index = CustomerIndex(parties)
    pairs, seen = [], set()
    for party in parties:
        found = index.match(party, exclude=party.external_id)
        if found.kind != "miss" and found.candidate is not None:
            key = tuple(sorted((party.external_id, found.candidate.external_id)))
            if key not in seen:
                seen.add(key)
                pairs.append((party, found.candidate, found))
    return pairs
