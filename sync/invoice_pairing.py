"""Which CRM invoice is which books invoice when no link ties them together.

When another integration posts a CRM's invoices (Jobber's own QuickBooks sync, say), syncfirm
only audits: nothing it wrote links the two sides. They are paired the way an accountant
would: the number first, with the prefixes and padding integrations add ("INV-00042" is
"42"), then the customer, the amount, the date and the lines. Each field's agreement is
evidence weighed by the customer matcher's Fellegi-Sunter model (`linkage/model.py`), so a
pair is explained in the same words ("number equal +9.6, amount equal +6.1, ...").

One-to-one: the strongest pairs are taken first and each invoice is used once. Pure: plain
records in, a `Pairing` out; the detectors read it, a person reviews the near pairs.
"""

import math
import random
import re
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from decimal import Decimal
from functools import cached_property

from connections.records import CrmInvoice, Invoice, InvoiceLine

from .linkage.compare import Comparison
from .linkage.model import Contribution, Model, combine, estimate_m, estimate_u, probability

SURE = 0.99  # paired without asking
NEAR = 0.5  # a person decides; below it the two are not the same invoice
UNPAIRED = 0.05  # the chance, before looking, that an invoice has no partner on the other side
RANDOM_PAIRS = 4000  # sampled to learn how often each level occurs by chance
LARGEST_GROUP = 200  # a key shared by more invoices than this finds no candidates

LONGEST_NUMBER = 64
# Letters before the digits are a prefix an integration adds ("INV-", "J", "#").
_NUMBER = re.compile(r"[A-Z]*0*(?P<core>\d+[A-Z]*)")


def number_core(number: str) -> str:
    """A number without prefix, separators and leading zeros: "INV-00042" → "42",
    "#1042-B" → "1042B". A number with no digits keeps its letters."""
    # Past any real invoice number's length: what is longer is compared by its start, and
    # the pattern below never backtracks over thousands of characters.
    plain = re.sub(r"[^0-9A-Z]", "", number[:LONGEST_NUMBER].upper())
    found = _NUMBER.fullmatch(plain)
    return found["core"] if found else plain


@dataclass(frozen=True)
class Side:
    """An invoice of either side, as the pairing compares it."""

    id: str
    number: str
    customer: str  # the books customer it bills; "" when not known (a CRM client not linked)
    total: Decimal
    currency: str
    issued: date | None
    lines: tuple[tuple[str, Decimal], ...] = ()  # (what it bills, amount), sorted
    names: frozenset[str] = frozenset()  # books side: CRM ids or numbers its reference names

    @cached_property
    def core(self) -> str:
        return number_core(self.number)


def _line_keys(lines: Iterable[InvoiceLine]) -> tuple[tuple[str, Decimal], ...]:
    """Lines by what they bill, in words: item ids differ between a CRM and the books (an
    integration maps names to items), the description or name is what both sides keep."""
    return tuple(
        sorted(
            (" ".join(re.findall(r"\w+", (ln.description or ln.item_id).lower())), ln.amount)
            for ln in lines
        )
    )


def _iso(value: str) -> date | None:
    try:
        return date.fromisoformat(value[:10]) if value else None
    except ValueError:
        return None


def crm_side(invoice: CrmInvoice, customer_of: Mapping[str, str]) -> Side:
    """`customer_of`: the CRM client id → the books customer id it is linked to."""
    return Side(
        id=invoice.external_id,
        number=invoice.number,
        customer=customer_of.get(invoice.customer_id, ""),
        total=invoice.total.amount,
        currency=invoice.total.currency,
        issued=_iso(invoice.issued),
        lines=_line_keys(invoice.lines),
    )


_REFERENCE = re.compile(r"[A-Za-z0-9=_-]{2,}")


def books_side(invoice: Invoice) -> Side:
    """The words of its note or reference are kept: an integration that names the CRM
    invoice there ("Jobber invoice #1042") gives the pairing its strongest evidence."""
    return Side(
        id=invoice.external_id,
        number=invoice.doc_number,
        customer=invoice.customer_id,
        total=invoice.total.amount,
        currency=invoice.total.currency,
        issued=_iso(invoice.txn_date),
        lines=_line_keys(line for line in invoice.lines if line.amount),
        names=frozenset(_REFERENCE.findall(invoice.private_note)),
    )


def _number(a: Side, b: Side) -> int | None:
    if not a.number or not b.number:
        return None
    if a.number.strip().upper() == b.number.strip().upper():
        return 3
    x, y = a.core, b.core
    if x == y:
        return 2
    return 1 if len(x) == len(y) and _one_slip(x, y) else 0


def _one_slip(x: str, y: str) -> bool:
    """One digit typed wrong, or two neighbours swapped: "1042" and "1043" or "1024"."""
    diff = [k for k, (p, q) in enumerate(zip(x, y, strict=True)) if p != q]
    if len(diff) == 1:
        return True
    return (
        len(diff) == 2
        and diff[1] == diff[0] + 1
        and (x[diff[0]], x[diff[1]]) == (y[diff[1]], y[diff[0]])
    )


def _reference(a: Side, b: Side) -> int | None:
    if not b.names:
        return None
    return 1 if a.id in b.names or (a.number and a.number in b.names) else 0


def _customer(a: Side, b: Side) -> int | None:
    if not a.customer or not b.customer:
        return None
    return 1 if a.customer == b.customer else 0


def _amount(a: Side, b: Side) -> int | None:
    if a.currency != b.currency:
        return 0
    if a.lines and b.lines and {w for w, _ in a.lines} & {w for w, _ in b.lines}:
        return None  # the lines say it, and more: counting both would count one fault twice
    # Not one line in common (keyed again by hand as one line for the total, say): the
    # total is what is left to compare.
    if a.total == b.total:
        return 2
    larger = max(abs(a.total), abs(b.total))
    return 1 if larger and abs(a.total - b.total) <= larger * Decimal("0.05") else 0


def _date(a: Side, b: Side) -> int | None:
    if a.issued is None or b.issued is None:
        return None
    days = abs((a.issued - b.issued).days)
    return 3 if days == 0 else 2 if days <= 7 else 1 if days <= 31 else 0


def _lines(a: Side, b: Side) -> int | None:
    if not a.lines or not b.lines:
        return None
    if a.lines == b.lines:
        return 4
    x, y = [item for item, _ in a.lines], [item for item, _ in b.lines]
    if x == y:
        close = all(
            abs(p - q) <= max(abs(p), abs(q)) * Decimal("0.05")
            for (_, p), (_, q) in zip(a.lines, b.lines, strict=True)
        )
        return 3 if close else 1
    if set(x) <= set(y) or set(y) <= set(x):
        return 2
    return 1 if set(x) & set(y) else 0


COMPARISONS: tuple[Comparison, ...] = (
    Comparison(
        "number",
        ("different", "one digit apart", "equal without prefix and padding", "equal"),
        (0.04, 0.02, 0.34, 0.60),
        _number,
    ),
    Comparison(
        "reference", ("names another invoice", "names this invoice"), (0.02, 0.98), _reference
    ),
    Comparison("customer", ("another customer", "the same customer"), (0.04, 0.96), _customer),
    Comparison("amount", ("different", "within 5 %", "equal"), (0.08, 0.07, 0.85), _amount),
    Comparison(
        "date",
        ("over a month apart", "within a month", "within a week", "the same day"),
        (0.03, 0.07, 0.30, 0.60),
        _date,
    ),
    Comparison(
        "lines",
        (
            "none alike",
            "some alike",
            "a line more or fewer",
            "the same items, amounts within 5 %",
            "the same lines",
        ),
        (0.03, 0.05, 0.07, 0.10, 0.75),
        _lines,
    ),
)

type Pattern = tuple[int | None, ...]


def pattern(a: Side, b: Side) -> Pattern:
    return tuple(c.level(a, b) for c in COMPARISONS)


@dataclass(frozen=True)
class Pair:
    crm: str
    books: str
    probability: float
    contributions: tuple[Contribution, ...] = ()

    @property
    def reason(self) -> str:
        return ", ".join(c.words() for c in self.contributions) or "no field to compare"


@dataclass(frozen=True)
class Copy:
    """A books invoice that is a second posting of a CRM invoice already paired: `kept` is
    the books invoice paired with it, `copy` the other one."""

    crm: str
    kept: str
    copy: str
    probability: float
    contributions: tuple[Contribution, ...] = ()
    same_number: bool = False  # posted twice by the integration, not keyed again by hand


@dataclass(frozen=True)
class Pairing:
    sure: tuple[Pair, ...] = ()
    near: tuple[Pair, ...] = ()  # for a person: neither missing nor paired until decided
    copies: tuple[Copy, ...] = ()
    crm_only: tuple[str, ...] = ()  # in the CRM, not in the books
    books_only: tuple[str, ...] = ()  # in the books with no CRM invoice (and no copy)
    model: Model | None = field(default=None, compare=False, repr=False)

    def books_of(self) -> dict[str, str]:
        return {p.crm: p.books for p in self.sure}


def _keys(side: Side, books: bool) -> Iterable[tuple]:
    if side.number:
        yield ("number", side.core)
    if side.customer:
        yield ("customer amount", side.customer, side.currency, side.total)
    if side.issued is not None:
        week = side.issued.toordinal() // 7
        # The books side carries each neighbouring week too: a posting a few days late, or a
        # week boundary between the two dates, still meets.
        for w in (week - 1, week, week + 1) if books else (week,):
            if side.customer:
                yield ("customer week", side.customer, w)
            yield ("amount week", side.currency, side.total, w)
    for name in side.names if books else (side.id, side.number):
        if name:
            yield ("named", name)


def _slips(side: Side, books: bool) -> Iterable[tuple]:
    """One digit typed wrong, or two neighbours swapped: the core with that place hidden, or
    (the books side) with that pair swapped back."""
    core = side.core if side.number else ""
    for k in range(len(core)):
        yield ("number slip", core[:k] + "?" + core[k + 1 :])
        if k + 1 < len(core):
            swapped = core[:k] + core[k + 1] + core[k] + core[k + 2 :]
            yield ("number slip", swapped if books else core)


def candidates(
    crm: Sequence[Side],
    books: Sequence[Side],
    keys: Callable[[Side, bool], Iterable[tuple]] = _keys,
) -> dict[str, set[tuple[int, int]]]:
    """Pairs of indexes sharing a key, by key: the number's core (or it with one slip), the
    customer and amount, the customer and week, the amount and week, or a reference naming
    the CRM invoice."""
    index: dict[tuple, list[int]] = defaultdict(list)
    for j, side in enumerate(books):
        for key in keys(side, True):
            index[key].append(j)
    found: dict[str, set[tuple[int, int]]] = defaultdict(set)
    for i, side in enumerate(crm):
        for key in keys(side, False):
            group = index.get(key, ())
            if len(group) <= LARGEST_GROUP:
                found[key[0]].update((i, j) for j in group)
    return found


# Each training key learns m for the fields it did not select on (they agree by
# construction), as the customer matcher trains (linkage/model.py).
TRAINING = {"number": {0}, "customer week": {2, 4}}
# Only when neither can teach (books that number their own invoices, clients not linked):
# selected on the amount, it would teach that true pairs' lines agree more than they do.
LAST_RESORT = {"amount week": {3, 4}}
LEAST_TO_LEARN = 30  # pairs a key needs before its estimate replaces the priors


def learn(
    crm: Sequence[Side],
    books: Sequence[Side],
    found: dict[str, set[tuple[int, int]]],
    billed: "Billed | None" = None,
) -> Model:
    """u from random pairs of the client's own invoices (how often a level occurs by chance:
    a contractor billing the same $185 inspection every month makes "amount equal" weak); m
    by EM over the pairs each training key finds (an integration that always adds "INV-"
    makes "equal without prefix" the usual level among true pairs); the prior as one true
    pair per invoice."""
    rng = random.Random(len(crm) * 7919 + len(books))  # noqa: S311 - a sample, not a secret
    sample = [
        pattern(rng.choice(crm), rng.choice(books))
        for _ in range(min(RANDOM_PAIRS, len(crm) * len(books)))
    ]
    # A random pair sharing its number is almost surely a true pair (one in every few
    # hundred random pairs is one): left in, it would make sharing a number look common
    # among unrelated invoices and weaken the strongest evidence there is.
    unrelated = [p for p in sample if (p[0] or 0) < 2]
    u = estimate_u(unrelated, COMPARISONS) if unrelated else Model.default(1e-4, COMPARISONS).u
    billed = billed or Billed.count(crm, books)
    u[LINES] = by_chance(u[LINES], billed.on_crm, billed.on_books, billed.pairs)
    totals = [Counter((s.currency, s.total) for s in side) for side in (crm, books)]
    u[AMOUNT] = by_chance(u[AMOUNT], *totals, billed.pairs)
    everything = set(range(len(COMPARISONS)))

    def taught(keys: dict[str, set[int]]) -> list:
        return [
            estimate_m(
                [pattern(crm[i], books[j]) for i, j in pairs], u, everything - skip, COMPARISONS
            )
            for key, skip in keys.items()
            if len(pairs := found.get(key, ())) >= LEAST_TO_LEARN
        ]

    m = combine(taught(TRAINING) or taught(LAST_RESORT), COMPARISONS)
    return Model(m, u, 1.0 / max(2, len(crm), len(books)), COMPARISONS)


LINES = next(k for k, c in enumerate(COMPARISONS) if c.field == "lines")
AMOUNT = next(k for k, c in enumerate(COMPARISONS) if c.field == "amount")
SAME_LINES = len(COMPARISONS[LINES].levels) - 1
MOST_RARITY = 10.0  # bits: no single field should outweigh the rest of the evidence


@dataclass(frozen=True)
class Billed:
    """How often each set of lines is billed on each side."""

    on_crm: Counter
    on_books: Counter
    pairs: int  # every CRM invoice against every books invoice

    @classmethod
    def count(cls, crm: Sequence[Side], books: Sequence[Side]) -> "Billed":
        return cls(
            Counter(s.lines for s in crm if s.lines),
            Counter(s.lines for s in books if s.lines),
            max(1, len(crm) * len(books)),
        )

    def seldom(self, lines: tuple, model: Model) -> float:
        """What "the same lines" says beyond the model's u for lines billed once on each
        side: u is an average over everything billed, dominated by what is billed again and
        again (a $1.25 postage line), and undersells three lines no other invoice repeats
        (splink's term-frequency adjustment, for the one case that needs it)."""
        if self.on_crm.get(lines) != 1 or self.on_books.get(lines) != 1:
            return 0.0
        return max(0.0, min(MOST_RARITY, math.log2(model.u[LINES][SAME_LINES] * self.pairs)))


def by_chance(row: list[float], on_crm: Counter, on_books: Counter, pairs: int) -> list[float]:
    """u of a field's top level (the same lines, equal totals), counted instead of sampled.
    A random pair is a true pair one time in n, and where the books number their own
    invoices nothing filters those out of the sample: it would say unrelated invoices agree
    one time in n, exactly as often as a true pair turns up, and the field would weigh
    nothing. Counted, a value seen a times in the CRM and b times in the books makes a * b
    pairs of which at most min(a, b) are true; the rest agree by chance (repeat work)."""
    alike = sum(a * on_books[v] - min(a, on_books[v]) for v, a in on_crm.items() if v in on_books)
    same = max(alike, 0.5) / max(1, pairs)
    top = len(row) - 1
    rest = sum(row[:top]) or 1.0
    return [p * (1 - same) / rest for p in row[:top]] + [same]


def alone(ranked: Sequence[tuple[float, int, int, Pattern]]) -> list[float]:
    """Each pair's weight once its rivals are known. Fellegi-Sunter weighs a pair against
    any invoice picked at random; but an invoice has one partner or none, so when its
    candidates are in view, one that agrees well while no other comes close is very likely
    the one: P = 2^w / (UNPAIRED + the sum of 2^w over its candidates), taken from the side
    with the closer rival (two identical sales to a walk-in customer the same day stay for a
    person). As log2 odds, to weigh beside the pair's own weight."""
    odds = [2.0 ** min(w, 500.0) for w, *_ in ranked]  # 2^500: past any real weight
    crm_sum: dict[int, float] = defaultdict(float)
    books_sum: dict[int, float] = defaultdict(float)
    for mine, (_, i, j, _) in zip(odds, ranked, strict=True):
        crm_sum[i] += mine
        books_sum[j] += mine
    out = []
    for mine, (_, i, j, _) in zip(odds, ranked, strict=True):
        chance = mine / (UNPAIRED + max(crm_sum[i], books_sum[j]))
        out.append(math.log2(chance / (1 - chance)) if chance < 1 else 500.0)
    return out


WORDED_ALIKE = 0.2  # the share of books invoices with a line worded as in the CRM, at least


def lines_comparable(crm: Sequence[Side], books: Sequence[Side]) -> bool:
    """Whether the two sides word their lines alike at all. An integration that posts every
    line as its own item ("Services") makes every pair's lines disagree, and lines that
    always disagree would count against every true pair: then the books' lines are left
    out, and the totals compared instead."""
    worded = {w for s in crm for w, _ in s.lines}
    with_lines = [s for s in books if s.lines]
    if not worded or not with_lines:
        return True
    alike = sum(1 for s in with_lines if any(w in worded for w, _ in s.lines))
    return alike >= WORDED_ALIKE * len(with_lines)


def pair(crm: Sequence[Side], books: Sequence[Side], model: Model | None = None) -> Pairing:
    """Pairs by the keys first; then the invoices left on both sides meet again by their
    numbers with one slip (a mistyped digit), which would find too many neighbours among
    sequential numbers to try for every invoice."""
    if not lines_comparable(crm, books):
        crm, books = [replace(s, lines=()) for s in crm], [replace(s, lines=()) for s in books]
    found = candidates(crm, books)
    billed = Billed.count(crm, books)
    model = model or learn(crm, books, found, billed)

    def seldom(i: int, p: Pattern) -> float:
        return billed.seldom(crm[i].lines, model) if p[LINES] == SAME_LINES else 0.0

    def weighed(i: int, j: int, p: Pattern) -> float:
        return model.score(p) + seldom(i, p)

    def scored(pairs: Iterable[tuple[int, int]]) -> list[tuple[float, int, int, Pattern]]:
        out = [(weighed(i, j, p), i, j, p) for i, j in pairs for p in [pattern(crm[i], books[j])]]
        return sorted(out, key=lambda s: (-s[0], s[1], s[2]))

    def made(weight: float, i: int, j: int, p: Pattern, lone: float = 0.0) -> Pair:
        said = model.explain(p)
        if bonus := seldom(i, p):
            said.append(Contribution("lines", "billed by no other invoice", bonus))
        if lone > weight:
            said.append(Contribution("nothing else", "comes close", lone - weight))
        return Pair(crm[i].id, books[j].id, probability(max(weight, lone)), tuple(said))

    taken_crm: set[int] = set()
    taken_books: set[int] = set()
    sure, near = [], []

    def assign(ranked: list[tuple[float, int, int, Pattern]]) -> None:
        lifted = sorted(
            (
                (max(w, a), w, a, i, j, p)
                for (w, i, j, p), a in zip(ranked, alone(ranked), strict=True)
            ),
            key=lambda s: (-s[0], s[3], s[4]),
        )
        for best, weight, lone, i, j, p in lifted:
            if probability(best) < NEAR:
                break
            if i in taken_crm or j in taken_books:
                continue
            taken_crm.add(i)
            taken_books.add(j)
            (sure if probability(best) >= SURE else near).append(made(weight, i, j, p, lone))

    first = scored(set().union(*found.values()))
    assign(first)
    left_crm = [i for i in range(len(crm)) if i not in taken_crm]
    left_books = [j for j in range(len(books)) if j not in taken_books]
    slips = candidates([crm[i] for i in left_crm], [books[j] for j in left_books], _slips)
    assign(scored((left_crm[i], left_books[j]) for i, j in set().union(*slips.values())))

    paired_books = {p.crm: p.books for p in sure}
    copies, copied = [], set()
    for weight, i, j, p in first:
        chance = probability(weight)
        if chance < NEAR:
            break
        kept = paired_books.get(crm[i].id)
        if j in taken_books or j in copied or kept is None:
            continue
        copied.add(j)
        same_number = (p[0] or 0) >= 2
        copies.append(
            Copy(
                crm[i].id,
                kept,
                books[j].id,
                chance,
                made(weight, i, j, p).contributions,
                same_number,
            )
        )
    return Pairing(
        sure=tuple(sure),
        near=tuple(near),
        copies=tuple(copies),
        crm_only=tuple(s.id for k, s in enumerate(crm) if k not in taken_crm),
        books_only=tuple(s.id for k, s in enumerate(books) if k not in taken_books | copied),
        model=model,
    )
