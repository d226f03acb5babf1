"""Xero tracking categories through xero-python: created, listed with their options, names
unique, two active at most, and a line's Tracking checked against them (two at most)."""

from datetime import date

import pytest
from xero_python.accounting import (
    Contact,
    Invoice,
    Invoices,
    LineItem,
    LineItemTracking,
    TrackingCategory,
    TrackingOption,
)
from xero_python.exceptions import AccountingBadRequestException

from tests.sandbox.conftest import sandbox_db

pytestmark = sandbox_db


def category(xero, name: str) -> TrackingCategory:
    made = xero.create_tracking_category(xero.tenant, TrackingCategory(name=name))
    return made.tracking_categories[0]


def option(xero, category_id, name: str) -> TrackingOption:
    return xero.create_tracking_options(
        xero.tenant, category_id, TrackingOption(name=name)
    ).options[0]


def tracked(xero, *tracking: LineItemTracking) -> Invoice:
    line = LineItem(description="Roof repair", quantity=1, unit_amount="100.00",
                    tax_type="NONE", tracking=list(tracking))  # fmt: skip
    invoice = Invoice(type="ACCREC", contact=Contact(name="Ann Lee"), date=date(2026, 11, 2),
                      status="AUTHORISED", line_items=[line])  # fmt: skip
    return xero.create_invoices(xero.tenant, Invoices(invoices=[invoice])).invoices[0]


def test_it_lists_categories_with_their_options(xero):
    jobs = category(xero, "Job")
    made = option(xero, jobs.tracking_category_id, "Job #57 - Kitchen remodel")
    (listed,) = xero.get_tracking_categories(xero.tenant).tracking_categories
    assert (listed.name, listed.status) == ("Job", "ACTIVE")
    assert [(o.name, o.tracking_option_id) for o in listed.options] == [
        ("Job #57 - Kitchen remodel", made.tracking_option_id)
    ]


def test_it_refuses_a_name_taken_and_a_third_active_category(xero):
    jobs = category(xero, "Job")
    option(xero, jobs.tracking_category_id, "Job #57")
    with pytest.raises(AccountingBadRequestException):
        option(xero, jobs.tracking_category_id, "job #57")
    with pytest.raises(AccountingBadRequestException):
        category(xero, "JOB")
    category(xero, "Region")
    with pytest.raises(AccountingBadRequestException) as refused:
        category(xero, "Department")
    assert "2 active tracking categories" in refused.value.reason


def test_a_line_keeps_its_tracking_by_name_with_ids(xero):
    jobs = category(xero, "Job")
    made = option(xero, jobs.tracking_category_id, "Job #57")
    invoice = tracked(xero, LineItemTracking(name="job", option="Job #57"))
    (kept,) = invoice.line_items[0].tracking
    assert (kept.name, kept.option, kept.tracking_option_id) == (
        "Job", "Job #57", made.tracking_option_id,
    )  # fmt: skip


def test_a_line_naming_no_option_or_three_categories_is_refused(xero):
    jobs = category(xero, "Job")
    option(xero, jobs.tracking_category_id, "Job #57")
    with pytest.raises(AccountingBadRequestException):
        tracked(xero, LineItemTracking(name="Job", option="Job #58"))
    three = [LineItemTracking(name="Job", option="Job #57")] * 3
    with pytest.raises(AccountingBadRequestException):
        tracked(xero, *three)
