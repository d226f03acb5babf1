"""Customers the books hold twice (or companies the CRM holds twice): the `duplicate_customer`
finding (issue 16, decision 0027). One system's records are linked against themselves by the
same model as the two systems (`sync.linkage.duplicates`); each sure pair
becomes one finding with both records side by side and the fix the provider allows.

Which record is kept: the one linked to the other system, else the one with more
transactions, else the older (the systems number records in the order they were made). In
the books the copy is made inactive (archived) once nothing is open on it (the books refuse
to otherwise); while invoices, payments or credits are open on it the fix is by hand, with
the provider's steps (`SystemWords.step`). The CRM: merged by hand, never automatically.

Pure: plain records in, findings out.
"""

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal

from connections.providers import SystemWords
from sync.linkage import Model, Party, Vocabulary
from sync.linkage.duplicates import LIKELY, Duplicate, find_duplicates, groups
from sync.linkage.names import DEFAULT
from syncfirm.money import money

from .detectors import Finding, SnapCredit, SnapInvoice, SnapPayment

ZERO = Decimal("0.00")
BOOKS, CRM = "books", "crm"
CRM_KEY = "companies/"  # a CRM company in a finding's record ids (apart from the books' ids)


@dataclass(frozen=True)
class SnapParty:
    """A customer of the books or a company of the CRM, as the run read it."""

    id: str
    name: str
    system: str = BOOKS
    email: str = ""
    phone: str = ""
    website: str = ""
    line1: str = ""
    city: str = ""
    region: str = ""
    postal_code: str = ""
    country: str = ""
    tax_id: str = ""
    given_name: str = ""
    family_name: str = ""
    balance: Decimal | None = None  # the books' open balance
    currency: str = "USD"
    linked: bool = False  # linked to a record of the other system
    active: bool = True

    def party(self) -> Party:
        return Party(self.id, self.name, self.email, self.tax_id, self.postal_code,
                     self.given_name, self.family_name, self.phone, self.website, self.line1,
                     self.city, self.region, self.country)  # fmt: skip

    @property
    def key(self) -> str:
        return f"{CRM_KEY}{self.id}" if self.system == CRM else self.id

    @property
    def address(self) -> str:
        place = " ".join(x for x in (self.region, self.postal_code) if x)
        return ", ".join(x for x in (self.line1, self.city, place, self.country) if x)


@dataclass
class Activity:
    """What one customer has in the books."""

    open_invoices: list[str]  # their numbers
    open_payments: int = 0  # payments with money unapplied
    open_credits: int = 0  # credit memos with credit left
    transactions: int = 0

    @property
    def open(self) -> bool:
        return bool(self.open_invoices or self.open_payments or self.open_credits)

    def open_words(self) -> str:
        said = []
        if self.open_invoices:
            many = len(self.open_invoices)
            numbers = ", ".join(self.open_invoices[:5]) + (" …" if many > 5 else "")
            said.append(f"{_many(many, 'open invoice')} ({numbers})")
        if self.open_payments:
            said.append(f"{_many(self.open_payments, 'payment')} with money unapplied")
        if self.open_credits:
            said.append(f"{_many(self.open_credits, 'credit memo')} with credit left")
        return " and ".join(said)


def _many(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"


def activity(
    invoices: Iterable[SnapInvoice],
    payments: Iterable[SnapPayment],
    credits: Iterable[SnapCredit],
) -> dict[str, Activity]:
    found: dict[str, Activity] = defaultdict(lambda: Activity([]))
    for i in invoices:
        a = found[i.customer_id]
        a.transactions += 1
        if not i.voided and i.balance > 0:
            a.open_invoices.append(i.doc_number or f"(id {i.id})")
    for p in payments:
        a = found[p.customer_id]
        a.transactions += 1
        a.open_payments += p.unapplied > 0
    for c in credits:
        a = found[c.customer_id]
        a.transactions += 1
        a.open_credits += c.remaining is not None and c.remaining > 0
    return found


def _natural(record_id: str) -> tuple:
    return (len(record_id), record_id)


def _ranked(parties: Sequence[SnapParty], done: dict[str, Activity]) -> list[SnapParty]:
    """Kept first: linked to the other system, more transactions, older."""
    return sorted(
        parties,
        key=lambda p: (not p.linked, -done[p.id].transactions, _natural(p.id)),
    )


def _why_kept(keep: SnapParty, copy: SnapParty, done: dict[str, Activity], words) -> str:
    other = words.customer() if keep.system == CRM else f"{words.crm} company"
    if keep.linked and not copy.linked:
        return f"it is the one linked to the {other}"
    kept, copied = done[keep.id].transactions, done[copy.id].transactions
    if kept != copied:
        return f"it has more transactions ({kept} to {copied})"
    return f"it is the older record in {_system(keep, words)}"


def _system(party: SnapParty, words: SystemWords) -> str:
    return words.books if party.system == BOOKS else words.crm


def duplicate_customers(
    customers: Iterable[SnapParty],
    *,
    companies: Iterable[SnapParty] = (),
    invoices: Iterable[SnapInvoice] = (),
    payments: Iterable[SnapPayment] = (),
    credits: Iterable[SnapCredit] = (),
    country: str = "US",
    vocabulary: Vocabulary = DEFAULT,
    kept: Model | None = None,
    sure: float | None = None,
    near: float = LIKELY,
    words: SystemWords = SystemWords(),  # noqa: B008 - frozen
) -> list[Finding]:
    """One finding per copy: the books' active customers, then the CRM's companies.
    `vocabulary`, `kept`, `sure`, `near`: the client's own words, kept weights and
    thresholds (decision 0026, `learnt.duplicate_search`); a finding for each sure pair."""
    done = activity(invoices, payments, credits)
    found = []
    for records in (customers, companies):
        active = [p for p in records if p.active]
        by_id = {p.id: p for p in active}
        pairs = find_duplicates((p.party() for p in active), vocabulary=vocabulary,
                                country=country, kept=kept, sure=sure, near=near)  # fmt: skip
        for group in groups(d for d in pairs if d.kind == "sure"):
            ranked = _ranked([by_id[p.external_id] for p in group.parties], done)
            keep = ranked[0]
            for copy in ranked[1:]:
                pair = _pair_of(group.pairs, keep.id, copy.id)
                found.append(_finding(keep, copy, pair, done, by_id, words))
    return found


def _pair_of(pairs: Sequence[Duplicate], keep: str, copy: str) -> Duplicate:
    """The pair that says the copy is the kept record, else the copy's likeliest pair."""
    direct = [d for d in pairs if set(d.ids) == {keep, copy}]
    return (direct or sorted((d for d in pairs if copy in d.ids), key=lambda d: -d.probability))[0]


def _finding(
    keep: SnapParty, copy: SnapParty, pair: Duplicate, done: dict, by_id: dict, words
) -> Finding:
    system = _system(keep, words)
    through = ""
    if set(pair.ids) != {keep.id, copy.id}:
        other = by_id[next(i for i in pair.ids if i != copy.id)]
        through = f" (through “{other.name}”, which looks like it too)"
    reason = (
        f"“{keep.name}” and “{copy.name}” look like one customer in {system}"
        f"{through}: {_chance(pair.probability)} ({pair.reason}); keep “{keep.name}”: "
        f"{_why_kept(keep, copy, done, words)}"
    )
    return Finding(
        "duplicate_customer",
        "low",
        ZERO,  # no amount misstated: one customer's history split over two records
        keep.currency,
        f"one customer's history split over two {system} records",
        reason,
        customer_id=copy.id if keep.system == BOOKS else "",
        # Stable whatever changes on them: a dismissal of the pair stands.
        evidence={"pair": sorted((keep.key, copy.key)), "system": system},
        fix=_fix(keep, copy, done, words),
        record_ids=(keep.key, copy.key),
        parties=tuple(
            _column(p, "Keep" if p is keep else "Copy", done, words) for p in (keep, copy)
        ),
    )


def _chance(probability: float) -> str:
    """ "a 97.4 % chance", or "over 99.9 %" rather than a rounded 100 %."""
    if probability >= 0.999:
        return "over 99.9 % likely"
    return f"{probability * 100:.1f} % likely"


def _fix(keep: SnapParty, copy: SnapParty, done: dict[str, Activity], words) -> dict:
    kept, copied = f"“{keep.name}”", f"“{copy.name}”"
    base = {"keep_id": keep.id, "copy_id": copy.id, "keep_name": keep.name,
            "copy_name": copy.name, "system": _system(keep, words),
            "side": keep.system}  # fmt: skip
    books, crm, inactive = words.books, words.crm, words.inactive
    if keep.system == CRM:
        return base | {
            "action": "review",
            "words": f"Merge them in {crm}: {words.step('merge', keep=kept, copy=copied)}. "
            "syncfirm merges no CRM record by itself. Then reconcile again.",
        }
    if copy.linked:
        return base | {
            "action": "review",
            "words": f"Both are linked to {crm} companies: merge those two companies in "
            f"{crm} first, then move {copied}'s transactions to {kept} in {books} and make "
            f"{copied} {inactive}.",
        }
    open_ = done[copy.id]
    if open_.open:
        return base | {
            "action": "review",
            "open": open_.open_words(),
            "words": f"By hand in {books}, as {copied} has {open_.open_words()}: "
            f"1. {words.step('move', keep=kept, copy=copied)}; "
            f"2. then {words.step('make_inactive', copy=copied)} "
            f"({words.step('inactive_steps', keep=kept, copy=copied)}). "
            f"{words.step('inactive_rule')[:1].upper()}{words.step('inactive_rule')[1:]}. "
            "This finding stays open until they are moved.",
        }
    return base | {
        "action": "make_inactive",
        "customer_id": copy.id,
        "words": f"Make {copied} {inactive} in {books} (nothing is open on it); keep {kept}.",
    }


def _column(p: SnapParty, role: str, done: dict[str, Activity], words) -> tuple[str, tuple]:
    """One record as the side-by-side shows it: (title, ((what, value), ...))."""
    rows = [("Name", p.name), ("Email", p.email), ("Phone", p.phone), ("Address", p.address),
            ("Tax ID", p.tax_id)]  # fmt: skip
    if p.system == BOOKS:
        a = done[p.id]
        balance = money(p.balance, p.currency) if p.balance is not None else "not read"
        rows += [
            ("Open balance", balance),
            ("Open invoices", str(len(a.open_invoices))),
            ("Transactions", str(a.transactions)),
            (f"Linked to {words.crm}", "yes" if p.linked else "no"),
        ]
    else:
        rows += [("Website", p.website), (f"Linked to {words.books}", "yes" if p.linked else "no")]
    where = words.customer() if p.system == BOOKS else f"{words.crm} company"
    return f"{role}: {where} “{p.name}”", tuple(rows)
