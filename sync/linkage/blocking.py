"""Candidate search: several keys OR-ed together, so a true partner that differs in one
field is still found by another. A key shared by too many records ("roofing", a city) says
nothing and is skipped; the candidates that share the most keys are compared in full.
"""

import math
from collections.abc import Iterable
from functools import lru_cache
from itertools import combinations
from typing import Any

from rapidfuzz import fuzz

from . import compiled, records
from .names import NICKNAMES, sound_key
from .records import Features

# the native core, only from the stamped build in use (`compiled.py`): the same answers;
# without it, the plain Python below
_native: Any = compiled.native()
_NativeIndex = _native.Index if _native is not None else None

MAX_BLOCK = 60  # a key shared by more records than this does not narrow the search
CANDIDATES = 6  # compared in full per record (the partner is the first in 99.8 %)
STRONG = ("x:", "e:", "t:", "w:", "a:")  # tax ID, email, phone, website, street address
# Sharing one of these (or the company's email domain, or a phone's last 7 digits, or a
# household of the person's family name) makes a record a candidate whatever else it shares:
# common words must not crowd out an identifier.
IDENTIFIERS = (*STRONG, "d:", "t7", "h:")
IDENTIFIER_BLOCK = 20  # an "identifier" shared by more records is a switchboard, not an id
# A key shared by few records says more than one shared by many ("hernandez" beside
# "roofing"): each shared key counts by its rarity when candidates are ranked.
RARITY = [0.0] + [math.log((MAX_BLOCK + 2) / n) for n in range(1, MAX_BLOCK + 1)]
# The keys that find a misspelt name (a word and the other's initial, two words' sounds) are
# worth searching only while rare: shared by more, they add comparisons and say little.
TYPO_KEYS = frozenset({"ni:", "ss:"})
TYPO_BLOCK = 10
TIED = 6  # candidates past the cut that a tie at the cut is settled among
STRONG_KINDS = frozenset(k[0] for k in STRONG)
# Per kind of key (its first two characters), looked up once per shared key: (how much it
# counts: an identifier more than a shared word, whether it is an identifier).
KINDS = {k: (3 if k in STRONG else 1, k in IDENTIFIERS) for k in (*STRONG, *IDENTIFIERS)}
PLAIN = (1, False)


def keys(f: Features) -> list[str]:
    """The blocking keys of one party, each prefixed with its kind (worked out once)."""
    known = f.block_keys
    if known is None:
        if NATIVE_KEYS and f.trade is None:  # ASCII (most): made in C, the same keys
            known = _native.block_keys(f.tokens, f.email, f.domain, f.website, f.phone,
                                       f.postal, f.tax, f.line1, f.sounds, f.city,
                                       f.household)  # fmt: skip
        if known is None:
            known = _keys(f)
        f.block_keys = known
    return known


@lru_cache(maxsize=65536)  # a name's keys: most CRM names are written as in the books
def _name_keys(tokens: tuple[str, ...]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """A name's word keys and its sound-pair keys (kept apart: they go at their places)."""
    # The whole name with its spaces gone: a space slipped ("Hernande zHoldings", "Mc Intyre",
    # "MCCOYMECHANICAL") leaves it whole; a one-word name ("Adams", "Johnson Ltd") is rare here
    # where its word alone is shared by every Adams.
    out = [f"nj:{''.join(tokens)}"] if tokens else []
    # Bob is Robert: a nickname is found by its full form too (the words' keys use both)
    full = tuple(NICKNAMES.get(w, w) for w in tokens)
    if full != tokens:
        tokens = (*tokens, *(w for w in full if w not in tokens))
    out += [f"n:{w}" for w in tokens if len(w) > 1]
    # Two words of a name, one whole and the other by its first letter: rare where either
    # word alone is common, and a typo in the other ("Martin, Kvein" and "Kevin Martin" among
    # 40 Martins) seldom hits its first letter. (Two whole words found no more partners.)
    head = [w for w in tokens[:3] if len(w) > 1]
    out += [f"ni:{a}|{b[0]}" for a in head for b in head if a != b]
    # Typos in both words of a short name still sound alike ("Kenddra Morrsi" and "Kendra
    # Morris"): the sounds of two of its first words, in any order, anywhere; a nickname's
    # full form sounds too ("Tommy Loery" and "Thomas Lowery").
    heard = [sound_key(w) for w in tokens if len(w) > 1]
    pairs = [f"ss:{a}|{b}" for a, b in combinations(sorted(set(heard[:3])), 2)]
    return tuple(out), tuple(pairs)


def _keys(f: Features) -> list[str]:
    named, sound_pairs = _name_keys(tuple(f.tokens))
    out = list(named)
    for kind, value in (
        ("e", f.email), ("d", f.domain), ("w", f.website), ("t", f.phone), ("z", f.postal),
        ("x", f.tax), ("a", f.line1),
    ):  # fmt: skip
        if value:
            out.append(f"{kind}:{value}")
    if f.phone:
        out.append(f"t7:{f.phone[-7:]}")
    out += sound_pairs
    sounds = f.sounds
    if sounds:
        # A misspelt name still sounds alike: its first (and last) word's sound, within one
        # postal code or town. A town or a sound alone is shared by too many to say anything.
        if f.postal:
            out.append(f"zs:{f.postal}|{sounds[0]}")
        if f.city:
            out.append(f"cs:{f.city}|{sounds[0]}")
            if len(sounds) > 1:
                out.append(f"cs:{f.city}|{sounds[-1]}")
    if f.household:  # "Smith Residence", "Smith - 12 Oak St": found by any Smith (`probes`)
        out.append(f"h:{f.household}")
    if f.trade is not None:  # "X dba Y" is found by either name
        out += [k for k in keys(f.trade) if k[0] in "ns"]
    return out


# The native keys: with the native name reading's tables (its sounds), and NICKNAMES; off
# when not built (then every party's keys are made by `_keys`).
NATIVE_KEYS = records.NATIVE_NAMES and compiled.set_up(_native, "setup_keys", NICKNAMES)


def probes(f: Features) -> list[str]:
    """The keys a party searches with: its own, and a person's looks for the household of its
    family name ("Sara Morris" finds "Morris Residence" among forty Morrises: few households
    bear one family name, so the key is not indexed for every person)."""
    found = keys(f)
    if f.given and f.family and not f.household:
        return [*found, f"h:{f.family}"]
    return found


class BlockIndex:
    """The parties' blocks, by key. Where the native core is built (`_native.c`) it keeps
    them as flat C arrays and sums a search's candidates in a C array; otherwise the dicts
    below. Both give the same candidates in the same order, every sum the same double."""

    def __init__(self, parties: Iterable[Features] = ()):
        self.blocks: dict[str, list[int]] = {}  # the plain form's (empty with the native)
        self.names: list[str] = []  # to order candidates tied at the cut
        self.size = 0
        self.native: Any = None
        if _NativeIndex is not None:
            self.native = _NativeIndex(RARITY, KINDS, TYPO_KEYS, MAX_BLOCK, TYPO_BLOCK,
                                       IDENTIFIER_BLOCK)  # fmt: skip
        for f in parties:
            self.add(f)

    def add(self, f: Features) -> int:
        # The party's number is spent even if its keys are refused below: the matcher has
        # already appended it to its features, whose numbers the index's must stay.
        i = self.size
        self.size += 1
        self.names.append(f.sorted_name)
        found = keys(f)
        if self.native is not None:
            try:
                self.native.add(found)  # refused (a key not a str): nothing of it kept
            except Exception:
                self.native.add([])  # number i, no keys: later parties numbered as here
                raise
            return i
        for key in found:  # refused as the native index refuses it, before any block changes
            if type(key) is not str:
                raise TypeError("keys must be a list of str")
        blocks = self.blocks
        for key in found:  # a block past MAX_BLOCK is kept but never searched
            block = blocks.get(key)
            if block is None:
                blocks[key] = [i]
            else:
                block.append(i)
        return i

    def __getstate__(self) -> dict[str, Any]:
        """Copied and pickled in the plain form (the native index is C memory): its blocks as
        the plain dicts hold them, made native again on loading where the core is built."""
        native = self.native is not None
        blocks = self.native.blocks() if native else self.blocks
        return {"blocks": blocks, "names": self.names, "size": self.size, "native": native}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.blocks, self.names, self.size = state["blocks"], state["names"], state["size"]
        self.native = None  # plain, unless it was native and this process has the native core
        if not state["native"]:
            return
        if _NativeIndex is not None:
            native = _NativeIndex(RARITY, KINDS, TYPO_KEYS, MAX_BLOCK, TYPO_BLOCK,
                                  IDENTIFIER_BLOCK)  # fmt: skip
            parties: list[list[str]] = [[] for _ in range(self.size)]
            for key, block in self.blocks.items():  # each block's members in ascending order,
                for i in block:  # so adding the parties in order makes the same blocks
                    parties[i].append(key)
            for found in parties:
                native.add(found)
            self.blocks, self.native = {}, native

    def candidates(self, f: Features, limit: int = CANDIDATES) -> list[int]:
        """Indexes of the parties sharing the most (and rarest) keys with `f`, best first,
        then any other party sharing an identifier with it."""
        if self.native is not None:
            best, sums, sure = self.native.rank(probes(f), limit + TIED)
        else:
            best, sums, sure = self._rank(probes(f), limit + TIED)
        if len(best) > limit and sums[limit - 1] == sums[limit]:
            best = self._untie(f, sums, best, limit)
        best = best[:limit]
        return best + [i for i in sure if i not in best]

    def _rank(self, probes: list[str], keep: int) -> tuple[list[int], list[float], list[int]]:
        """The `keep` parties sharing the most (and rarest) keys, best first, with their sums,
        and the parties sharing a rare identifier, in ascending order (`_native.c`'s `rank`)."""
        blocks = self.blocks
        shared: dict[int, float] = {}
        sure: set[int] = set()
        for key in probes:
            block = blocks.get(key)
            if not block:
                continue
            size = len(block)
            if size <= TYPO_BLOCK or (size <= MAX_BLOCK and key[:3] not in TYPO_KEYS):
                strong, identifier = KINDS.get(key[:2], PLAIN)
                weight = RARITY[size] * strong
                for i in block:
                    shared[i] = shared.get(i, 0.0) + weight
                if identifier and size <= IDENTIFIER_BLOCK:
                    sure.update(block)
        # heapq.nlargest's answer (ties in first-shared order), sorted in C: a few hundred
        # candidates at most, so sorting them all is cheaper than nlargest's Python heap
        best = sorted(shared, key=shared.__getitem__, reverse=True)[:keep]
        return best, [shared[i] for i in best], sorted(sure)

    def _untie(self, f: Features, sums: list[float], best: list[int], limit: int) -> list[int]:
        """Candidates tied at the cut (ten "Pro ..." companies sharing one word with "Pro
        Restauamt") are ordered by how alike their names are, not by when they were added."""
        cut = sums[limit - 1]
        above = [i for i, s in zip(best, sums, strict=True) if s > cut]
        tied = [i for i, s in zip(best, sums, strict=True) if s == cut]
        names, name = self.names, f.sorted_name
        tied.sort(key=lambda i: -fuzz.ratio(name, names[i]))
        return above + tied

    def counts_by_kind(self, f: Features) -> dict[str, int]:
        """How many candidates each kind of key brings (written down per key)."""
        out: dict[str, int] = {}
        for key in keys(f):
            size = (
                self.native.size_of(key)
                if self.native is not None
                else len(self.blocks.get(key, ()))
            )
            if size and size <= MAX_BLOCK:
                kind = key.split(":", 1)[0]
                out[kind] = out.get(kind, 0) + size
        return out
