"""Attacks on the sandbox page's "key it again by hand" (sandbox/control_page.py)."""

from decimal import Decimal

import requests
from django.test import Client
from django.urls import reverse
from quickbooks.objects.detailline import DiscountLine, DiscountLineDetail
from quickbooks.objects.invoice import Invoice

from tests.sandbox.conftest import sandbox_db

from .conftest import customer, invoice, service_item

pytestmark = sandbox_db


def _key_again(qbo, invoice_id) -> str:
    return (
        Client()
        .post(
            reverse("sandbox_controls_quickbooks_key_again", args=[qbo.realm["realm_id"]]),
            {"invoice": invoice_id},
            follow=True,
        )
        .content.decode()
    )


def test_a_21_character_number_keyed_again_gets_its_own_number(qbo, sandbox_url):
    """BREAK. The copy's number is `f"{DocNumber}-H"[:21]`: a number already at QuickBooks'
    21 characters loses the "-H" and the copy takes the original's own number (custom
    transaction numbers on: QuickBooks accepts the repeat without a word).

    GIVEN a company with custom transaction numbers and an invoice numbered with 21
          characters
    WHEN it is keyed again by hand from the sandbox page
    THEN the copy has its own number, as the page's docstring says ("its own number"); on
         main it has exactly the original's number.
    """
    requests.patch(
        f"{sandbox_url}/control/quickbooks/companies/{qbo.realm['realm_id']}",
        json={"custom_txn_numbers": True},
        timeout=10,
    ).raise_for_status()
    doc = "SF-2026-000000000001"  # 20 characters
    doc += "7"  # 21: QuickBooks' longest
    original = invoice(qbo, customer(qbo), service_item(qbo), doc=doc)

    _key_again(qbo, original.Id)

    copy = next(i for i in Invoice.all(qb=qbo) if i.Id != original.Id)
    assert copy.DocNumber != original.DocNumber, copy.DocNumber


def test_an_invoice_with_a_discount_keyed_again_has_the_same_total(qbo):
    """BREAK. `_typed_again` keeps only SalesItemLineDetail lines: a discount line is dropped,
    so the "same lines" copy is dearer than the original (and the app's duplicate check,
    which compares totals, may not see it as the duplicate the demo wants to show).

    GIVEN an invoice of 450.00 with a 50.00 discount line (total 400.00)
    WHEN it is keyed again by hand from the sandbox page
    THEN the copy's total is the original's 400.00; on main it is 450.00.
    """
    ann = customer(qbo)
    item = service_item(qbo)
    original = invoice(qbo, ann, item, qty="3")
    discount = DiscountLine()
    discount.Amount = Decimal("50.00")
    discount.DiscountLineDetail = DiscountLineDetail()
    discount.DiscountLineDetail.PercentBased = False
    original.Line.append(discount)
    original = original.save(qb=qbo)
    assert Decimal(original.TotalAmt) == Decimal("400.00"), original.TotalAmt

    _key_again(qbo, original.Id)

    copy = next(i for i in Invoice.all(qb=qbo) if i.Id != original.Id)
    assert Decimal(copy.TotalAmt) == Decimal(original.TotalAmt), copy.TotalAmt


def test_a_non_number_or_deleted_or_foreign_invoice_is_refused_in_words(qbo, make_company):
    """Held: a non-number, a deleted invoice, another company's invoice: refused in words,
    nothing made."""
    other = make_company("Other Books", rate_limits=False)
    original = invoice(qbo, customer(qbo), service_item(qbo))
    assert "QuickBooks refused the copy" in _key_again(qbo, "abc")
    foreign = Client().post(
        reverse("sandbox_controls_quickbooks_key_again", args=[other["realm_id"]]),
        {"invoice": original.Id},
        follow=True,
    )
    assert "QuickBooks refused the copy" in foreign.content.decode()
    original.delete(qb=qbo)
    assert "QuickBooks refused the copy" in _key_again(qbo, original.Id)
    assert Invoice.all(qb=qbo) == []


def test_the_page_refuses_a_post_without_its_csrf_token(qbo):
    """Held: the page's forms are CSRF-protected (unlike the control API)."""
    original = invoice(qbo, customer(qbo), service_item(qbo))
    answer = Client(enforce_csrf_checks=True).post(
        reverse("sandbox_controls_quickbooks_key_again", args=[qbo.realm["realm_id"]]),
        {"invoice": original.Id},
    )
    assert answer.status_code == 403
    assert len(Invoice.all(qb=qbo)) == 1
