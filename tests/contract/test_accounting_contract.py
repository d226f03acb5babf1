"""The contract every accounting adapter passes, against its emulator over HTTP: the same
scenarios for QuickBooks and Xero (and the next provider: add it to `worlds.py`). Reads,
the change feed, writes that land once under lost answers and ignored idempotency keys,
voids, money read back, rate limits honoured, and the capabilities each adapter declares
holding true. The engine runs on top where the promise is the engine's (one customer, one
invoice per deal)."""

import time
from collections import Counter
from decimal import Decimal

from django.utils import timezone

from connections import retries
from connections.contract import Refusal
from sync.customers import run_customer_sync
from sync.models import InvoiceLink, InvoiceState, RunKind

from ..sandbox.conftest import sandbox_db

pytestmark = sandbox_db

LINES = [("Roof inspection", "RF-INSP", "2", "185.00")]


def customers_named(world, name: str) -> list:
    return [c for c in world.adapter.all_customers() if c.display_name == name]


def test_customers_list_page_search_read_and_change_feed(world):
    adapter = world.adapter
    batch = adapter.capabilities.batch_size
    names = [f"Builder {n:02}" for n in range(min(batch, 12))]
    before = timezone.now()
    time.sleep(1.1)  # the books stamp whole seconds
    written = adapter.write_customers(
        [(n, {"display_name": n, "email": f"b{i}@example.com"}, None) for i, n in enumerate(names)],
        "contract-list",
    )
    assert all(r.ok for r in written), [r.error for r in written if not r.ok]
    found = {c.display_name: c for c in adapter.all_customers()}
    assert set(names) <= set(found)
    assert [c.external_id for c in adapter.customers_named("builder 03")] == [
        found["Builder 03"].external_id
    ]
    assert adapter.customer_by_id(found["Builder 05"].external_id).email == "b5@example.com"
    changed = {c.display_name for c in adapter.customers_changed_since(before)}
    assert set(names) <= changed
    assert adapter.customers_changed_since(timezone.now() + timezone.timedelta(hours=1)) == []
    assert adapter.record_url("customer", found["Builder 01"].external_id).startswith("http")


def test_a_name_taken_is_said_so_where_the_books_keep_names_unique(world):
    adapter = world.adapter
    first = adapter.write_customers([("a", {"display_name": "Maple Homes"}, None)], "c-1")
    again = adapter.write_customers([("b", {"display_name": "Maple Homes"}, None)], "c-2")
    assert first[0].ok
    if adapter.capabilities.unique_customer_names:
        assert again[0].refusal == Refusal.NAME_TAKEN
    else:
        assert again[0].ok
    assert len(customers_named(world, "Maple Homes")) == 1 + (not again[0].refusal)


def test_a_customer_is_created_once_when_its_answers_are_lost(world):
    """Every write is committed and its answer cut: sync looks before it writes again."""
    names = ["Cedar Roofing", "Birch Plumbing", "Alder Electric"]
    for n, name in enumerate(names):
        world.company(name=name, zip=f"7870{n}")
    world.faults("books", seed=7, drop_after_commit_rate=0.6)
    for _ in range(4):
        run_customer_sync(world.client, kind=RunKind.IMPORT, full=True)
    world.faults("books")
    run = run_customer_sync(world.client, kind=RunKind.IMPORT, full=True)
    assert run.counts.get("failed", 0) == 0, run.counts
    for name in names:
        assert len(customers_named(world, name)) == 1, name


def imported_with_a_product(world) -> str:
    company = world.company(name="Cedar Roofing", zip="78701")
    world.books.add_item("Roof inspection", "RF-INSP")
    run_customer_sync(world.client, kind=RunKind.IMPORT, full=True)
    return company


def test_invoices_exactly_once_under_5xx_lost_answers_throttling_and_ignored_keys(world):
    company = imported_with_a_product(world)
    deals = [world.deal(f"Job {n}", LINES, company=company) for n in range(8)]
    world.faults(
        "books", seed=11, error_rate=0.2, drop_after_commit_rate=0.2, throttle=True,
        ignore_requestid=True,
    )  # fmt: skip
    for deal in deals:
        world.win(deal)
    for _ in range(8):
        run_customer_sync(world.client, kind=RunKind.SCHEDULED)
        states = set(
            InvoiceLink.objects.filter(client=world.client).values_list("state", flat=True)
        )
        if states == {InvoiceState.CREATED}:
            break
    world.faults("books")
    run_customer_sync(world.client, kind=RunKind.SCHEDULED)
    numbers = world.books.invoice_numbers()
    assert {n: c for n, c in numbers.items() if c > 1} == {}, "an invoice written twice"
    assert set(numbers) == {f"SF-{d}" for d in deals}
    assert InvoiceLink.objects.filter(client=world.client, state=InvoiceState.CREATED).count() == 8


def test_a_second_invoice_with_a_taken_number_is_refused_where_numbers_are_unique(world):
    from sync.invoicing import DraftLine, InvoiceDraft

    company = imported_with_a_product(world)
    del company
    adapter = world.adapter
    customer = adapter.all_customers()[0]
    item = next(i for i in adapter.items() if i.sku == "RF-INSP" or i.name == "Roof inspection")
    line = DraftLine(item.external_id, "Roof inspection", Decimal(1), Decimal(100), Decimal(100))
    draft = InvoiceDraft("900", customer.external_id, "SF-900", timezone.now().date(),
                         timezone.now().date(), "USD", (line,), Decimal(100),
                         "HubSpot deal 900")  # fmt: skip
    (first,) = adapter.create_invoices([draft], "n-1")
    (second,) = adapter.create_invoices([draft], "n-2")
    assert first.ok
    if adapter.capabilities.unique_invoice_numbers:
        assert second.refusal == Refusal.NUMBER_TAKEN
        assert world.books.invoice_numbers()["SF-900"] == 1
    else:  # the engine must look by number before any retry: the contract says so
        assert not adapter.capabilities.idempotency_reliable


def invoiced(world) -> tuple[str, object]:
    """A won deal invoiced by the engine: its deal id and the invoice as the adapter reads it."""
    company = imported_with_a_product(world)
    deal = world.deal("Roof job", LINES, company=company)
    world.win(deal)
    run_customer_sync(world.client)
    (invoice,) = world.adapter.invoices_numbered([f"SF-{deal}"])
    return deal, invoice


def test_a_void_reads_back_void_and_a_second_void_writes_nothing(world):
    _, invoice = invoiced(world)
    adapter = world.adapter
    assert adapter.void_invoice(invoice.external_id).voided
    (read,) = adapter.invoices_by_id([invoice.external_id])
    assert read.voided and read.balance.amount == 0
    log_before = requests_made(world)
    assert adapter.void_invoice(invoice.external_id).voided
    assert writes(requests_made(world) - log_before) == 0
    assert adapter.receivable() == 0


def requests_made(world) -> Counter:
    import requests

    rows = requests.get(
        f"{world.sandbox}/sandbox/control/requests",
        params={"system": world.books.system, "account": world.qbo_connection.external_id},
        timeout=10,
    ).json()["requests"]
    return Counter({(r["method"], r["route"]): r["count"] for r in rows})


def writes(calls: Counter) -> int:
    reads = ("query", "Invoices", "Contacts")  # QuickBooks queries are POSTs of a query
    return sum(
        n for (method, route), n in calls.items()
        if method in ("POST", "PUT") and not route.endswith(reads[0])
    )  # fmt: skip


def test_payments_and_credit_notes_read_back_in_decimal_with_their_invoice(world):
    deal, invoice = invoiced(world)
    world.books.pay(invoice.external_id, invoice.customer_id, Decimal("100.00"))
    world.books.credit(invoice.customer_id, Decimal("25.50"))
    adapter = world.adapter
    (payment,) = adapter.payments()
    assert payment.total.amount == Decimal("100.00") and payment.total.currency == "USD"
    (credit,) = adapter.credit_memos()
    assert credit.total == Decimal("25.50") and credit.remaining == Decimal("25.50")
    (read,) = adapter.invoices_by_id([invoice.external_id])
    assert read.balance.amount == invoice.total.amount - Decimal("100.00")
    _, money = adapter.money_changed_since(timezone.now() - timezone.timedelta(minutes=5))
    applied = [a for p in money if p.kind == "Payment" for a in p.applied]
    assert (invoice.external_id, Decimal("100.00")) in applied
    # ... and back on the deal, by the engine.
    run_customer_sync(world.client, kind=RunKind.SCHEDULED)
    assert world.deal_properties(deal)["syncfirm_payment_status"] == "partially_paid"


def test_a_429_is_waited_out_for_as_long_as_retry_after_says_within_bounds(world, monkeypatch):
    waits = []

    def wait(state):
        error = state.outcome.exception()
        waits.append(getattr(error, "retry_after", None))
        return 0.01

    monkeypatch.setattr(retries, "_wait", wait)
    world.faults("books", throttle=True)
    for _ in range(3):
        assert world.adapter.all_customers() is not None
    world.faults("books")
    assert waits and all(w is not None and 0 < w <= 3600 for w in waits), waits
    assert min(retries.MAX_WAIT_SECONDS, max(waits)) <= retries.MAX_WAIT_SECONDS


def test_writing_one_part_of_an_address_keeps_the_rest(world):
    """Both books replace an address whole: a new postcode must not blank the city."""
    adapter = world.adapter
    values = {
        "display_name": "Oak Homes",
        "city": "Austin",
        "postal_code": "78704",
        "country": "US",
    }
    (made,) = adapter.write_customers([("o", values, None)], "addr-1")
    current = adapter.customer_by_id(made.external_id)
    (moved,) = adapter.write_customers([("o", {"postal_code": "78745"}, current)], "addr-2")
    assert moved.ok, moved.error
    address = adapter.customer_by_id(made.external_id).billing_address
    assert (address.city, address.postal_code, address.country) == ("Austin", "78745", "US")
