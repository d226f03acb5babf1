"""A posted invoice's job, as the draft carries it to the books and the audit reads it back:
pure functions, no HTTP, no database."""

from datetime import UTC, datetime
from decimal import Decimal

from connections import job_filing
from connections.job_filing import JobFiling, job_name
from connections.records import (
    CRM_JOB_TITLES_PROPERTY,
    CRM_JOBS_PROPERTY,
    CreditMemo,
    Deal,
    DealLine,
    Invoice,
    Item,
    Money,
)
from reconciliation.audit_run import job_of
from sync import invoicing
from sync.models import JobReference

D = Decimal


def test_the_kinds_the_adapters_know_are_the_settings_choices():
    kinds = (job_filing.NOTE, job_filing.CLASS, job_filing.SUB_CUSTOMER, job_filing.TRACKING)
    assert kinds == tuple(JobReference.values)


def test_a_jobs_name_keeps_its_number_and_cuts_its_title_to_fit():
    assert job_name("57", "Kitchen remodel", 100) == "Job #57 - Kitchen remodel"
    assert job_name("57", "", 100) == "Job #57"
    assert job_name("57", "Roof: east\nside", 100) == "Job #57 - Roof east side"
    cut = job_name("57", "x" * 200, 30)
    assert cut == "Job #57 - " + "x" * 20 and len(cut) == 30


def deal(numbers: str, titles: str) -> Deal:
    return Deal(
        "Z2lk", "Invoice #1042", "awaiting_payment", amount=Money(D("250.00"), "USD"),
        currency="USD", close_date=datetime(2026, 11, 20, tzinfo=UTC),
        lines=(DealLine("l1", "Roof inspection", quantity=D(1), unit_price=D("250.00")),),
        number="1042",
        properties={CRM_JOBS_PROPERTY: numbers, CRM_JOB_TITLES_PROPERTY: titles},
    )  # fmt: skip


def draft(numbers: str, titles: str, kind: str):
    return invoicing.build_invoice(
        deal(numbers, titles), customer_id="7",
        items={"name:roof inspection": Item("3", "Roof inspection")}, company_currency="USD",
        timezone="UTC", terms_days=30, pattern="SF-{deal_id}",
        books=invoicing.Books("the books", 21, "Jobber", "invoice"), job_reference=kind,
        job_category="Jobs",
    )  # fmt: skip


def test_the_draft_carries_its_one_job_and_how_the_books_file_it():
    made = draft("57", "Kitchen remodel", JobReference.TRACKING)
    assert made.job == JobFiling("tracking", "57", "Kitchen remodel", "Jobs")
    assert made.private_note.endswith(" · Job #57")


def test_the_note_alone_files_a_job_kept_in_the_note_or_an_invoice_of_two_jobs():
    assert draft("57", "Kitchen remodel", JobReference.NOTE).job is None
    two = draft("57,58", "Kitchen\nBath", JobReference.CLASS)
    assert two.job is None and two.private_note.endswith(" · Job #57 · Job #58")


def test_a_read_back_not_filed_under_the_job_is_a_problem():
    made = draft("57", "Kitchen remodel", JobReference.CLASS)
    filed = Invoice("9", "SF-1042", "7", Money(D("250.00"), "USD"), Money(D("250.00"), "USD"),
                    lines=made_lines(made), job="Job #57 - Kitchen remodel")  # fmt: skip
    assert invoicing.readback_problems(made, filed) == []
    elsewhere = Invoice("9", "SF-1042", "7", filed.total, filed.balance,
                        lines=filed.lines, job="Job #570")  # fmt: skip
    assert invoicing.readback_problems(made, elsewhere) == ["not filed under job #57 in the books"]


def made_lines(made):
    from connections.records import InvoiceLine

    return tuple(InvoiceLine(x.item_id, x.quantity, x.unit_price, x.amount) for x in made.lines)


def test_the_audit_reads_the_books_job_reference_before_the_note():
    usd = Money(D("1.00"), "USD")
    by_class = Invoice("1", "", "7", usd, usd, private_note="Jobber invoice Z · Job #57",
                       job="Jobs:Job #58 - Bath")  # fmt: skip
    assert job_of(by_class) == "58"
    department = Invoice("2", "", "7", usd, usd, private_note="Job #57", job="Residential")
    assert job_of(department) == "57"
    assert job_of(CreditMemo("3", "7", "2026-11-26", D(1), job="Job #59")) == "59"
