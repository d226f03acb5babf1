"""Candidate search: several keys OR-ed together, so a true partner that differs in one
field is still found by another. A key shared by too many records ("roofing", a city) says
nothing and is skipped; the candidates that share the most keys are compared in full.
"""

from collections import Counter, defaultdict
from collections.abc import Iterable
from itertools import combinations

from .records import Features

MAX_BLOCK = 60  # a key shared by more records than this does not narrow the search
CANDIDATES = 8  # compared in full per record
STRONG = ("x:", "e:", "t:", "w:", "a:")  # tax ID, email, phone, website, street address


def keys(f: Features) -> list[str]:
    """The blocking keys of one party, each prefixed with its kind (worked out once)."""
    known = f.__dict__.get("block_keys")
    if known is None:
        known = f.__dict__["block_keys"] = _keys(f)
    return known


def _keys(f: Features) -> list[str]:
    out = [f"n:{w}" for w in f.tokens if len(w) > 1]
    out += [f"s:{s}" for s in f.sounds]
    out += [f"nn:{a}|{b}" for a, b in combinations(sorted(set(f.tokens[:5])), 2)]
    for kind, value in (
        ("e", f.email), ("d", f.domain), ("w", f.website), ("t", f.phone), ("z", f.postal),
        ("x", f.tax), ("a", f.line1), ("c", f.city),
    ):  # fmt: skip
        if value:
            out.append(f"{kind}:{value}")
    if f.phone:
        out.append(f"t7:{f.phone[-7:]}")
    if f.postal and f.sounds:
        out.append(f"zs:{f.postal}|{f.sounds[0]}")
    return out


class BlockIndex:
    def __init__(self, parties: Iterable[Features] = ()):
        self.blocks: dict[str, list[int]] = defaultdict(list)
        self.size = 0
        for f in parties:
            self.add(f)

    def add(self, f: Features) -> int:
        i = self.size
        self.size += 1
        for key in keys(f):
            block = self.blocks[key]
            if len(block) <= MAX_BLOCK:  # one past the limit marks it as too common
                block.append(i)
        return i

    def candidates(self, f: Features, limit: int = CANDIDATES) -> list[int]:
        """Indexes of the parties sharing the most keys with `f`, best first."""
        shared: Counter[int] = Counter()
        for key in keys(f):
            block = self.blocks.get(key)
            if block and len(block) <= MAX_BLOCK:
                shared.update(block)
                if key[:2] in STRONG:  # an identifier counts for more than a shared word
                    shared.update(block)
                    shared.update(block)
        return [i for i, _ in shared.most_common(limit)]

    def counts_by_kind(self, f: Features) -> dict[str, int]:
        """How many candidates each kind of key brings (written down per key)."""
        out: dict[str, int] = {}
        for key in keys(f):
            block = self.blocks.get(key)
            if block and len(block) <= MAX_BLOCK:
                kind = key.split(":", 1)[0]
                out[kind] = out.get(kind, 0) + len(block)
        return out
