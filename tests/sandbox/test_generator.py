"""The generated contractor book (pure): deterministic, consistent, every finding planted."""

from dataclasses import fields, is_dataclass
from decimal import Decimal

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
