"""Which accounting customer each CRM record is: candidates from the block index, every
field weighed by the Fellegi-Sunter model, links assigned one to one over the batch.

A sure match links, a near one goes to review with each field's contribution in words, a
clear miss is created. A customer already taken (by an existing link or a stronger pair in
this batch) is never silently given a second partner: the weaker record goes to review.
"""

import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from rapidfuzz import fuzz

from .blocking import CANDIDATES, BlockIndex
from .compare import COMPARISONS, TAX_ID, levels
from .model import Contribution, Model, Pattern, combine, estimate_m, estimate_u, probability
from .names import DEFAULT, Vocabulary
from .records import Features, Party

SURE = 0.90  # probability at or above which a pair links without a person (decision 0025)
SURE_UNTRAINED = 0.99  # the same, while the weights are the priors' (few records to learn from)
NEAR = 0.20  # at or above: a person decides; below: a new customer
# A conflicting tax ID holds a pair for review when the client's data show tax IDs to be
# reliable (true pairs almost never differ: weight at or below this); in data where they
# are often mistyped, the weight alone counts against.
TRUSTED_CONFLICT = -6.0
RANDOM_PAIRS = 20_000
FEW = 200  # fewer records than this on a side: too few to learn u or the prior from
TRAINING_RECORDS = 2_000
TRAINING_BLOCK = 20  # pairs of a key shared by more records than this teach little
# Training keys, each with the comparisons it selects on (those are not learnt from it).
TRAINING_KEYS = (
    (lambda f: f.sorted_name, {0, 1, 2}),
    (lambda f: f.email, {3, 4}),
    (lambda f: f.phone, {5}),
    (lambda f: f.postal and f"{f.postal}|{f.line1}", {6, 7}),
    (lambda f: f.tax, {9}),
    (lambda f: f.family and f"{f.family}|{f.given}", {0, 1, 2}),
)


@dataclass(frozen=True)
class Decision:
    party: Party
    kind: str  # "sure", "near" or "miss"
    candidate: Party | None = None
    probability: float = 0.0
    weight: float = 0.0
    contributions: tuple[Contribution, ...] = ()
    note: str = ""  # why a likely pair was not linked (taken by another, tax ID conflict)

    @property
    def reason(self) -> str:
        """'email equal +7.9, name nearly equal (91 % alike) +4.2, postal code differs -2.1'"""
        text = ", ".join(c.words() for c in self.contributions) or "no field to compare"
        return f"{text}; {self.note}" if self.note else text


@dataclass
class _Scored:
    weight: float
    customer: int
    pattern: Pattern
    features: Features = field(repr=False, default=None)


class Matcher:
    def __init__(
        self,
        customers: Iterable[Party],
        *,
        vocabulary: Vocabulary = DEFAULT,
        country: str = "US",
        model: Model | None = None,
        sure: float | None = None,
        near: float = NEAR,
    ):
        self.vocabulary, self.country = vocabulary, country
        self._prepared: dict[int, tuple[Party, Features]] = {}  # the records fit looked at
        self.features: list[Features] = []
        self.index = BlockIndex()
        for party in customers:
            self.add(party)
        # Unfitted: each record has an even chance of a partner, spread over the customers.
        self.model = model or Model.default(min(0.5, 0.5 / max(1, len(self.features))))
        self.near = near
        self.sure = sure or (SURE if model is not None else SURE_UNTRAINED)

    def add(self, party: Party) -> None:
        """A customer created in this run: later records that are the same find it."""
        f = Features(party, self.vocabulary, self.country)
        self.features.append(f)
        self.index.add(f)

    def prepare(self, party: Party) -> Features:
        """The party's features; those of a record `fit` learnt from are not worked out twice."""
        known = self._prepared.get(id(party))
        if known is not None and known[0] is party:
            return known[1]
        return Features(party, self.vocabulary, self.country)

    def fit(self, incoming: Sequence[Party], seed: int = 0) -> Model:
        """Learn the weights from both record sets: u from random pairs; m by EM over the
        pairs sharing each training key, for the fields that key did not select on; the
        prior from how many incoming records find a likely partner."""
        rng = random.Random(seed)  # noqa: S311 - sampling, not secrecy
        if not self.features or not incoming:
            return self.model
        sample = incoming if len(incoming) <= TRAINING_RECORDS else rng.sample(
            list(incoming), TRAINING_RECORDS
        )  # fmt: skip
        prepared = [self.prepare(p) for p in sample]
        self._prepared = {id(f.party): (f.party, f) for f in prepared}
        u = estimate_u(self._random_pairs(prepared, rng))
        estimates = []
        everything = set(range(len(COMPARISONS)))
        for key, selected in TRAINING_KEYS:
            by_key: dict[str, list[int]] = {}
            for i, f in enumerate(self.features):
                if value := key(f):
                    by_key.setdefault(value, []).append(i)
            patterns = [
                levels(f, self.features[i])
                for f in prepared
                if (value := key(f)) and len(found := by_key.get(value, ())) <= TRAINING_BLOCK
                for i in found
            ]
            estimates.append(estimate_m(patterns, u, everything - selected))
        m = combine(estimates)
        # The prior: records with a likely partner, over all pairs (two rounds settle it).
        # A first guess of one partner each, then the share that finds a likely one.
        # Too few incoming records to tell (a webhook's one): assume half have a partner.
        self.model = Model(m, u, min(0.5, 1 / len(self.features)))
        share = 0.5
        if len(prepared) >= FEW:
            best = [max((s.weight for s in self.scored(f)), default=-99.0) for f in prepared]
            share = min(1.0, max(0.01, sum(probability(w) for w in best) / len(prepared)))
        # Expected pairs over all pairs: at most one partner each, so the larger side counts
        # (three customers and 500 CRM records make at most three pairs).
        self.model = Model(m, u, min(0.5, share / max(len(self.features), len(incoming))))
        if len(self.features) >= FEW and len(prepared) >= FEW:
            self.sure = SURE  # learnt from enough of both sides to trust its probabilities
        return self.model

    def _random_pairs(self, prepared: list[Features], rng: random.Random):
        """Pairs that are almost surely two parties: incoming x customers when both sets are
        large; two different customers when few records come in (a webhook); none (the
        priors alone) when the books are tiny, where random pairs would be the true ones."""
        books = self.features
        if len(books) >= FEW and len(prepared) >= FEW:
            for _ in range(RANDOM_PAIRS):
                yield levels(rng.choice(prepared), rng.choice(books))
        elif len(books) >= FEW:
            for _ in range(RANDOM_PAIRS):
                a, b = rng.sample(books, 2)
                yield levels(a, b)

    def for_this_run(self, records: int) -> "Matcher":
        """An empty matcher for the customers a run is about to create, with this one's
        weights: a later record of the run that is one of them goes to review. Two of a
        run's own records being one company is rare: the prior says so."""
        model = self.model.with_prior(0.5 / max(FEW, records))
        return Matcher([], vocabulary=self.vocabulary, country=self.country, model=model,
                       sure=self.sure)  # fmt: skip

    def scored(self, f: Features, limit: int = CANDIDATES) -> list[_Scored]:
        score, features = self.model.score, self.features
        out = [
            _Scored(score(pattern), i, pattern, features[i])
            for i, pattern in self._compared(f, limit)
        ]
        out.sort(key=lambda s: -s.weight)
        return out

    def _compared(self, f: Features, limit: int) -> list[tuple[int, Pattern]]:
        """The candidates' agreement patterns; kept with the record while the books are the
        same (fit's second round and the batch then score the same pairs: only the weights
        differ)."""
        known = f.__dict__.get("compared")
        if known is not None and known[0] == (id(self), self.index.size, limit):
            return known[1]
        out = []
        for i in self.index.candidates(f, limit):
            other = self.features[i]
            if f.numbers != other.numbers and f.name and other.name:
                continue  # "Job site 4" and "Job site 5", "Unit 4" and "Unit 5": two customers
            out.append((i, levels(f, other)))
        f.__dict__["compared"] = ((id(self), self.index.size, limit), out)
        return out

    def match(self, party: Party, *, taken: Iterable[str] = ()) -> Decision:
        """One record on its own (a webhook): the same rules as a batch of one."""
        return self.link_all([party], taken=taken)[0]

    def link_all(self, parties: Sequence[Party], *, taken: Iterable[str] = ()) -> list[Decision]:
        """Each record's decision; links one to one, best pairs first. `taken`: customers
        already linked to another record."""
        taken_ids = set(taken)
        prepared = [self.prepare(p) for p in parties]
        best: list[list[_Scored]] = [self.scored(f) for f in prepared]
        edges = sorted(
            ((s.weight, r, s) for r, found in enumerate(best) for s in found
             if probability(s.weight) >= self.near),
            key=lambda e: -e[0],
        )  # fmt: skip
        assigned: dict[int, _Scored] = {}
        used: set[int] = set()
        for _, r, s in edges:
            if r in assigned or s.customer in used:
                continue
            if self.features[s.customer].party.external_id in taken_ids:
                continue
            assigned[r] = s
            used.add(s.customer)
        return [
            self._decide(prepared[r], assigned.get(r), found[0] if found else None)
            for r, found in enumerate(best)
        ]

    def _decide(self, f: Features, chosen: _Scored | None, top: _Scored | None) -> Decision:
        if chosen is None:
            if top is not None and probability(top.weight) >= self.near:
                other = self.features[top.customer].party
                note = f"{other.name or other.external_id} is already another record's partner"
                return self._decision(f, "near", top, note)
            return Decision(f.party, "miss", probability=probability(top.weight) if top else 0.0)
        p = probability(chosen.weight)
        conflict = (
            chosen.pattern[TAX_ID] == 0 and self.model.weights()[TAX_ID][0] <= TRUSTED_CONFLICT
        )
        if p >= self.sure and not conflict:
            return self._decision(f, "sure", chosen)
        note = "the tax IDs differ" if p >= self.sure else ""
        return self._decision(f, "near", chosen, note)

    def _decision(self, f: Features, kind: str, s: _Scored, note: str = "") -> Decision:
        contributions = self.model.explain(s.pattern)
        if s.pattern[0] in (1, 2):  # say how alike the names are
            alike = fuzz.token_sort_ratio(f.name, s.features.name)
            contributions = [
                Contribution(c.field, f"{c.level} ({alike:.0f} % alike)", c.weight)
                if c.field == "name" else c
                for c in contributions
            ]  # fmt: skip
        return Decision(
            f.party, kind, s.features.party, probability(s.weight), s.weight,
            tuple(contributions), note,
        )  # fmt: skip
