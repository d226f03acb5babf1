"""Duplicates inside one system: the customers of the books (or the companies of the CRM)
linked against themselves, through the same blocking, comparisons and weights as linking
the two systems (issue 16). Each unordered pair is reported once, never a record with
itself; pairs that chain (A~B, B~C) are grouped; each pair says in words what each field
contributed, as a link decision does. Names carrying other numbers ("Unit 4", "Unit 5")
never pair.

The weights are learnt from the set's own pairs the way `Matcher.fit` learns them from two
sets (u from random pairs, m by EM over the pairs sharing a training key, a prior from how
many records find a likely partner), or are the client's kept ones (m and u learnt linking
its two systems; the prior still the set's own), or are a supplied `Model`. Pure: plain
data in and out.
"""

import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from .compare import COMPARISONS, levels
from .matcher import (
    FEW,
    RANDOM_PAIRS,
    SURE,
    SURE_UNTRAINED,
    TRAINING_BLOCK,
    TRAINING_KEYS,
    TRAINING_RECORDS,
    Decision,
    Matcher,
)
from .model import Model, combine, estimate_m, estimate_u, probability
from .names import DEFAULT, Vocabulary
from .records import Party

# Records compared with each customer: more than a CRM record's candidates (blocking's
# CANDIDATES), because one customer may have been keyed in several times.
OTHERS = 8

# Before anything is learnt: one record in twenty taken to be a copy of another. (Linking
# two systems assumes one in two has a partner; within one book copies are far rarer, and
# with that prior two firms of one postal code would read as likely one.)
UNTRAINED_SHARE = 0.05
# Listed at or above: more likely one party than two. Linking's lower review threshold
# (NEAR) weighs a create against a link; within one system nothing is created, and a pair
# of one postal code with different names is not worth a person's look.
LIKELY = 0.5


@dataclass(frozen=True)
class Duplicate:
    """Two records of one system that look like one party: `decision.party` is the first,
    `decision.candidate` the second (in the order they were given)."""

    decision: Decision

    @property
    def first(self) -> Party:
        return self.decision.party

    @property
    def second(self) -> Party:
        return self.decision.candidate

    @property
    def kind(self) -> str:
        """ "sure" (one party without doubt) or "near" (a person should look)."""
        return self.decision.kind

    @property
    def probability(self) -> float:
        return self.decision.probability

    @property
    def reason(self) -> str:
        """'email equal +13.6, name equal once normalised +9.8, place differs -3.1'"""
        return self.decision.reason

    @property
    def ids(self) -> tuple[str, str]:
        return self.first.external_id, self.second.external_id


@dataclass(frozen=True)
class Group:
    """Records that are one party by a chain of pairs (A~B, B~C): A, B and C."""

    parties: tuple[Party, ...]
    pairs: tuple[Duplicate, ...]


def find_duplicates(
    parties: Iterable[Party],
    *,
    model: Model | None = None,
    vocabulary: Vocabulary = DEFAULT,
    country: str = "US",
    near: float = LIKELY,
    sure: float | None = None,
    kept: Model | None = None,
    seed: int = 0,
) -> list[Duplicate]:
    """Pairs of `parties` that look like one party (probability at or above `near`), most
    likely first. Without a `model` the weights are `kept` (a client's, decision 0026) with
    a prior from `parties`, else learnt from `parties` themselves. `sure`: a finding's
    threshold once the weights are kept or learnt; on the priors never below 0.99."""
    matcher = Matcher(parties, vocabulary=vocabulary, country=country, near=near)
    trained = model is not None
    if model is None:
        model, trained = fit_within(matcher, seed=seed, kept=kept)
    matcher.model = model
    matcher.sure = (sure or SURE) if trained else max(sure or 0.0, SURE_UNTRAINED)
    found: dict[tuple[int, int], Duplicate] = {}
    features = matcher.features
    for i, f in enumerate(features):
        # One more candidate than linking asks for: the record itself is among them.
        for s in matcher.scored(f, OTHERS + 1):
            j = s.customer
            pair = (min(i, j), max(i, j))
            if j == i or pair in found or probability(s.weight) < near:
                continue
            if features[j].party.external_id == f.party.external_id:
                continue  # the same record listed twice is not a duplicate of itself
            first, second = pair
            # Levels are symmetric: the pair is told from its first record's side.
            chosen = type(s)(s.weight, second, s.pattern, features[second])
            found[pair] = Duplicate(matcher._decide(features[first], chosen, chosen))
    return sorted(found.values(), key=lambda d: (-d.probability, d.ids))


def groups(pairs: Iterable[Duplicate]) -> list[Group]:
    """Pairs that share a record, grouped (A~B and B~C: one group of three), largest first."""
    pairs = list(pairs)
    parent: dict[str, str] = {}

    def root(x: str) -> str:
        while parent.setdefault(x, x) != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    parties: dict[str, Party] = {}
    for d in pairs:
        for p in (d.first, d.second):
            parties.setdefault(p.external_id, p)
        a, b = root(d.first.external_id), root(d.second.external_id)
        if a != b:
            parent[max(a, b)] = min(a, b)
    members: dict[str, list[str]] = {}
    for key in parties:
        members.setdefault(root(key), []).append(key)
    out = []
    for root_id, ids in members.items():
        chosen = [d for d in pairs if root(d.first.external_id) == root_id]
        out.append(Group(tuple(parties[i] for i in ids), tuple(chosen)))
    return sorted(out, key=lambda g: (-len(g.parties), g.parties[0].external_id))


def fit_within(matcher: Matcher, seed: int = 0, kept: Model | None = None) -> tuple[Model, bool]:
    """(weights learnt from one record set's own pairs, whether there were enough records
    to trust them). As `Matcher.fit`, with both sides the same set: random pairs of two
    different records for u; for m, the pairs sharing a training key, a record never with
    itself; the prior from the share of records with a likely partner other than itself.
    With `kept` weights (learnt from the client's records, so trusted) only the prior is
    worked out here: a kept prior is about partners across two systems, not copies."""
    features = matcher.features
    n = len(features)
    if n < FEW:  # too few to learn from: copies taken to be rare
        prior = min(0.5, UNTRAINED_SHARE / max(1, n - 1))
        return (Model.default(prior), False) if kept is None else (kept.with_prior(prior), True)
    rng = random.Random(seed)  # noqa: S311 - sampling, not secrecy
    picked = range(n) if n <= TRAINING_RECORDS else rng.sample(range(n), TRAINING_RECORDS)
    sample = list(picked)
    if kept is not None:
        return _with_prior_within(matcher, kept, sample), True
    u = estimate_u(levels(*rng.sample(features, 2)) for _ in range(RANDOM_PAIRS))
    everything = set(range(len(COMPARISONS)))
    estimates = []
    chosen = set(sample)
    for key, selected in TRAINING_KEYS:
        by_key: dict[str, list[int]] = {}
        for i, f in enumerate(features):
            if value := key(f):
                by_key.setdefault(value, []).append(i)
        patterns = [
            levels(features[i], features[j])
            for i in sample
            if (value := key(features[i])) and len(found := by_key.get(value, ())) <= TRAINING_BLOCK
            for j in found
            if j != i and (j not in chosen or i < j)  # each pair once
        ]
        estimates.append(estimate_m(patterns, u, everything - selected))
    return _with_prior_within(matcher, Model(combine(estimates), u, 1 / n), sample), True


def _with_prior_within(matcher: Matcher, weights: Model, sample: list[int]) -> Model:
    """The weights with the set's own prior, in two rounds as `Matcher.fit`: a first guess
    of one partner each, then the share of records whose best other candidate is likely
    the same party. Pairs expected: share x n / 2, over n (n - 1) / 2 pairs."""
    features = matcher.features
    n = len(features)
    matcher.model = weights.with_prior(min(0.5, 1 / n))
    best = []
    for i in sample:
        others = [s.weight for s in matcher.scored(features[i], OTHERS + 1) if s.customer != i]
        best.append(max(others, default=-99.0))
    share = min(1.0, max(0.01, sum(probability(w) for w in best) / len(sample)))
    return weights.with_prior(min(0.5, share / (n - 1)))


def sure_pairs(pairs: Sequence[Duplicate]) -> list[Duplicate]:
    return [d for d in pairs if d.kind == "sure"]
