"""A CRM's invoices, and the books invoices a third-party integration made of them, with the
faults such integrations are known for — and the answer key.

Pure and deterministic from the seed. A contractor bills its customers from the CRM (the
same inspection every month for some, a one-off job for others); an integration posts each
invoice into the books in its own number style ("INV-00042", "J42"), a day or two later.
Along the way it skips some, posts some twice, drops a line, rounds a cent, files some under
a renamed customer; the bookkeeper keys a few by hand again (another number) or mistypes a
digit, and the books hold sales that never were in the CRM. `bench/invoice_pairing.py`
grades `sync.invoice_pairing` on it; the Jobber demo writes it into the emulators.
"""

import random
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from connections.records import CrmInvoice, Invoice, InvoiceLine, Money

from .generator import CATALOGUE, CENT, CURRENCY

STYLES = ("{n}", "INV-{n:05d}", "J{n}", "#{n}", "{n:06d}")


@dataclass(frozen=True)
class Faults:
    """How often each fault happens, per posted invoice."""

    skipped: float = 0.03  # never posted: missing in the books
    posted_twice: float = 0.02  # the integration posts it again, same number
    keyed_again: float = 0.01  # the bookkeeper keys it again by hand, another number
    line_dropped: float = 0.02  # posted without one of its lines
    cent_rounded: float = 0.02  # a cent off (tax rounding)
    customer_renamed: float = 0.02  # filed under a customer the CRM client is not linked to
    digit_mistyped: float = 0.01  # its number typed with one digit wrong
    late_days: int = 3  # posted up to this many days after it was issued
    books_own: float = 0.05  # sales in the books that never were in the CRM (per invoice)


@dataclass
class Audit:
    crm: list[CrmInvoice]
    books: list[Invoice]
    customer_of: dict[str, str]  # CRM client id → books customer id (the customer links)
    truth: dict[str, str] = field(default_factory=dict)  # CRM id → its books invoice id
    copies: dict[str, str] = field(default_factory=dict)  # books copy id → CRM id
    faults: dict[str, list[str]] = field(default_factory=dict)  # fault → CRM ids


def _lines(rng: random.Random) -> tuple[InvoiceLine, ...]:
    out = []
    for name, sku, price in rng.sample(CATALOGUE, rng.randint(1, 3)):
        quantity = Decimal(rng.choice([1, 1, 1, 2, 3, 8, 40]))
        unit = Decimal(price)
        out.append(InvoiceLine(sku, quantity, unit, (quantity * unit).quantize(CENT), name))
    return tuple(out)


def simulate(
    invoices: int = 500, seed: int = 1, faults: Faults = Faults(), today: date = date(2026, 11, 30)
) -> Audit:
    rng = random.Random(seed)  # noqa: S311 - test data, not a secret
    style = rng.choice(STYLES)
    clients = max(5, invoices // 8)
    customer_of = {f"C{k}": str(100 + k) for k in range(clients)}
    # A third of the customers are on a plan: the same lines every month.
    plans = {f"C{k}": _lines(rng) for k in range(clients) if rng.random() < 0.33}
    audit = Audit([], [], customer_of)
    start = rng.randint(1000, 5000)
    next_books = 1

    def books_id() -> str:
        nonlocal next_books
        next_books += 1
        return str(next_books)

    def post(crm: CrmInvoice, number: str, customer: str, lines, issued: date) -> Invoice:
        total = sum((line.amount for line in lines), Decimal("0.00"))
        made = Invoice(
            external_id=books_id(),
            doc_number=number,
            customer_id=customer,
            total=Money(total, CURRENCY),
            balance=Money(total, CURRENCY),
            txn_date=issued.isoformat(),
            lines=tuple(lines),
        )
        audit.books.append(made)
        return made

    for k in range(invoices):
        client = rng.choice(list(customer_of))
        lines = plans.get(client) or _lines(rng)
        issued = today - timedelta(days=rng.randint(0, 180))
        total = sum((line.amount for line in lines), Decimal("0.00"))
        crm = CrmInvoice(
            external_id=f"JI{k}",
            number=str(start + k),
            customer_id=client,
            total=Money(total, CURRENCY),
            balance=Money(total, CURRENCY),
            issued=issued.isoformat(),
            lines=lines,
        )
        audit.crm.append(crm)

        def fault(name: str, crm_id: str = crm.external_id) -> bool:
            hit = rng.random() < getattr(faults, name)
            if hit:
                audit.faults.setdefault(name, []).append(crm_id)
            return hit

        if fault("skipped"):
            continue
        number = style.format(n=start + k)
        if fault("digit_mistyped"):
            digits = [i for i, ch in enumerate(number) if ch.isdigit()]
            at = digits[-1 - rng.randrange(min(3, len(digits)))]
            number = (
                number[:at] + str((int(number[at]) + rng.randint(1, 9)) % 10) + number[at + 1 :]
            )
        customer = customer_of[client]
        if fault("customer_renamed"):
            customer = f"9{customer}"  # a customer of its own in the books, not linked
        posted = list(lines)
        if len(posted) > 1 and fault("line_dropped"):
            posted.pop(rng.randrange(len(posted)))
        if fault("cent_rounded"):
            last = posted[-1]
            posted[-1] = InvoiceLine(
                last.item_id, last.quantity, last.unit_price, last.amount + CENT, last.description
            )
        when = issued + timedelta(days=rng.randint(0, faults.late_days))
        audit.truth[crm.external_id] = post(crm, number, customer, posted, when).external_id
        if fault("posted_twice"):
            again = post(crm, number, customer, posted, when + timedelta(days=rng.randint(0, 2)))
            audit.copies[again.external_id] = crm.external_id
        if fault("keyed_again"):
            by_hand = post(crm, str(rng.randint(100, 999)), customer, lines, issued)
            audit.copies[by_hand.external_id] = crm.external_id
        if rng.random() < faults.books_own:
            own = _lines(rng)
            post(
                crm,
                str(rng.randint(100, 999)),
                rng.choice(list(customer_of.values())),
                own,
                today - timedelta(days=rng.randint(0, 180)),
            )
    return audit
