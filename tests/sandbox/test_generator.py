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


def test_it_spells_people_the_same_in_both_systems_unless_asked():
    book = generate(300, seed=2)
    assert all(p.crm_name == "" and p.crm_email is None for p in book.people)
    assert all((p.name_in_crm, p.email_in_crm) == (p.name, p.email) for p in book.people)


def test_it_spells_a_seeded_third_of_the_people_differently_in_the_crm():
    book = generate(3000, seed=5, spelling_variants=True)
    respelled = [p for p in book.people if p.crm_name]
    assert 0.25 < len(respelled) / len(book.people) < 0.35
    assert all(p.name_in_crm != p.name for p in respelled)
    assert generate(3000, seed=5, spelling_variants=True) == book
    emails = {p.email_in_crm for p in respelled} - {p.email for p in respelled}
    assert "" in emails and any(e and e == e.upper() for e in emails)


def test_it_leaves_the_rest_of_the_book_as_it_was_when_respelling():
    plain, respelled = generate(600, seed=4), generate(600, seed=4, spelling_variants=True)
    assert (plain.deals, plain.invoices, plain.payments, plain.answer_key) == (
        respelled.deals,
        respelled.invoices,
        respelled.payments,
        respelled.answer_key,
    )
    assert [p.key for p in plain.people] == [p.key for p in respelled.people]


def one_edit_apart(a: str, b: str) -> bool:
    """A letter dropped, added, replaced, or two neighbours swapped."""
    if len(a) < len(b):
        a, b = b, a
    if len(a) == len(b) + 1:
        return any(a[:i] + a[i + 1 :] == b for i in range(len(a)))
    diff = [i for i in range(len(a)) if a[i] != b[i]] if len(a) == len(b) else []
    if len(diff) == 1:
        return True
    i, j = diff if len(diff) == 2 else (0, 0)
    return j == i + 1 and (a[i], a[j]) == (b[j], b[i])


def test_it_respells_as_people_type_case_legal_suffix_or_a_one_letter_typo():
    kinds = set()
    for p in generate(3000, seed=6, spelling_variants=True).people:
        crm = p.name_in_crm
        if crm == p.name:
            continue
        if crm.casefold() == p.name.casefold():
            kinds.add("case")
        elif any(crm == p.name + s or p.name == crm + s for s in (" LLC", " Inc.", " Co", " Ltd")):
            assert p.is_company, "homeowners have no legal suffix"
            kinds.add("suffix")
        else:
            assert one_edit_apart(crm, p.name), (p.name, crm)
            assert crm.split()[-1] == p.name.split()[-1], "the number is never mistyped"
            kinds.add("typo")
    assert kinds == {"case", "suffix", "typo"}
