"""Attacks on carrying payments between Jobber and the books (decision 0038): each test is
something a contractor or bookkeeper would notice when it goes wrong."""

from datetime import date, timedelta
from decimal import Decimal

from django.utils import timezone

from connections import retries
from connections.jobber.adapter import JobberAdapter
from connections.quickbooks.adapter import QuickBooksAdapter
from connections.xero.adapter import XeroAdapter
from sync.customers import run_customer_sync
from sync.models import (
    Alert,
    InvoiceLink,
    PaymentLink,
    PaymentRule,
    PaymentState,
    RecordOutcome,
    RunKind,
    SyncSettings,
)

from ..sandbox.conftest import sandbox_db
from .test_payment_carrying import LINES, books_invoice, posted, sync

pytestmark = sandbox_db

BOOKS_NAME = {"quickbooks": "QuickBooks", "xero": "Xero"}


def rule(client, value: str) -> None:
    SyncSettings.objects.filter(client=client).update(payment_rule=value)


def later(monkeypatch, minutes: int = 10) -> None:
    """From now on, the clock (syncfirm's and the emulators') reads `minutes` later: the next
    scheduled run comes that long after what the test just recorded."""
    real = timezone.now
    monkeypatch.setattr(timezone, "now", lambda: real() + timedelta(minutes=minutes))


def jobber_payments_down(monkeypatch):
    """Jobber's payment read fails (a 503 through every retry); returns the undo."""
    real = JobberAdapter.crm_payments

    def down(self, invoice_ids):
        raise retries.Transient("Jobber answered 503")

    monkeypatch.setattr(JobberAdapter, "crm_payments", down)
    return lambda: monkeypatch.setattr(JobberAdapter, "crm_payments", real)


def said(client, words: str) -> list[str]:
    return list(
        RecordOutcome.objects.filter(run__client=client, reason__contains=words).values_list(
            "reason", flat=True
        )
    )


# -- a run that fails half-way ------------------------------------------------------------
def test_a_books_payment_is_still_carried_after_a_run_that_could_not_read_jobbers_payments(
    jobber_and_books, monkeypatch
):
    """The run says "payments could not be read; the next sync carries them". Ten minutes
    later the next sync must carry the books payment to Jobber."""
    client, books, crm = jobber_and_books
    invoice, in_books = posted(client, books, crm)
    rule(client, PaymentRule.BOOKS_TO_CRM)
    books.pay(in_books["id"], in_books["customer"], Decimal("100.00"))
    later(monkeypatch, 10)
    restore = jobber_payments_down(monkeypatch)
    run_customer_sync(client, kind=RunKind.SCHEDULED)
    promise = said(client, "payments could not be read")
    assert promise and "the next sync carries them" in promise[0], promise
    restore()
    sync(client, 3)
    assert [p["amount"] for p in crm.payments(invoice)] == [Decimal("100.00")], (
        "the books payment was never carried to Jobber after the failed read"
    )


def test_a_jobber_payment_is_still_carried_after_a_run_that_could_not_read_jobbers_payments(
    jobber_and_books, monkeypatch
):
    client, books, crm = jobber_and_books
    invoice, in_books = posted(client, books, crm)
    rule(client, PaymentRule.CRM_TO_BOOKS)
    crm.pay(invoice, Decimal("200.00"))
    later(monkeypatch, 10)
    restore = jobber_payments_down(monkeypatch)
    run_customer_sync(client, kind=RunKind.SCHEDULED)
    assert said(client, "payments could not be read")
    restore()
    sync(client, 3)
    assert [a for a, _ in books.payments_on(in_books["id"])] == [Decimal("200.00")], (
        "the Jobber payment was never carried to the books after the failed read"
    )


# -- exactly once: a write left WRITING -------------------------------------------------------
def test_a_books_payment_deleted_while_its_write_to_jobber_was_unsettled_is_not_recorded_in_jobber(
    jobber_and_books, monkeypatch
):
    """The write to Jobber dies with no known outcome (it did not land); before the next
    run the bookkeeper deletes the payment in the books. Nothing of it may reach Jobber."""
    client, books, crm = jobber_and_books
    invoice, in_books = posted(client, books, crm)
    rule(client, PaymentRule.BOOKS_TO_CRM)
    books.pay(in_books["id"], in_books["customer"], Decimal("100.00"))
    real = JobberAdapter.record_crm_payment

    def cut(self, payment):
        raise retries.Transient("Jobber answered 502")

    monkeypatch.setattr(JobberAdapter, "record_crm_payment", cut)
    run_customer_sync(client, kind=RunKind.SCHEDULED)
    assert PaymentLink.objects.get(client=client).state == PaymentState.WRITING
    monkeypatch.setattr(JobberAdapter, "record_crm_payment", real)
    books.delete_payment(in_books["id"])
    assert books.payments_on(in_books["id"]) == []
    sync(client, 3)
    assert crm.payments(invoice) == [], (
        f"a payment deleted in the books was recorded in Jobber: {crm.payments(invoice)}"
    )


# -- reading Jobber: what cannot be read is not acted on --------------------------------------
def test_a_books_payment_is_not_written_blind_to_a_jobber_invoice_whose_payments_cannot_be_read(
    jobber_and_books,
):
    """A Jobber invoice paid in many instalments (more payment records than syncfirm reads
    on one invoice) with a 100.00 payment recorded by hand, and the same 100.00 recorded by
    hand in the books: syncfirm cannot see Jobber's payments, so it must neither match nor
    write; it wrote a second 100.00 into Jobber."""
    from sandbox.jobber import store
    from sandbox.jobber.ids import decode_id
    from sandbox.jobber.models import Invoice, PaymentRecord

    client, books, crm = jobber_and_books
    invoice, in_books = posted(client, books, crm)
    row = Invoice.objects.using("sandbox").get(pk=decode_id(invoice)[1])
    now = timezone.now()
    PaymentRecord.objects.using("sandbox").bulk_create(
        PaymentRecord(
            account=row.account,
            client=row.client,
            invoice=row,
            amount=Decimal("1.00"),
            tip_amount=Decimal(0),
            entry_date=now.date(),
            adjustment_type="PAYMENT",
            created_at=now,
            updated_at=now,
        )
        for _ in range(50)
    )
    store.settle(row)
    crm.pay(invoice, Decimal("100.00"))
    books.pay(in_books["id"], in_books["customer"], Decimal("100.00"))
    sync(client, 3)
    written = [p for p in crm.payments(invoice) if p["details"].startswith("syncfirm:")]
    assert written == [], "syncfirm wrote into a Jobber invoice whose payments it could not read"


# -- what is not money received -----------------------------------------------------------
def test_a_credit_memo_applied_in_quickbooks_is_not_recorded_in_jobber_as_money_received(
    jobber_and_quickbooks,
):
    """The bookkeeper applies a 50.00 credit memo to the invoice (QuickBooks' Receive
    Payment of 0.00 that uses the credit). No money came in: Jobber must not get a 50.00
    payment record (decision 0038: adjustments that are not money received are held)."""
    from quickbooks.objects.payment import Payment

    client, books, crm = jobber_and_quickbooks
    invoice, in_books = posted(client, books, crm)
    books.credit(in_books["customer"], Decimal("50.00"))
    memos = books.qb.query("SELECT * FROM CreditMemo")["QueryResponse"]["CreditMemo"]
    use = Payment()
    use.CustomerRef, use.TotalAmt, use.TxnDate = {"value": in_books["customer"]}, 0, "2026-11-27"
    use.Line = [
        {"Amount": "50.00", "LinkedTxn": [{"TxnId": in_books["id"], "TxnType": "Invoice"}]},
        {"Amount": "50.00", "LinkedTxn": [{"TxnId": memos[0]["Id"], "TxnType": "CreditMemo"}]},
    ]
    use.save(qb=books.qb)
    assert books_invoice(books, in_books["id"])["balance"] == Decimal("410.50")
    sync(client, 3)
    assert crm.payments(invoice) == [], (
        f"a credit was recorded in Jobber as money received: {crm.payments(invoice)}"
    )


# -- a carried payment changed afterwards --------------------------------------------------
def test_a_quickbooks_payment_moved_to_another_invoice_after_it_was_carried_is_not_counted_twice(
    jobber_and_quickbooks,
):
    """The bookkeeper applied a 100.00 payment to the wrong invoice, syncfirm carried it to
    Jobber, then the bookkeeper moved it to the right invoice. Jobber must not end up
    showing 200.00 received for one 100.00 payment without anyone being told."""
    from quickbooks.objects.payment import Payment

    from sandbox.quickbooks.models import Entity

    client, books, crm = jobber_and_quickbooks
    company = crm.company("Birch Decks", email="ap@birch.example")
    run_customer_sync(client, kind=RunKind.IMPORT, full=True)
    first = crm.billable(company, LINES, number="5001")
    second = crm.billable(company, LINES, number="5002")
    sync(client, 1)
    links = {link.deal_id: link for link in InvoiceLink.objects.filter(client=client)}
    a, b = links[first].accounting_id, links[second].accounting_id
    customer = books_invoice(books, a)["customer"]
    books.pay(a, customer, Decimal("100.00"))
    sync(client, 2)
    assert [p["amount"] for p in crm.payments(first)] == [Decimal("100.00")]
    (row,) = Entity.objects.using("sandbox").filter(
        company__realm_id=books.connection.external_id, entity_type="Payment", deleted=False
    )
    moved = Payment.get(row.entity_id, qb=books.qb)
    moved.Line = [{"Amount": "100.00", "LinkedTxn": [{"TxnId": b, "TxnType": "Invoice"}]}]
    moved.save(qb=books.qb)
    assert books.payments_on(a) == [] and len(books.payments_on(b)) == 1
    sync(client, 3)
    in_jobber = sum(p["amount"] for p in crm.payments(first) + crm.payments(second))
    alerts = [a.message for a in Alert.objects.filter(client=client, source="payment sync")]
    assert in_jobber == Decimal("100.00") or any("SF-5001" in m for m in alerts), (
        f"Jobber shows {in_jobber} received for one 100.00 payment; alerts: {alerts}"
    )


def test_syncfirms_copy_deleted_in_the_books_is_said(jobber_and_books):
    """syncfirm recorded Jobber's 200.00 in the books; the bookkeeper deletes that copy.
    Jobber shows the invoice paid 200.00, the books show it unpaid: someone must be told
    (the brief: an alert when a carried payment later changes or is deleted)."""
    client, books, crm = jobber_and_books
    invoice, in_books = posted(client, books, crm)
    crm.pay(invoice, Decimal("200.00"))
    sync(client, 2)
    assert [a for a, _ in books.payments_on(in_books["id"])] == [Decimal("200.00")]
    books.delete_payment(in_books["id"])
    sync(client, 3)
    alerts = [a.message for a in Alert.objects.filter(client=client, source="payment sync")]
    assert alerts, "the books' copy of a carried payment was deleted and nobody was told"


# -- the rule changed between runs ---------------------------------------------------------
def test_a_jobber_payment_taken_while_the_rule_was_none_is_carried_once_the_rule_carries_again(
    jobber_and_books, monkeypatch
):
    """both -> none -> both: the 100.00 taken in Jobber meanwhile is carried when the rule
    carries again (held), once."""
    client, books, crm = jobber_and_books
    invoice, in_books = posted(client, books, crm)
    rule(client, PaymentRule.NONE)
    crm.pay(invoice, Decimal("100.00"))
    sync(client, 1)
    assert books.payments_on(in_books["id"]) == []
    later(monkeypatch, 10)  # the rule is switched back ten minutes later
    rule(client, PaymentRule.BOTH)
    sync(client, 2)
    assert [a for a, _ in books.payments_on(in_books["id"])] == [Decimal("100.00")]
    assert [p["amount"] for p in crm.payments(invoice)] == [Decimal("100.00")]


# -- wording -------------------------------------------------------------------------------
def test_a_payment_held_for_the_closed_period_names_the_books_in_good_english(
    jobber_and_books, monkeypatch
):
    client, books, crm = jobber_and_books
    invoice, _in_books = posted(client, books, crm)
    for adapter in (QuickBooksAdapter, XeroAdapter):
        monkeypatch.setattr(adapter, "books_closed_through", lambda self: date(2026, 11, 30))
    crm.pay(invoice, Decimal("200.00"), on="2026-11-28")
    sync(client, 2)
    (held,) = PaymentLink.objects.filter(client=client, state=PaymentState.HELD)
    name = BOOKS_NAME[books.system]
    possessive = f"{name}'" if name.endswith("s") else f"{name}'s"
    assert f"inside {possessive} closed period" in held.reason, held.reason


def test_a_payment_write_with_no_known_outcome_is_said_with_its_currency(
    jobber_and_books, monkeypatch
):
    """Every other payment note says "200.00 USD"; the unknown-outcome note says "200.00"."""
    client, books, crm = jobber_and_books
    invoice, _in_books = posted(client, books, crm)
    crm.pay(invoice, Decimal("200.00"))

    def cut(self, payment, request_id):
        raise retries.Transient("answered 502")

    for adapter in (QuickBooksAdapter, XeroAdapter):
        monkeypatch.setattr(adapter, "record_payment", cut)
    run_customer_sync(client, kind=RunKind.SCHEDULED)
    (note,) = said(client, "looks again")
    assert "200.00 USD" in note, note


# -- what held -----------------------------------------------------------------------------
def test_two_equal_payments_in_jobber_and_one_by_hand_in_the_books_end_equal_on_both_sides(
    jobber_and_books,
):
    client, books, crm = jobber_and_books
    invoice, in_books = posted(client, books, crm)
    crm.pay(invoice, Decimal("100.00"))
    crm.pay(invoice, Decimal("100.00"))
    books.pay(in_books["id"], in_books["customer"], Decimal("100.00"))
    sync(client, 3)
    assert sorted(a for a, _ in books.payments_on(in_books["id"])) == [Decimal("100.00")] * 2
    assert [p["amount"] for p in crm.payments(invoice)] == [Decimal("100.00")] * 2


def test_a_quickbooks_payment_on_a_posted_and_a_hand_keyed_invoice_carries_only_its_part(
    jobber_and_quickbooks,
):
    from quickbooks.objects.payment import Payment

    client, books, crm = jobber_and_quickbooks
    invoice, in_books = posted(client, books, crm)
    by_hand = books.key_again(in_books["id"], "HAND-1")
    both = Payment()
    both.CustomerRef, both.TotalAmt = {"value": in_books["customer"]}, Decimal("150.00")
    both.Line = [
        {"Amount": "100.00", "LinkedTxn": [{"TxnId": in_books["id"], "TxnType": "Invoice"}]},
        {"Amount": "50.00", "LinkedTxn": [{"TxnId": by_hand, "TxnType": "Invoice"}]},
    ]
    both.save(qb=books.qb)
    sync(client, 3)
    assert [p["amount"] for p in crm.payments(invoice)] == [Decimal("100.00")]


def test_the_months_audit_agrees_once_payments_were_carried_both_ways(jobber_and_books, capsys):
    """Paid in part in Jobber and in part in the books, each carried to the other: the
    November audit finds nothing wrong with the invoice's money."""
    import json

    from django.core.management import call_command

    client, books, crm = jobber_and_books
    invoice, in_books = posted(client, books, crm)
    full, _ = posted(client, books, crm, number="5002")
    crm.pay(invoice, Decimal("200.00"))
    books.pay(in_books["id"], in_books["customer"], Decimal("100.00"))
    crm.pay(full, Decimal("460.50"))
    sync(client, 3)
    assert sorted(p["amount"] for p in crm.payments(invoice)) == [
        Decimal("100.00"),
        Decimal("200.00"),
    ]
    capsys.readouterr()
    call_command("reconcile", client.slug, "--period", "2026-11", "--json")
    report = json.loads(capsys.readouterr().out)
    money = [
        f for f in report["findings"]
        if f["code"] in ("paid_but_open", "balance_mismatch", "open_but_paid")
    ]  # fmt: skip
    assert money == [], money
