"""Fellegi-Sunter weights: how much each field's agreement level says for or against two
records being one party, learnt from the client's own two record sets without labels.

u (how often a level occurs between two unrelated records) comes from random pairs; m (how
often among true pairs) from EM over the pairs that share one training key, for the other
fields only, as splink trains. Gentle priors keep the weights sane when data are few.
"""

import hashlib
import json
import math
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from .compare import COMPARISONS, Comparison
from .records import Pattern

PRIOR_PAIRS = 20.0  # how many pairs' worth of belief the priors carry
FLOOR = 1e-6


@dataclass(frozen=True)
class Contribution:
    field: str
    level: str
    weight: float  # log2 Bayes factor: + for the same party, - against

    def words(self) -> str:
        return f"{self.field} {self.level} {self.weight:+.1f}"


@dataclass
class Model:
    m: list[list[float]]
    u: list[list[float]]
    prior: float  # the chance that two records picked at random are one party
    comparisons: Sequence[Comparison] = COMPARISONS

    @classmethod
    def default(
        cls, prior: float = 1e-4, comparisons: Sequence[Comparison] = COMPARISONS
    ) -> "Model":
        """Before any data: m from the priors, u as if agreement were rare among unrelated
        records."""
        m = [list(c.prior_m) for c in comparisons]
        u = [_default_u(len(c.levels)) for c in comparisons]
        return cls(m, u, prior, comparisons)

    def with_prior(self, prior: float) -> "Model":
        return Model(self.m, self.u, prior, self.comparisons)

    def weights(self) -> list[list[float]]:
        return [
            [math.log2(max(mk, FLOOR) / max(uk, FLOOR)) for mk, uk in zip(m, u, strict=True)]
            for m, u in zip(self.m, self.u, strict=True)
        ]

    def weight(self, comparison: int, level: int) -> float:
        """One level's weight (worked out once per model, not per decision)."""
        return self._weights[comparison][level]

    def score(self, pattern: Pattern) -> float:
        """Match weight: log2 of the prior odds plus each field's Bayes factor."""
        known = self._scores.get(pattern)
        if known is not None:
            return known
        w = self._weights
        total = math.log2(self.prior / (1 - self.prior))
        for k, level in enumerate(pattern):
            if level is not None:
                total += w[k][level]
        self._scores[pattern] = total  # a few hundred patterns recur over thousands of pairs
        return total

    def explain(self, pattern: Pattern) -> list[Contribution]:
        w = self._weights
        out = [
            Contribution(c.field, c.levels[level], w[k][level])
            for k, (c, level) in enumerate(zip(self.comparisons, pattern, strict=True))
            if level is not None
        ]
        return sorted(out, key=lambda c: -abs(c.weight))

    def __post_init__(self) -> None:
        self._weights = self.weights()
        self._scores: dict[Pattern, float] = {}

    def to_dict(self) -> dict:
        """Plain JSON: m, u, the prior and the fingerprint of the comparisons they are for."""
        return {
            "fingerprint": fingerprint(self.comparisons),
            "m": [[float(x) for x in row] for row in self.m],
            "u": [[float(x) for x in row] for row in self.u],
            "prior": float(self.prior),
        }

    @classmethod
    def from_dict(cls, data: object, comparisons: Sequence[Comparison] = COMPARISONS) -> "Model":
        """The model `to_dict` wrote; StoredModelUnusable when it was written for other
        comparisons (fields or levels changed since) or is not a model (wrong shape, a
        probability that is NaN, infinite or outside 0..1)."""
        if not isinstance(data, dict):
            raise StoredModelUnusable("not a stored model")
        if data.get("fingerprint") != fingerprint(comparisons):
            raise StoredModelUnusable("learnt for another set of compared fields or levels")
        m = _table(data.get("m"), comparisons, "m")
        u = _table(data.get("u"), comparisons, "u")
        prior = data.get("prior")
        if not isinstance(prior, int | float) or not _probability(prior) or not 0 < prior < 1:
            raise StoredModelUnusable(f"the prior is not a probability: {prior!r}")
        return cls(m, u, float(prior), comparisons)


class StoredModelUnusable(ValueError):
    """A stored model that cannot be used for today's comparisons; it is learnt again."""


def fingerprint(comparisons: Sequence[Comparison] = COMPARISONS) -> str:
    """Which fields are compared and with which levels: a stored model is for these only."""
    shape = [[c.field, list(c.levels)] for c in comparisons]
    return hashlib.sha256(json.dumps(shape).encode()).hexdigest()[:16]


def _probability(x: object) -> bool:
    return isinstance(x, int | float) and not isinstance(x, bool) and 0 <= x <= 1


def _table(rows: object, comparisons: Sequence[Comparison], name: str) -> list[list[float]]:
    if not isinstance(rows, list) or len(rows) != len(comparisons):
        raise StoredModelUnusable(f"{name} has no row per compared field")
    for row, c in zip(rows, comparisons, strict=True):
        if not isinstance(row, list) or len(row) != len(c.levels):
            raise StoredModelUnusable(f"{name} of {c.field} has not one value per level")
        if not all(_probability(x) for x in row):  # NaN and infinity fail 0 <= x <= 1
            raise StoredModelUnusable(f"{name} of {c.field} holds a value that is no probability")
    return [[float(x) for x in row] for row in rows]


def probability(weight: float) -> float:
    return 1.0 / (1.0 + 2.0 ** (-max(-60.0, min(60.0, weight))))


def _default_u(n: int) -> list[float]:
    agree = 0.01 / max(1, n - 1)
    return [1.0 - agree * (n - 1)] + [agree] * (n - 1)


def estimate_u(
    patterns: Iterable[Pattern], comparisons: Sequence[Comparison] = COMPARISONS
) -> list[list[float]]:
    """Level frequencies among random (so almost surely unrelated) pairs."""
    counts = [[0.0] * len(c.levels) for c in comparisons]
    for pattern in patterns:
        for k, level in enumerate(pattern):
            if level is not None:
                counts[k][level] += 1
    out = []
    for k, row in enumerate(counts):
        prior = _default_u(len(row))
        total = sum(row) + PRIOR_PAIRS
        out.append([(n + PRIOR_PAIRS * p) / total for n, p in zip(row, prior, strict=True)])
        del k
    return out


def estimate_m(
    patterns: Iterable[Pattern],
    u: list[list[float]],
    fields: set[int],
    comparisons: Sequence[Comparison] = COMPARISONS,
    *,
    iterations: int = 30,
) -> tuple[dict[int, list[float]], float]:
    """EM over pairs found by one training key (all pairs sharing an email, say), u held at
    the random pairs' values, as splink trains: m is learnt for `fields` only, never for
    the fields the key itself selected on (they agree by construction). Returns
    ({field: m}, expected true pairs). Priors keep m sane when the pairs are few."""
    counted = Counter(
        tuple(lv if k in fields else None for k, lv in enumerate(p)) for p in patterns
    )
    m = [list(c.prior_m) for c in comparisons]
    prior, matched = 0.5, 0.0
    if not counted:
        return {}, 0.0
    for _ in range(iterations):
        model = Model(m, u, prior, comparisons)
        sums = [[PRIOR_PAIRS * p for p in c.prior_m] for c in comparisons]
        matched = total = 0.0
        for pattern, count in counted.items():
            p = probability(model.score(pattern)) * count
            matched += p
            total += count
            for k, level in enumerate(pattern):
                if level is not None:
                    sums[k][level] += p
        new_m = [[s / sum(row) for s in row] for row in sums]
        change = max(
            abs(a - b) for x, y in zip(new_m, m, strict=True) for a, b in zip(x, y, strict=False)
        )
        m, prior = new_m, min(0.999, max(1e-4, matched / total))
        if change < 1e-5:
            break
    return {k: m[k] for k in fields}, matched


def combine(
    estimates: Iterable[tuple[dict[int, list[float]], float]],
    comparisons: Sequence[Comparison] = COMPARISONS,
) -> list[list[float]]:
    """Each field's m averaged over the training keys that learnt it (weighted by their
    expected true pairs); a field no key learnt keeps its prior."""
    sums = [[0.0] * len(c.levels) for c in comparisons]
    weight = [0.0] * len(comparisons)
    for m, matched in estimates:
        for k, row in m.items():
            weight[k] += matched
            sums[k] = [a + matched * b for a, b in zip(sums[k], row, strict=True)]
    return [
        [x / weight[k] for x in sums[k]] if weight[k] > 0 else list(c.prior_m)
        for k, c in enumerate(comparisons)
    ]
