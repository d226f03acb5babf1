"""The generated contractor book (pure): deterministic, consistent, every finding planted."""

from dataclasses import fields, is_dataclass
from decimal import Decimal

import pytest

from sandbox.generator import FINDING_CODES, generate


def walk(value):
    yield value
    if is_dataclass(value):
        for f in fields(value):
            yield from walk(getattr(value, f.name))
    elif isinstance(value, list | tuple):
        for item in value:
            yield from walk(item)


def test_it_is_deterministic_from_the_seed():
    assert generate(40, seed=7) == generate(40, seed=7)
    assert generate(40, seed=7) != generate(40, seed=8)


def test_it_plants_every_finding_type_and_keys_them():
    book = generate(80, seed=3)
    assert sorted({p.code for p in book.answer_key}) == sorted(FINDING_CODES)
    assert all(p.amount > 0 for p in book.answer_key)
    invoice_keys = {i.key for i in book.invoices}
    for planted in book.answer_key:
        assert set(planted.invoice_keys) <= invoice_keys, planted


def test_it_scales_the_planted_set_with_the_size():
    assert len(generate(400, seed=1).answer_key) == 7 * 10


def test_it_makes_clean_books_with_no_planted_findings():
    book = generate(60, seed=2, discrepancies=False)
    assert book.answer_key == []
    deals = {d.key: d for d in book.deals}
    for invoice in book.invoices:
        deal = deals[invoice.deal_key]
        assert invoice.total == deal.amount, "every invoice matches its job"
        balance = book.invoice_balance(invoice.key)
        expected = {"paid": Decimal("0"), "unpaid": invoice.total}.get(deal.payment_status)
        if expected is not None:
            assert balance == expected
        assert (book.today - invoice.txn_date).days <= 90 or balance == 0, "nothing stale"


def test_it_keeps_invoice_totals_equal_to_their_lines():
    book = generate(40, seed=5)
    for invoice in book.invoices:
        assert invoice.total == sum(line.amount for line in invoice.lines)
        assert book.invoice_balance(invoice.key) >= 0


def test_it_uses_no_floats_anywhere():
    assert not any(isinstance(v, float) for v in walk(generate(40, seed=4)))


def test_it_builds_a_hundred_thousand_invoices():
    book = generate(100_000, seed=9)
    assert len(book.invoices) >= 100_000 - 2500  # missing invoices are planted
    assert len(book.answer_key) == 7 * 2500


@pytest.mark.parametrize("size", [7, 8, 10, 39])
def test_it_plants_every_finding_type_in_a_handful_of_invoices(size):
    book = generate(size, seed=size)
    assert sorted(p.code for p in book.answer_key) == sorted(FINDING_CODES)


def test_it_refuses_to_plant_every_type_in_fewer_invoices_than_types():
    with pytest.raises(ValueError, match="at least 7 invoices"):
        generate(6, seed=1)


def test_it_makes_a_clean_book_of_a_single_invoice():
    book = generate(1, seed=1, discrepancies=False)
    assert len(book.invoices) == 1 and book.answer_key == []


def test_it_mixes_homeowners_and_companies():
    kinds = {person.is_company for person in generate(40, seed=6).people}
    assert kinds == {True, False}


def planted(book, code):
    return [p for p in book.answer_key if p.code == code]


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_it_plants_findings_that_the_book_really_shows(seed):
    book = generate(120, seed=seed)
    deals = {d.key: d for d in book.deals}
    invoices = {i.key: i for i in book.invoices}
    by_deal = {i.deal_key: i for i in book.invoices if i.deal_key}

    for p in planted(book, "duplicate_invoice"):
        original, copy = (invoices[k] for k in p.invoice_keys)
        assert original.customer_key == copy.customer_key == p.customer_key
        assert original.total == copy.total == p.amount
        assert copy.doc_number != original.doc_number
    for p in planted(book, "missing_invoice"):
        assert deals[p.deal_key].stage == "closedwon" and p.deal_key not in by_deal
        assert p.amount == deals[p.deal_key].amount
    for p in planted(book, "partial_invoice"):
        [key] = p.invoice_keys
        assert invoices[key].total + p.amount == deals[p.deal_key].amount
    for p in planted(book, "paid_but_open"):
        [key] = p.invoice_keys
        assert deals[p.deal_key].payment_status == "paid"
        assert book.invoice_balance(key) == invoices[key].total == p.amount
    for p in planted(book, "balance_mismatch"):
        [key] = p.invoice_keys
        assert deals[p.deal_key].amount_paid == 0
        assert book.invoice_balance(key) == invoices[key].total - p.amount
    for p in planted(book, "stale_open_invoice"):
        [key] = p.invoice_keys
        assert (book.today - invoices[key].txn_date).days > 90
        assert book.invoice_balance(key) == invoices[key].total == p.amount
    for p in planted(book, "job_revenue_mismatch"):
        memos = [m for m in book.credit_memos if m.deal_key == p.deal_key]
        assert [m.amount for m in memos] == [p.amount]


def test_it_keys_each_job_with_at_most_one_planted_finding():
    deal_keys = [p.deal_key for p in generate(400, seed=8).answer_key]
    assert len(deal_keys) == len(set(deal_keys))


def test_it_invoices_every_won_job_once_in_a_clean_book():
    book = generate(80, seed=4, discrepancies=False)
    won = sorted(d.key for d in book.deals if d.stage == "closedwon")
    assert sorted(i.deal_key for i in book.invoices) == won
    assert all(i.deal_key for i in book.invoices)
    assert book.credit_memos == []
