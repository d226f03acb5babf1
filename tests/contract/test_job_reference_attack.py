"""Attacks on filing posted Jobber invoices under their job (decision 0036, "Jobs filed
where the books report on them"): each test says what a user would notice when it fails."""

import json

import pytest
from django.utils import timezone

from reconciliation.models import Finding
from reconciliation.run import reconcile
from sync.customers import run_customer_sync
from sync.models import Alert, InvoiceLink, JobReference, RunKind

from ..sandbox.conftest import sandbox_db
from .test_job_references import (  # noqa: F401 - fixtures
    NOV,
    all_created,
    class_refs,
    filing,
    job_names,
    jobber_and_xero,
    posted,
    qbo_rows,
    tracking_options,
    xero_rows,
)

pytestmark = sandbox_db


# -- helpers --------------------------------------------------------------------------
def first_job():
    from sandbox.jobber.models import Job

    return Job.objects.using("sandbox").order_by("pk").first()


def another_invoice_on(crm, company: str, job, line=("Gutter clean", "1", "80.00")) -> str:
    """A second issued Jobber invoice billing the same job (a follow-up visit)."""
    from sandbox.jobber.ids import decode_id
    from sandbox.jobber.models import Invoice

    invoice_id = crm.billable(company, [line], job=False)
    row = Invoice.objects.using("sandbox").get(pk=decode_id(invoice_id)[1])
    row.jobs.add(job)
    Invoice.objects.using("sandbox").filter(pk=row.pk).update(updated_at=timezone.now())
    return invoice_id


def retitle(job, title: str) -> None:
    from sandbox.jobber.models import Job

    Job.objects.using("sandbox").filter(pk=job.pk).update(title=title, updated_at=timezone.now())


def qbo_update(books, entity: str, row, **changes) -> None:
    qb = books.qb
    qb.make_request(
        "POST",
        f"{qb.api_url}/company/{qb.company_id}/{entity.lower()}",
        json.dumps({"Id": str(row.entity_id), "SyncToken": str(row.sync_token),
                    "sparse": True, **changes}, default=str),
    )  # fmt: skip


def qbo_create(books, entity: str, body: dict) -> dict:
    qb = books.qb
    return qb.make_request(
        "POST", f"{qb.api_url}/company/{qb.company_id}/{entity.lower()}", json.dumps(body)
    )


def states(client) -> list[tuple[str, str]]:
    return list(
        InvoiceLink.objects.filter(client=client).order_by("pk").values_list("state", "reason")
    )


# -- 1. one job, one class / sub-customer / option, whatever Jobber's title does -------
@pytest.mark.parametrize("kind", [JobReference.CLASS, JobReference.SUB_CUSTOMER])
def test_a_job_retitled_in_jobber_stays_filed_under_its_one_quickbooks_entry(
    jobber_and_quickbooks, kind
):
    """The contractor renames job #1 in Jobber ("Roof job" → "Roof job - phase 2") before
    its follow-up invoice: QuickBooks' job report must still show ONE job #1, not two."""
    client, books, crm = jobber_and_quickbooks
    filing(client, kind)
    company = posted(client, crm, ("Roof inspection", "1", "250.00"))
    job = first_job()
    retitle(job, "Roof job - phase 2")
    another_invoice_on(crm, company, job)
    run_customer_sync(client, kind=RunKind.SCHEDULED)

    assert all_created(client), states(client)
    if kind == JobReference.CLASS:
        filed = {n for i in qbo_rows(books, "Invoice") for n in class_refs(i)}
        entries = [c.data["Name"] for c in qbo_rows(books, "Class")]
    else:
        filed = {i.data["CustomerRef"]["value"] for i in qbo_rows(books, "Invoice")}
        entries = [c.data["DisplayName"] for c in qbo_rows(books, "Customer") if c.data["Job"]]
    assert len(entries) == 1, f"job #{job.job_number} is now {entries}"
    assert len(filed) == 1


def test_a_job_retitled_in_jobber_stays_under_its_one_xero_option(jobber_and_xero):  # noqa: F811 - the fixture
    client, books, crm = jobber_and_xero
    filing(client, JobReference.TRACKING)
    company = posted(client, crm, ("Roof inspection", "1", "250.00"))
    job = first_job()
    retitle(job, "Roof job - phase 2")
    another_invoice_on(crm, company, job, ("Roof inspection", "1", "90.00"))
    run_customer_sync(client, kind=RunKind.SCHEDULED)

    assert all_created(client), states(client)
    (options,) = tracking_options(books).values()
    assert len(options) == 1, f"job #{job.job_number} is now {options}"


# -- 2. an entry the bookkeeper retires: the job's next invoice -------------------------
def test_a_job_class_made_inactive_does_not_hold_the_jobs_next_invoice(jobber_and_quickbooks):
    """The bookkeeper makes job #1's class inactive (QuickBooks' "delete"); Jobber then
    issues a follow-up invoice on job #1. It must reach the books (under an active class),
    not be held with QuickBooks' refusal."""
    client, books, crm = jobber_and_quickbooks
    filing(client, JobReference.CLASS)
    company = posted(client, crm, ("Roof inspection", "1", "250.00"))
    (cls,) = qbo_rows(books, "Class")
    qbo_update(books, "Class", cls, Active=False, Name=cls.data["Name"])
    another_invoice_on(crm, company, first_job())
    run_customer_sync(client, kind=RunKind.SCHEDULED)

    assert all_created(client), states(client)
    assert len(qbo_rows(books, "Invoice")) == 2


def test_an_archived_job_option_does_not_hold_the_jobs_next_xero_invoice(jobber_and_xero):  # noqa: F811 - the fixture
    """The bookkeeper archives job #1's tracking option when the job is done; a follow-up
    invoice on job #1 must still reach the books."""
    from sandbox.xero.models import Record

    client, books, crm = jobber_and_xero
    filing(client, JobReference.TRACKING)
    company = posted(client, crm, ("Roof inspection", "1", "250.00"))
    row = Record.objects.using("sandbox").get(
        organisation__tenant_id=books.connection.external_id, kind="TrackingCategory"
    )
    row.data = {**row.data, "Options": [{**o, "Status": "ARCHIVED"} for o in row.data["Options"]]}
    row.save()
    another_invoice_on(crm, company, first_job(), ("Roof inspection", "1", "90.00"))
    run_customer_sync(client, kind=RunKind.SCHEDULED)

    assert all_created(client), states(client)
    assert len(xero_rows(books, "Invoice")) == 2


# -- 3. the audit reading a bookkeeper's own class as a job ------------------------------
def test_a_job_costing_class_is_no_job_and_the_note_still_says_which(jobber_and_quickbooks):
    """Notes-only filing; the bookkeeper puts the invoice's lines in their "Job Costing"
    class. That class names no job: the audit must still read job #N from the note, so no
    job_revenue_mismatch."""
    client, books, crm = jobber_and_quickbooks
    filing(client, JobReference.NOTE)
    posted(client, crm, ("Roof inspection", "1", "250.00"))
    made = qbo_create(books, "Class", {"Name": "Job Costing"})["Class"]
    (invoice,) = qbo_rows(books, "Invoice")
    lines = [
        {**line, "SalesItemLineDetail": {**line["SalesItemLineDetail"],
                                          "ClassRef": {"value": str(made["Id"])}}}
        for line in invoice.data["Line"] if line.get("DetailType") == "SalesItemLineDetail"
    ]  # fmt: skip
    qbo_update(books, "Invoice", invoice, Line=lines)

    assert reconcile(client, NOV).status == "done"
    found = Finding.objects.filter(client=client, code="job_revenue_mismatch")
    assert [f.reason for f in found] == []


# -- 4. money on a job sub-customer's account ---------------------------------------------
@pytest.mark.parametrize("kind", [JobReference.NOTE, JobReference.SUB_CUSTOMER])
def test_money_left_unapplied_on_the_jobs_customer_is_found(jobber_and_quickbooks, kind):
    """The customer pays $250; the bookkeeper records it on the invoice's customer in
    QuickBooks without applying it. The invoice reads open in both systems while the money
    sits on account: the audit names it (paid_but_open) whether the invoice's customer is
    the client's customer (note) or its job's sub-customer."""
    client, books, crm = jobber_and_quickbooks
    filing(client, kind)
    posted(client, crm, ("Roof inspection", "1", "250.00"))
    (invoice,) = qbo_rows(books, "Invoice")
    customer = invoice.data["CustomerRef"]["value"]
    qbo_create(books, "Payment", {"CustomerRef": {"value": customer}, "TotalAmt": "250.00",
                                  "TxnDate": "2026-11-25", "Line": []})  # fmt: skip

    assert reconcile(client, NOV).status == "done"
    codes = list(Finding.objects.filter(client=client).values_list("code", flat=True))
    assert "paid_but_open" in codes, codes


# -- 5. the readback after posting ---------------------------------------------------------
def test_a_job_class_filed_under_a_parent_class_raises_no_false_alert(jobber_and_quickbooks):
    """The bookkeeper tidies the job classes under a "Jobs" class (QuickBooks then names a
    ref "Jobs:Job #1 - Roof job"). A follow-up invoice on the job is filed under it as it
    should be: no alert "created but does not match the deal" may reach the firm."""
    client, books, crm = jobber_and_quickbooks
    filing(client, JobReference.CLASS)
    company = posted(client, crm, ("Roof inspection", "1", "250.00"))
    parent = qbo_create(books, "Class", {"Name": "Jobs"})["Class"]
    (cls,) = [c for c in qbo_rows(books, "Class") if c.data["Name"] != "Jobs"]
    qbo_update(books, "Class", cls, ParentRef={"value": str(parent["Id"])},
               Name=cls.data["Name"])  # fmt: skip
    another_invoice_on(crm, company, first_job())
    run_customer_sync(client, kind=RunKind.SCHEDULED)

    assert all_created(client), states(client)
    assert list(Alert.objects.filter(client=client).values_list("message", flat=True)) == []


def test_tracking_left_from_xero_on_quickbooks_books_raises_no_alert_per_invoice(
    jobber_and_quickbooks,
):
    """The client moved from Xero to QuickBooks; the setting still says "tracking" (the
    page shows it as one QuickBooks cannot). Posting must not alert the firm that each new
    invoice "does not match the deal"."""
    client, _, crm = jobber_and_quickbooks
    filing(client, JobReference.TRACKING)
    posted(client, crm, ("Roof inspection", "1", "250.00"), ("Gutter clean", "2", "80.00"))

    assert all_created(client), states(client)
    assert list(Alert.objects.filter(client=client).values_list("message", flat=True)) == []


# -- 6. Xero's two active tracking categories -------------------------------------------
def test_xero_with_two_categories_of_its_own_says_how_to_let_the_invoices_through(
    jobber_and_xero,  # noqa: F811 - the fixture
):
    """The organisation already tracks by Region and Department (Xero's limit of two active
    categories); the client picks "tracking". The client's choice cannot be honoured, so
    each invoice waits, saying how to let it through (decision 0036): never filed silently
    some other way."""
    from sync.models import InvoiceLink

    client, books, crm = jobber_and_xero
    for name in ("Region", "Department"):
        books.api.create_tracking_category(books.connection.external_id, {"Name": name})
    filing(client, JobReference.TRACKING)
    posted(client, crm, ("Roof inspection", "1", "250.00"))

    (link,) = InvoiceLink.objects.filter(client=client)
    assert link.state == "held", states(client)
    assert (
        "its active categories: Region, Department. Pick one of them for the jobs in the "
        "sync settings, archive one in Xero, or file jobs in the note" in link.reason
    )


# -- 7. a lost answer creating the job's sub-customer -------------------------------------
def test_a_sub_customer_whose_answer_was_lost_is_found_not_created_twice(
    jobber_and_quickbooks, monkeypatch
):
    """As the class: QuickBooks creates the sub-customer, its answer is lost, the repeat's
    requestid is not recognised. One sub-customer, the invoice on it, nothing held."""

    from .test_job_references import ignore_request_ids, lose_first_answer

    client, books, crm = jobber_and_quickbooks
    filing(client, JobReference.SUB_CUSTOMER)
    ignore_request_ids(books)
    lost = lose_first_answer(monkeypatch, "/customer", '"ParentRef"')
    posted(client, crm, ("Roof inspection", "1", "250.00"))

    assert lost == [200]
    assert all_created(client), states(client)
    subs = [c for c in qbo_rows(books, "Customer") if c.data["Job"]]
    assert [c.data["DisplayName"] for c in subs] == job_names()
    (invoice,) = qbo_rows(books, "Invoice")
    assert invoice.data["CustomerRef"]["value"] == str(subs[0].entity_id)
