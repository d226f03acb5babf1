"""Which accounting customer each CRM record is: candidates from the block index, every
field weighed by the Fellegi-Sunter model, links assigned one to one over the batch.

A sure match links, a near one goes to review with each field's contribution in words, a
clear miss is created. A customer already taken (by an existing link or a stronger pair in
this batch) is never silently given a second partner: the weaker record goes to review.
"""

import math
import random
import weakref
from array import array
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import cast

from . import parallel
from .blocking import CANDIDATES, BlockIndex
from .collector import collector_paused
from .compare import COMPARISONS, TAX_ID, Comparison, levels, name_alike
from .model import Contribution, Model, Pattern, combine, estimate_m, estimate_u, probability
from .names import DEFAULT, Vocabulary, numbers_differ, words
from .records import Features, Party

SURE = 0.90  # probability at or above which a pair links without a person (decision 0025)
SURE_UNTRAINED = 0.99  # the same, while the weights are the priors' (few records to learn from)
NEAR = 0.20  # at or above: a person decides; below: a new customer
# A conflicting tax ID holds a pair for review when the client's data show tax IDs to be
# reliable (true pairs almost never differ: weight at or below this); in data where they
# are often mistyped, the weight alone counts against.
TRUSTED_CONFLICT = -6.0
SAME_NAME = 3  # company name level "equal once normalised" and above
IDENTIFIERS = (3, 4, 5, 6, 9)  # email, website, phone, address, tax ID
RANDOM_PAIRS = 20_000
PARALLEL_FROM = 4_000  # records in a batch from which a share is compared on the other core
# Of the records fit did not compare: the copy starts while this side still learns the
# weights, and scores its share too (balanced on the companies' 20,000: decision 0028).
COPY_SHARE = 0.6
# The least share of incoming records taken to have a partner: below it every record would
# read as new however well it agrees (a prior of 1e-300 outweighs any evidence).
LEAST_SHARE = 0.01
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


def identifies(s: "_Scored", tokens: tuple[str, ...]) -> bool:
    """Whether any field that says *who* agrees at all (name, email, phone, address, tax ID
    ...); place and country only say *where*. Two records of one postal code with nothing
    else in common (a name in emoji, or in another script) are no candidates: a small
    book's priors would otherwise put every neighbour in review. Names that share a word
    ("Okafor Vnt", "Okafor Ventilation") keep their candidate: the weights decide.
    `tokens`: the record's name words (`Features.tokens`)."""
    p = s.pattern  # spelt out: this runs for every candidate pair (name 0 … address 6, tax 9)
    if p[0] or p[1] or p[2] or p[3] or p[4] or p[5] or p[6] or p[TAX_ID]:
        return True
    return p[0] == 0 and not set(tokens).isdisjoint(s.features.tokens)


FIRST_NAME = 1
NAME_ONLY = {0, FIRST_NAME, 2, 8}  # name, first name, last name; the country says nothing of who
NOT_NAMES = tuple(k for k in range(len(COMPARISONS)) if k not in NAME_ONLY)
ONLY_NAME = "only the name could be compared, and another customer bears it"


def doubts(f: Callable[[], Features], other: Features, pattern: Pattern) -> str:
    """Why a likely pair still waits for a person, or "": a name alone is not enough in a
    book where namesakes live (and nothing else could be compared); two people of another
    given name at one address or mailbox are a household (spouses), not one customer.
    `f` gives the record's features, worked out only when the pattern needs them."""
    for k in NOT_NAMES:  # a loop, not all(...): compiled, a generator is made per decision
        if pattern[k] is not None:
            break
    else:
        return ONLY_NAME
    # Only where no personal identifier was compared: a tax ID (spouses do not share one),
    # equal or not, is weighed by the model; the household doubt is for the evidence a
    # household shares (address, mailbox, phone) beside one family name.
    if pattern[FIRST_NAME] == 0 and pattern[TAX_ID] is None and _person(f()) and _person(other):
        return "the first names differ: another person of the household?"
    return ""


def _name_agrees(pattern: Pattern) -> int:
    """How well the names agree, whole or part by part: 3 equal, 2 nearly, 1 alike, 0 not."""
    if pattern[0] is not None:
        return min(pattern[0], 3)
    parts = [level for level in pattern[1:3] if level is not None]
    return min(parts) if parts else 0


def _person(f: Features) -> bool:
    """A person's own record (its name is the person's), not a company's contact person."""
    return bool(f.given) and sorted(words(f.party.name)) in (
        [],
        sorted(f"{f.given} {f.family}".split()),
    )


# The copy's answer, read back at once: the distinct patterns (a few hundred recur over
# 60,000 pairs), then every record's scored candidates that identify it and that the batch
# can use (its best, and any likely enough to be linked or reviewed: `_useful`), best first,
# as flat C ints (customer, its pattern's number) and doubles (weight, the two rarities),
# and where each record's end. Scored there too: the copy is told the weights once this side
# knows them.
_Answer = tuple[list[Pattern], bytes, bytes, bytes]
# What the copy is told: the weights (m, u, prior), whether names are weighed by rarity, and
# the review threshold.
_Told = tuple[list[list[float]], list[list[float]], float, bool, float]


def _useful(best: list["_Scored"], near: float) -> list["_Scored"]:
    """Of a record's candidates, best first, those `link_all` reads: its best (what a record
    without a partner is decided by) and any at or above `near` (the pairs it assigns).
    The others (most of a true pair's five other candidates) are never read."""
    return [s for k, s in enumerate(best) if k == 0 or probability(s.weight) >= near]


@dataclass(frozen=True)
class _Comparing:
    """Records being compared by a forked copy (`parallel.in_another_process`)."""

    parties: tuple[Party, ...]  # the records it compares, at `rows` of the batch
    size: int  # the books' size when it started: its candidates are from those
    rows: list[int]
    copy: "parallel.Copy[_Answer]"
    comparisons: Sequence[Comparison]  # its model's: it scores with the weights it is told
    done: weakref.finalize

    def still_for(self, batch: Sequence[Party], size: int) -> bool:
        """Whether its answer is this batch's: the same records at the same places, and
        the books as they were."""
        return (
            size == self.size
            and len(batch) > self.rows[-1]
            and all(batch[r] is p for r, p in zip(self.rows, self.parties, strict=True))
        )


@dataclass  # not frozen: compiled, a plain dataclass is built natively, five times cheaper
class Decision:  # (one per record of a batch); nothing changes one once made (`replace`)
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
    features: Features = field(repr=False)
    rarity: tuple[float, float] = (0.0, 0.0)  # term-frequency weight of (name, last name)


# Term frequency: an equal name that few customers share says more than one many share, as
# splink's term-frequency adjustment. Per field: (comparison, its "equal" levels, the value).
RARITY = ((0, (3, 4), "sorted_name"), (2, (3,), "family"))
NAME_EQUAL, FAMILY_EQUAL = frozenset(RARITY[0][1]), 3


class _Frequencies:
    """How many customers have each name and last name, and the average over agreeing pairs
    (sum of squared counts over all): a value as common as average adds nothing, a rarer one
    adds log2(average / count), a commoner one takes as much away."""

    def __init__(self, features: list[Features]):
        self.counts = [Counter(getattr(f, attr) for f in features) for _, _, attr in RARITY]
        for counts in self.counts:
            counts.pop("", None)
        self.squares = [float(sum(c * c for c in counts.values())) for counts in self.counts]
        self.totals = [float(sum(counts.values())) for counts in self.counts]

    def add(self, f: Features) -> None:
        for k, (_, _, attr) in enumerate(RARITY):
            if value := getattr(f, attr):
                c = self.counts[k][value]
                self.counts[k][value] = c + 1
                self.squares[k] += 2 * c + 1
                self.totals[k] += 1

    def weights(self, pattern: Pattern, other: Features) -> tuple[float, float]:
        out = [0.0, 0.0]
        for k, (field_, equal, attr) in enumerate(RARITY):
            if pattern[field_] in equal:
                count = self.counts[k].get(getattr(other, attr), 1)
                out[k] = max(0.0, math.log2(self.squares[k] / self.totals[k] / count))
        return out[0], out[1]


def _below(rng: random.Random, n: int) -> int:
    """A random number in [0, n): `rng.choice`'s draw (CPython's `_randbelow`), written here
    compiled (40,000 draws per fit), and so the pairs learnt from do not depend on another
    Python's `choice`."""
    bits = n.bit_length()
    r = rng.getrandbits(bits)
    while r >= n:
        r = rng.getrandbits(bits)
    return r


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
        self._early: _Comparing | None = None  # the copy fit started on the incoming records
        # A model's explanations: by pattern, and (pattern, rarities, counts) once weighed by
        # rarity (`_decision`); a few hundred recur over 20,000 decisions.
        self._explained: tuple[Model | None, dict, dict] = (None, {}, {})
        self._lifetime = parallel.Lifetime()  # a copy left uncollected is reaped with it
        self._frequencies: _Frequencies | None = None  # on once weights are learnt from data
        self.features: list[Features] = []
        self.index = BlockIndex()
        with collector_paused():
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
        if self._frequencies is not None:
            self._frequencies.add(f)

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
        with collector_paused():
            return self._fit(incoming, seed)

    def _fit(self, incoming: Sequence[Party], seed: int) -> Model:
        rng = random.Random(seed)  # noqa: S311 - sampling, not secrecy
        if not self.features or not incoming:
            return self.model
        sample = incoming if len(incoming) <= TRAINING_RECORDS else rng.sample(
            list(incoming), TRAINING_RECORDS
        )  # fmt: skip
        prepared = [self.prepare(p) for p in sample]
        self._prepared = {id(f.party): (f.party, f) for f in prepared}
        self._collect(self._early)  # a copy started by an earlier fit is not waited for
        self._early = self._start_comparing(incoming)
        u = estimate_u(self._random_pairs(prepared, rng))
        estimates = []
        everything = set(range(len(COMPARISONS)))
        for key, selected in TRAINING_KEYS:
            # the customers sharing a sampled record's value (only those: most of 20,000
            # customers' values are no sampled record's)
            wanted = {value for f in prepared if (value := key(f))}
            by_key: dict[str, list[int]] = {}
            for i, f in enumerate(self.features):
                if (value := key(f)) and value in wanted:
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
        if len(self.features) >= FEW and len(prepared) >= FEW:
            self._frequencies = _Frequencies(self.features)
        share = 0.5
        if len(prepared) >= FEW:
            best = [max((s.weight for s in self.scored(f)), default=-99.0) for f in prepared]
            # summed from a list: CPython's sum of floats is compensated (Neumaier), mypyc's
            # compiled sum over a generator is a plain running total, a few bits apart
            chances = [probability(w) for w in best]
            share = min(1.0, max(LEAST_SHARE, sum(chances) / len(prepared)))
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
                yield levels(prepared[_below(rng, len(prepared))], books[_below(rng, len(books))])
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
        return self._score(self._compared(f, limit))

    def _compared(self, f: Features, limit: int) -> list[tuple[int, Pattern]]:
        """The candidates' agreement patterns; kept with the record while the books are the
        same (fit's second round and the batch then score the same pairs: only the weights
        differ)."""
        known = f.compared
        if known is not None and known[0] == (id(self), self.index.size, limit):
            return known[1]
        out = []
        for i in self.index.candidates(f, limit):
            other = self.features[i]
            if numbers_differ(f.numbers, other.numbers):
                continue  # "Job site 4" and "Job site 5", "Unit 4" and "Unit 5": two customers
            out.append((i, levels(f, other)))
        f.compared = ((id(self), self.index.size, limit), out)
        return out

    def match(self, party: Party, *, taken: Iterable[str] = ()) -> Decision:
        """One record on its own (a webhook): the same rules as a batch of one."""
        return self.link_all([party], taken=taken)[0]

    def link_all(self, parties: Sequence[Party], *, taken: Iterable[str] = ()) -> list[Decision]:
        """Each record's decision; links one to one, best pairs first. `taken`: customers
        already linked to another record."""
        with collector_paused():
            return self._link_all(parties, taken)

    def _link_all(self, parties: Sequence[Party], taken: Iterable[str]) -> list[Decision]:
        taken_ids = set(taken)
        prepared: dict[int, Features] = {}
        best = self._best_all(parties, prepared)
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
            self._decide(
                prepared.get(r) or parties[r], assigned.get(r), top[0] if top else None, used
            )
            for r, top in enumerate(best)
        ]

    def _score(self, compared: list[tuple[int, Pattern]]) -> list[_Scored]:
        score, features, frequencies = self.model.score, self.features, self._frequencies
        if frequencies is None:
            out = [_Scored(score(pattern), i, pattern, features[i]) for i, pattern in compared]
        else:
            out = []
            for i, pattern in compared:
                if pattern[0] not in NAME_EQUAL and pattern[2] != FAMILY_EQUAL:
                    out.append(_Scored(score(pattern), i, pattern, features[i]))
                    continue  # no equal name: its rarity adds nothing
                rarity = frequencies.weights(pattern, features[i])
                weight = score(pattern) + rarity[0] + rarity[1]
                out.append(_Scored(weight, i, pattern, features[i], rarity))
        out.sort(key=lambda s: -s.weight)
        return out

    def _best_all(
        self, parties: Sequence[Party], prepared: dict[int, Features]
    ) -> list[list[_Scored]]:
        """Each record's candidates that say something of who it is and that `link_all` reads
        (`_useful`), scored, best first. A share of a large batch is compared and scored by a
        forked copy of this process on the other core, started by `fit` (for the same
        records, the books unchanged since) or here, and told the weights now; it sends back
        only its records' scored candidates (`prepared` then holds the features of this
        side's records; a decision that needs another record's features works them out
        again, and most never do)."""
        early, self._early = self._early, None
        if early is not None and not early.still_for(parties, self.index.size):
            self._collect(early)  # for other records, or the books changed: not used
            early = None
        copy = early or self._start_comparing(parties)
        theirs = set(copy.rows) if copy is not None else set()
        if copy is not None and copy.comparisons is self.model.comparisons:
            model = self.model
            rarity = self._frequencies is not None
            told: _Told = (model.m, model.u, model.prior, rarity, self.near)
            copy.copy.tell(told)  # else never told: it stops, and this side does its share

        near = self.near
        out: list[list[_Scored]] = [[]] * len(parties)  # every place is filled below
        try:
            for r, party in enumerate(parties):
                if r not in theirs:
                    f = prepared[r] = self.prepare(party)
                    out[r] = _useful(self._best(self._compared(f, CANDIDATES), f.tokens), near)
        finally:  # the copy's answer is read (and the copy reaped) even if this side failed
            found = self._collect(copy)
        if found is not None and copy is not None:
            patterns, flat, doubles, ends = found
            pairs, numbers, stops = array("i", flat), array("d", doubles), array("i", ends)
            features, start = self.features, 0
            for n, r in enumerate(copy.rows):
                stop = stops[n]
                out[r] = [
                    _Scored(numbers[3 * j], pairs[2 * j], patterns[pairs[2 * j + 1]],
                            features[pairs[2 * j]], (numbers[3 * j + 1], numbers[3 * j + 2]))
                    for j in range(start, stop)
                ]  # fmt: skip
                start = stop
        else:  # no second process (or it failed): done here
            for r in theirs:
                f = prepared[r] = self.prepare(parties[r])
                out[r] = _useful(self._best(self._compared(f, CANDIDATES), f.tokens), near)
        return out

    def _best(self, compared: list[tuple[int, Pattern]], tokens: tuple[str, ...]) -> list[_Scored]:
        return [s for s in self._score(compared) if identifies(s, tokens)]

    def _start_comparing(self, parties: Sequence[Party]) -> "_Comparing | None":
        """A forked copy compares a share of the records not compared yet (COPY_SHARE), if
        the batch is large and a second process may be used (None otherwise); it scores them
        once told the weights (`_best_all`)."""
        if len(parties) < PARALLEL_FROM or not parallel.available():
            return None
        todo = [r for r, p in enumerate(parties) if id(p) not in self._prepared]
        if len(todo) < PARALLEL_FROM:
            return None
        rows = todo[int(len(todo) * (1 - COPY_SHARE)) :]

        def work(told: Callable[[], object]) -> _Answer:
            compared = []
            for r in rows:
                f = self.prepare(parties[r])
                compared.append((self._compared(f, CANDIDATES), f.tokens))
            m, u, prior, rarity, near = cast(_Told, told())
            self.model = Model(m, u, prior, self.model.comparisons)
            self._frequencies = _Frequencies(self.features) if rarity else None
            numbers: dict[Pattern, int] = {}
            pairs, doubles, ends = array("i"), array("d"), array("i")
            for found, tokens in compared:
                for s in _useful(self._best(found, tokens), near):
                    k = numbers.get(s.pattern)
                    if k is None:
                        k = numbers[s.pattern] = len(numbers)
                    pairs.append(s.customer)
                    pairs.append(k)
                    doubles.append(s.weight)
                    doubles.append(s.rarity[0])
                    doubles.append(s.rarity[1])
                ends.append(len(pairs) // 2)
            return list(numbers), pairs.tobytes(), doubles.tobytes(), ends.tobytes()

        copy = parallel.in_another_process(work)
        # Collected by the batch; if the matcher is dropped first, when it is (a copy whose
        # answer is never read would wait on a full pipe for ever).
        done = weakref.finalize(self._lifetime, copy.answer)
        return _Comparing(
            tuple(parties[r] for r in rows), self.index.size, rows, copy,
            self.model.comparisons, done,
        )  # fmt: skip

    @staticmethod
    def _collect(copy: "_Comparing | None") -> "_Answer | None":
        if copy is None or not copy.done.alive:
            return None
        copy.done.detach()
        return copy.copy.answer()

    def _later(self, f: Features | Party) -> Callable[[], Features]:
        """The record's features, worked out when first asked for (a record compared on the
        other core has none here, and most decisions never need them)."""
        if isinstance(f, Features):
            return lambda: f
        known: list[Features] = []

        def features() -> Features:
            if not known:
                known.append(self.prepare(f))
            return known[0]

        return features

    def _decide(
        self,
        f: Features | Party,
        chosen: _Scored | None,
        top: _Scored | None,
        won: set[int] | frozenset[int] = frozenset(),
    ) -> Decision:
        """`won`: customers a stronger record of this batch was linked to."""
        if top is None:
            return Decision(f if isinstance(f, Party) else f.party, "miss")
        features = self._later(f)
        if chosen is None:
            # A customer a stronger record of this run took is this one's only with sure
            # evidence (a duplicate in the CRM, a household): below that it is a lookalike
            # (another branch, a namesake) and is weighed as the other candidates were.
            if probability(top.weight) >= (self.sure if top.customer in won else self.near):
                other = self.features[top.customer].party
                note = f"{other.name or other.external_id} is already another record's partner"
                return self._decision(f, "near", top, note)
            if (top.pattern[0] or 0) >= SAME_NAME and all(top.pattern[k] != 0 for k in IDENTIFIERS):
                # A company's name, and nothing that says it is another (only the place
                # differs: a move, a branch, a duplicate in the CRM): a person decides, rather
                # than a second customer of that name being created.
                other = self.features[top.customer].party
                return self._decision(f, "near", top, f"the same name as {other.name}")
            # A miss says what the closest customer's fields said, not "no field to compare"
            closest = self._decision(f, "miss", top, f"closest customer: {self._named(top)}")
            return replace(closest, candidate=None)
        p = probability(chosen.weight)
        # Tax IDs are trusted in a book too small to learn anything from (no data says they
        # are often mistyped); in a larger one, when the learnt weight says they are reliable.
        weight = self.model.weight(TAX_ID, 0)
        trusted = len(self.features) < FEW or weight <= TRUSTED_CONFLICT
        conflict = chosen.pattern[TAX_ID] == 0 and trusted
        doubt = (
            "the tax IDs differ" if conflict else doubts(features, chosen.features, chosen.pattern)
        )
        if doubt == ONLY_NAME and not self._namesake(features(), chosen):
            doubt = ""  # a name alone, but no other customer bears it
        if p >= self.sure and not doubt:
            return self._decision(f, "sure", chosen)
        note = doubt if p >= self.sure else ""
        return self._decision(f, "near", chosen, note)

    def _namesake(self, f: Features, chosen: _Scored) -> bool:
        """Another candidate whose name agrees with the record's (nearly) as well."""
        return bool(self._namesakes(f, chosen))

    def _namesakes(self, f: Features, chosen: _Scored) -> list[_Scored]:
        named = _name_agrees(chosen.pattern)
        return [
            s
            for s in self.scored(f)
            if s.customer != chosen.customer and _name_agrees(s.pattern) >= named - 1
        ]

    def namesakes(self, decision: Decision) -> list[Decision]:
        """The other customers whose name agrees with the record's (nearly) as well as the
        decision's candidate: why a name alone was not enough. Each as a decision of its
        own, with its fields' contributions, for the review card."""
        f = self.prepare(decision.party)
        chosen = next((s for s in self.scored(f) if s.features.party is decision.candidate), None)
        if chosen is None:
            return []
        return [self._decision(f, "near", s) for s in self._namesakes(f, chosen)]

    def _named(self, s: _Scored) -> str:
        other = s.features.party
        return other.name or f"{other.given_name} {other.family_name}".strip() or other.external_id

    def _counts(self, s: _Scored) -> tuple[int, int]:
        """How many customers share each value the pair's rarities weigh (0: none weighed)."""
        frequencies, out = self._frequencies, [0, 0]
        for k, (_, _, attr) in enumerate(RARITY):
            if frequencies is not None and s.rarity[k]:
                out[k] = frequencies.counts[k].get(getattr(s.features, attr), 1)
        return out[0], out[1]

    def _rarer(self, c: Contribution, s: _Scored) -> Contribution:
        frequencies = self._frequencies  # set whenever a pair has a rarity
        for k, (field_, _, attr) in enumerate(RARITY):
            if frequencies is not None and c.field == COMPARISONS[field_].field and s.rarity[k]:
                count = frequencies.counts[k].get(getattr(s.features, attr), 1)
                share = "no other customer has it" if count <= 1 else f"{count} customers have it"
                return Contribution(c.field, f"{c.level} ({share})", c.weight + s.rarity[k])
        return c

    def _decision(self, f: Features | Party, kind: str, s: _Scored, note: str = "") -> Decision:
        model, explained, rarer = self._explained
        if model is not self.model:  # a few hundred patterns recur over thousands of pairs
            self._explained = model, explained, rarer = self.model, {}, {}
        contributions = explained.get(s.pattern)
        if contributions is None:
            contributions = explained[s.pattern] = tuple(model.explain(s.pattern))
        party = f if isinstance(f, Party) else f.party
        if s.pattern[0] in (1, 2):  # say how alike the names are
            if isinstance(f, Party):
                f = self.prepare(f)
            alike = name_alike(f, s.features)
            contributions = [
                Contribution(c.field, f"{c.level} ({alike:.0f} % alike)", c.weight)
                if c.field == "name" else c
                for c in contributions
            ]  # fmt: skip
        if s.rarity != (0.0, 0.0):  # an equal name weighed by how many customers share it
            # the words depend on the pattern, the rarities and how many share each value
            key = (s.pattern, s.rarity, self._counts(s)) if type(contributions) is tuple else None
            known = rarer.get(key) if key is not None else None
            if known is None:
                known = tuple(
                    sorted((self._rarer(c, s) for c in contributions), key=lambda c: -abs(c.weight))
                )
                if key is not None:
                    rarer[key] = known
            contributions = known
        return Decision(
            party, kind, s.features.party, probability(s.weight), s.weight,
            contributions if type(contributions) is tuple else tuple(contributions), note,
        )  # fmt: skip
