"""A contractor's book, generated: the CRM side (companies, homeowners, jobs as deals with line
items) and the accounting side (customers, items, invoices, payments, credit memos), with a
planted set of discrepancies of every finding type and an answer key naming them.

Pure and deterministic from the seed: plain dataclasses, Decimal money (USD), dates. Writing
it into the emulators is `sandbox.seed_book`'s job.
"""

import random
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from decimal import Decimal

CURRENCY = "USD"
CENT = Decimal("0.01")
FINDING_CODES = (
    "duplicate_invoice",
    "missing_invoice",
    "partial_invoice",
    "paid_but_open",
    "balance_mismatch",
    "stale_open_invoice",
    "job_revenue_mismatch",
)

FIRST = [
    "Ann",
    "Ben",
    "Carla",
    "Dev",
    "Elena",
    "Frank",
    "Grace",
    "Hugo",
    "Ines",
    "Jon",
    "Kara",
    "Liam",
]
LAST = ["Lee", "Okafor", "Garcia", "Patel", "Nguyen", "Smith", "Kowalski", "Brown", "Rossi", "Kim"]
TRADES = ["Roofing", "Builders", "Renovations", "Property Group", "Homes", "Construction", "Realty"]
# Jobs one planting round uses: duplicate, partial, paid-but-open and balance-mismatch each
# need an open recent job; missing, stale and job-revenue-mismatch each need a paid old one.
UNPAID_PER_ROUND, PAID_PER_ROUND = 4, 3

PLACES = ["Cedar", "Summit", "Harbor", "Oak Ridge", "Maple", "Granite", "Riverside", "Pioneer"]
CATALOGUE = [
    ("Roof inspection", "RF-INSP", "185.00"),
    ("Shingle replacement (per sq)", "RF-SHNG", "425.00"),
    ("Gutter install (per ft)", "GT-INST", "12.50"),
    ("Water heater install", "PL-WHTR", "1450.00"),
    ("Drain cleaning", "PL-DRAN", "225.00"),
    ("Kitchen remodel labour (per day)", "RM-KTCH", "960.00"),
    ("Permit and disposal", "AD-PRMT", "310.00"),
    ("Electrical panel upgrade", "EL-PANL", "2200.00"),
]


@dataclass(frozen=True, slots=True)
class Person:
    """One customer, as the books hold them (`name`, `email`) and as the CRM spells them.

    The answer key for customer matching is `key`, the same on both sides.
    """

    key: str
    name: str
    is_company: bool
    email: str
    phone: str
    postal_code: str
    crm_name: str = ""  # how the CRM spells the name; empty: as in the books
    crm_email: str | None = None  # None: as in the books; "": the CRM record has no email

    @property
    def name_in_crm(self) -> str:
        return self.crm_name or self.name

    @property
    def email_in_crm(self) -> str:
        return self.email if self.crm_email is None else self.crm_email


@dataclass(frozen=True, slots=True)
class Product:
    key: str
    name: str
    sku: str
    price: Decimal


@dataclass(frozen=True, slots=True)
class Line:
    product_key: str
    quantity: Decimal
    unit_price: Decimal

    @property
    def amount(self) -> Decimal:
        return (self.quantity * self.unit_price).quantize(CENT)


@dataclass(slots=True)
class Deal:
    key: str
    name: str
    customer_key: str
    stage: str
    close_date: date
    lines: list[Line]
    amount: Decimal
    # What the CRM believes about payment (syncfirm writes these back in normal operation).
    payment_status: str = ""
    amount_paid: Decimal = Decimal("0.00")


@dataclass(slots=True)
class Invoice:
    key: str
    customer_key: str
    deal_key: str | None
    doc_number: str
    txn_date: date
    lines: list[Line]

    @property
    def total(self) -> Decimal:
        return sum((line.amount for line in self.lines), Decimal("0.00"))


@dataclass(frozen=True, slots=True)
class Payment:
    key: str
    customer_key: str
    txn_date: date
    amount: Decimal
    applied: tuple[tuple[str, Decimal], ...]  # (invoice key, amount)


@dataclass(frozen=True, slots=True)
class CreditMemo:
    key: str
    customer_key: str
    deal_key: str | None
    txn_date: date
    amount: Decimal
    product_key: str


@dataclass(frozen=True, slots=True)
class Planted:
    code: str
    amount: Decimal
    deal_key: str | None = None
    invoice_keys: tuple[str, ...] = ()
    customer_key: str | None = None
    record_key: str | None = None  # the payment or credit memo it is about


@dataclass
class Book:
    today: date
    people: list[Person] = field(default_factory=list)
    products: list[Product] = field(default_factory=list)
    deals: list[Deal] = field(default_factory=list)
    invoices: list[Invoice] = field(default_factory=list)
    payments: list[Payment] = field(default_factory=list)
    credit_memos: list[CreditMemo] = field(default_factory=list)
    answer_key: list[Planted] = field(default_factory=list)

    def invoice_balance(self, invoice_key: str) -> Decimal:
        invoice = next(i for i in self.invoices if i.key == invoice_key)
        paid = sum((a for p in self.payments for k, a in p.applied if k == invoice_key), Decimal(0))
        return invoice.total - paid


def _money(value: str) -> Decimal:
    return Decimal(str(value)).quantize(CENT)


def _lines(rng: random.Random, products: list[Product]) -> list[Line]:
    chosen = rng.sample(products, rng.randint(2, 4))
    return [Line(p.key, Decimal(rng.randint(1, 6)), p.price) for p in chosen]


def generate(
    invoices: int = 40,
    *,
    seed: int = 1,
    discrepancies: bool = True,
    today: date | None = None,
    spelling_variants: bool = False,
    unseen: bool = False,
) -> Book:
    """A book with about `invoices` invoices (one per won job, plus planted extras).

    With `unseen`, the kinds of problem the first reconciliation missed are planted too
    (`_plant_unseen`), from their own random stream: the rest of the book is the same.

    With `spelling_variants`, a seeded ~30 % of the people are written differently in the
    CRM (`Person.crm_name`, `Person.crm_email`); everything else is the same book.
    """
    rng = random.Random(seed)  # noqa: S311 - test data, not security
    today = today or date(2026, 11, 15)
    book = Book(today=today)
    book.products = [
        Product(f"P{n}", name, sku, _money(price)) for n, (name, sku, price) in enumerate(CATALOGUE)
    ]
    people_count = max(3, invoices // 3)
    for n in range(people_count):
        is_company = rng.random() < 0.4
        first, last = rng.choice(FIRST), rng.choice(LAST)
        name = (
            f"{rng.choice(PLACES)} {rng.choice(TRADES)} {n}"
            if is_company
            else f"{first} {last} {n}"
        )
        mailbox, domain = ("office", "builders") if is_company else (first.lower(), "home")
        email = f"{mailbox}.{n}@{domain}.example"
        book.people.append(
            Person(
                f"C{n}", name, is_company, email, f"+1 512 555 {n % 10000:04d}", f"787{n % 100:02d}"
            )
        )

    each = max(1, invoices // 40)
    if discrepancies and invoices < len(FINDING_CODES):
        raise ValueError(
            f"planting every finding type takes at least {len(FINDING_CODES)} invoices "
            f"(one job each); ask for more invoices or for a clean book"
        )
    # Planting takes 4 open recent jobs and 3 paid old ones per round: the first jobs are
    # set aside for it, so that even a handful of invoices holds every finding type.
    unpaid_needed = UNPAID_PER_ROUND * each if discrepancies else 0
    paid_needed = PAID_PER_ROUND * each if discrepancies else 0
    doc = 1000
    for n in range(invoices):
        customer = book.people[n % people_count]
        lines = _lines(rng, book.products)
        amount = sum((line.amount for line in lines), Decimal("0.00"))
        # Old jobs are paid; only recent ones may still be open (stale ones are planted).
        recent = n < unpaid_needed or (n >= unpaid_needed + paid_needed and n % 3 == 0)
        age = rng.randint(5, 55) if recent else rng.randint(61, 300)
        close = today - timedelta(days=age)
        deal = Deal(
            f"D{n}", f"{customer.name} - job {n}", customer.key, "closedwon", close, lines, amount
        )
        book.deals.append(deal)
        doc += 1
        invoice = Invoice(f"I{n}", customer.key, deal.key, f"SF-{doc}", close, list(lines))
        book.invoices.append(invoice)
        if not recent:
            paid_part = "all"
        elif n < unpaid_needed:
            paid_part = "none"
        else:
            paid_part = rng.choice(["all", "half", "none"])
        if paid_part != "none":
            paid = amount if paid_part == "all" else (amount / 2).quantize(CENT)
            pay_date = min(today, close + timedelta(days=rng.randint(3, 40)))
            book.payments.append(
                Payment(f"Y{n}", customer.key, pay_date, paid, ((invoice.key, paid),))
            )
            deal.amount_paid = paid
            deal.payment_status = "paid" if paid == amount else "partially_paid"
        else:
            deal.payment_status = "unpaid"
    for n in range(max(2, invoices // 10)):  # open and lost jobs: nothing to invoice
        customer = rng.choice(book.people)
        lines = _lines(rng, book.products)
        stage = rng.choice(["contractsent", "closedlost", "qualifiedtobuy"])
        total = sum((line.amount for line in lines), Decimal("0.00"))
        book.deals.append(
            Deal(f"O{n}", f"{customer.name} - quote {n}", customer.key, stage, today, lines, total)
        )
    if discrepancies:
        _plant(book, rng, each)
    if unseen:
        _plant_unseen(book, random.Random(f"unseen:{seed}"))  # noqa: S311 - test data
    if spelling_variants:
        # Its own random stream, so that the rest of the book is the one without variants.
        book.people[:] = _respell(book.people, random.Random(f"spelling:{seed}"))  # noqa: S311
    return book


LEGAL_SUFFIXES = [" LLC", " Inc.", " Co", " Ltd"]
VARIANT_SHARE = 0.3


def _respell(people: list[Person], rng: random.Random) -> list[Person]:
    """A share of the people spelled in the CRM the way people type: another case, a legal
    suffix added or dropped, a one-letter typo in a long word; the email in capitals or
    missing. Jobs were named before, with the name as it was."""
    out = []
    for person in people:
        if rng.random() >= VARIANT_SHARE:
            out.append(person)
            continue
        name, crm_name = person.name, person.name
        kind = rng.choice(["case", "suffix", "typo"] if person.is_company else ["case", "typo"])
        if kind == "suffix" and rng.random() < 0.5:
            name = person.name + rng.choice(LEGAL_SUFFIXES)  # the books have it, the CRM not
        elif kind == "suffix":
            crm_name = person.name + rng.choice(LEGAL_SUFFIXES)
        elif kind == "typo" and (typo := _typo(rng, person.name)):
            crm_name = typo
        else:
            crm_name = person.name.upper() if rng.random() < 0.5 else person.name.lower()
        crm_email = rng.choice([None, None, person.email.upper(), ""])
        out.append(replace(person, name=name, crm_name=crm_name, crm_email=crm_email))
    return out


def _typo(rng: random.Random, name: str) -> str:
    """The name with one letter of a long word dropped, doubled, replaced or swapped with
    the next; "" when no word is long enough to bear it."""
    words = name.split(" ")
    long = [i for i, word in enumerate(words) if len(word) >= 5 and word.isalpha()]
    if not long:
        return ""
    i = rng.choice(long)
    word = words[i]
    at = rng.randrange(1, len(word) - 1)  # never the first letter, as people rarely miss it
    edit = rng.choice(["drop", "double", "replace", "swap"])
    if edit == "drop":
        word = word[:at] + word[at + 1 :]
    elif edit == "double":
        word = word[:at] + word[at] + word[at:]
    elif edit == "replace":
        other = rng.choice([c for c in "aeioulnrst" if c != word[at].lower()])
        word = word[:at] + other + word[at + 1 :]
    elif word[at] != word[at + 1]:
        word = word[:at] + word[at + 1] + word[at] + word[at + 2 :]
    else:
        word = word[:at] + word[at + 1 :]
    words[i] = word
    return " ".join(words)


def _plant(book: Book, rng: random.Random, each: int) -> None:
    """Plant `each` discrepancies of every finding type, recording them in the answer key."""
    invoice_by_deal = {i.deal_key: i for i in book.invoices if i.deal_key}
    won = [d for d in book.deals if d.stage == "closedwon"]
    unpaid = [d for d in won if d.payment_status == "unpaid" and len(d.lines) >= 2]
    paid = [d for d in won if d.payment_status == "paid"]
    rng.shuffle(unpaid)
    rng.shuffle(paid)
    dropped_invoices: set[str] = set()
    dropped_payments: set[str] = set()
    payment_of = {p.applied[0][0]: p.key for p in book.payments}
    plant = book.answer_key.append

    for n in range(1, each + 1):
        # A job invoiced twice: synced once, then keyed again by hand two days later.
        deal = unpaid.pop()
        original = invoice_by_deal[deal.key]
        copy = Invoice(
            f"X{n}", deal.customer_key, None, f"M-{500 + n}",
            original.txn_date + timedelta(days=2), list(original.lines),
        )  # fmt: skip
        book.invoices.append(copy)
        plant(
            Planted(
                "duplicate_invoice",
                copy.total,
                deal.key,
                (original.key, copy.key),
                deal.customer_key,
            )
        )

        # A won job that never reached the books.
        deal = paid.pop()
        gone = invoice_by_deal[deal.key]
        dropped_invoices.add(gone.key)
        dropped_payments.add(payment_of[gone.key])
        deal.payment_status, deal.amount_paid = "", Decimal("0.00")
        plant(Planted("missing_invoice", deal.amount, deal.key, (), deal.customer_key))

        # The invoice arrived without one of its lines.
        deal = unpaid.pop()
        invoice = invoice_by_deal[deal.key]
        missing_line = invoice.lines.pop()
        plant(
            Planted(
                "partial_invoice", missing_line.amount, deal.key, (invoice.key,), deal.customer_key
            )
        )

        # The CRM says paid; the books still show the invoice open.
        deal = unpaid.pop()
        deal.payment_status, deal.amount_paid = "paid", deal.amount
        invoice = invoice_by_deal[deal.key]
        plant(Planted("paid_but_open", invoice.total, deal.key, (invoice.key,), deal.customer_key))

        # Half paid in the books; the CRM never heard of it.
        deal = unpaid.pop()
        invoice = invoice_by_deal[deal.key]
        half = (invoice.total / 2).quantize(CENT)
        book.payments.append(
            Payment(
                f"Z{n}",
                deal.customer_key,
                book.today - timedelta(days=2),
                half,
                ((invoice.key, half),),
            )
        )
        plant(Planted("balance_mismatch", half, deal.key, (invoice.key,), deal.customer_key))

        # Open far past the 90-day threshold.
        deal = paid.pop()
        invoice = invoice_by_deal[deal.key]
        dropped_payments.add(payment_of[invoice.key])
        invoice.txn_date = deal.close_date = book.today - timedelta(days=120 + rng.randint(0, 60))
        deal.payment_status, deal.amount_paid = "unpaid", Decimal("0.00")
        plant(
            Planted(
                "stale_open_invoice", invoice.total, deal.key, (invoice.key,), deal.customer_key
            )
        )

        # The books recognise less for the job than the CRM says: a credit against it.
        deal = paid.pop()
        credit = (deal.amount / 5).quantize(CENT)
        book.credit_memos.append(
            CreditMemo(f"R{n}", deal.customer_key, deal.key, book.today - timedelta(days=3), credit,
                       deal.lines[0].product_key)
        )  # fmt: skip
        key = (invoice_by_deal[deal.key].key,)
        plant(Planted("job_revenue_mismatch", credit, deal.key, key, deal.customer_key))

    book.invoices[:] = [i for i in book.invoices if i.key not in dropped_invoices]
    book.payments[:] = [p for p in book.payments if p.key not in dropped_payments]


UNSEEN_EACH = 4


def _plant_unseen(book: Book, rng: random.Random) -> None:
    """Plant what a black-box audit found the reconciliation missing, each in the answer key:

    - payments and credit memos left on the customer's account while the invoice they pay
      stays open (`paid_but_open`, about the payment or credit): two payments of the
      invoice's amount, a credit memo of its amount, a credit memo for part of it;
    - deals whose amount was raised 15-30 % in the CRM while their lines stayed
      (`job_revenue_mismatch`);
    - customers whose receivable differs with no other problem to explain it
      (`balance_mismatch` about the customer): two invoices keyed by hand in the books with
      no deal, and a payment on account beyond anything invoiced.

    The payments, credits and hand-keyed invoices go to customers of their own (new to
    both systems), each with one job, so nothing else of the book is disturbed."""
    plant = book.answer_key.append
    used_deals = {p.deal_key for p in book.answer_key}
    doc = 9000

    def newcomer(n: int) -> Person:
        first, last = rng.choice(FIRST), rng.choice(LAST)
        person = Person(
            f"U{n}", f"{first} {last} U{n}", False, f"{first.lower()}.u{n}@home.example",
            f"+1 512 556 {n:04d}", f"786{n:02d}",
        )  # fmt: skip
        book.people.append(person)
        return person

    def job(person: Person, n: int, age: int) -> tuple[Deal, Invoice]:
        nonlocal doc
        lines = _lines(rng, book.products)
        amount = sum((line.amount for line in lines), Decimal("0.00"))
        close = book.today - timedelta(days=age)
        deal = Deal(f"UD{n}", f"{person.name} - job U{n}", person.key, "closedwon", close,
                    lines, amount, "unpaid")  # fmt: skip
        doc += 1
        invoice = Invoice(f"UI{n}", person.key, deal.key, f"SF-{doc}", close, list(lines))
        book.deals.append(deal)
        book.invoices.append(invoice)
        return deal, invoice

    def paid_job(person: Person, n: int) -> None:
        deal, invoice = job(person, n, rng.randint(61, 80))
        paid_on = invoice.txn_date + timedelta(days=5)
        book.payments.append(
            Payment(f"UY{n}", person.key, paid_on, deal.amount, ((invoice.key, deal.amount),))
        )
        deal.payment_status, deal.amount_paid = "paid", deal.amount

    n = 0
    for kind in ("payment", "payment", "credit", "part-credit"):
        person = newcomer(n)
        deal, invoice = job(person, n, rng.randint(5, 40))
        when = min(book.today, invoice.txn_date + timedelta(days=rng.randint(2, 20)))
        amount = invoice.total
        if kind == "payment":
            book.payments.append(Payment(f"UP{n}", person.key, when, amount, ()))
            record = f"UP{n}"
        else:
            if kind == "part-credit":  # a discount agreed, credited, never applied
                amount = (invoice.total * Decimal(rng.randint(10, 40)) / 100).quantize(CENT)
            product = invoice.lines[0].product_key
            book.credit_memos.append(CreditMemo(f"UR{n}", person.key, None, when, amount, product))
            record = f"UR{n}"
        plant(Planted("paid_but_open", amount, deal.key, (invoice.key,), person.key, record))
        n += 1

    invoice_of = {i.deal_key: i for i in book.invoices if i.deal_key}
    candidates = [
        d
        for d in book.deals
        if d.stage == "closedwon" and d.key not in used_deals and d.key in invoice_of
        and not d.key.startswith("U")
    ]  # fmt: skip
    for deal in rng.sample(candidates, UNSEEN_EACH):
        raised = (deal.amount * (1 + Decimal(rng.randint(15, 30)) / 100)).quantize(CENT)
        plant(
            Planted(
                "job_revenue_mismatch", raised - deal.amount, deal.key,
                (invoice_of[deal.key].key,), deal.customer_key,
            )
        )  # fmt: skip
        deal.amount = raised  # the lines stay as they were

    for kind in ("hand-keyed", "hand-keyed", "on-account"):
        person = newcomer(n)
        paid_job(person, n)
        if kind == "hand-keyed":
            lines = [Line(rng.choice(book.products).key, Decimal(rng.randint(7, 9)),
                          Decimal(rng.randint(40, 90)))]  # fmt: skip
            doc += 1
            extra = Invoice(f"UK{n}", person.key, None, f"M-{doc}",
                            book.today - timedelta(days=rng.randint(3, 20)), lines)  # fmt: skip
            book.invoices.append(extra)
            plant(Planted("balance_mismatch", extra.total, None, (extra.key,), person.key))
        else:
            extra = Decimal(rng.randint(150, 900)).quantize(CENT)
            when = book.today - timedelta(days=rng.randint(3, 20))
            book.payments.append(Payment(f"UO{n}", person.key, when, extra, ()))
            plant(Planted("balance_mismatch", extra, None, (), person.key, f"UO{n}"))
        n += 1
