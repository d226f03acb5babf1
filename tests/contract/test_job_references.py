"""A Jobber client whose invoices syncfirm posts, its books filing each under its job: a
QuickBooks class or sub-customer, a Xero tracking option (`SyncSettings.job_reference`),
found or created once, against the emulators over real HTTP; and the month's audit reading
job revenue from them."""

import json
from datetime import date
from decimal import Decimal

import pytest
import requests
import urllib3

from connections.adapters import accounting_adapter
from reconciliation.models import Finding
from reconciliation.run import reconcile
from sync.customers import run_customer_sync
from sync.models import InvoiceLink, InvoiceState, JobReference, RunKind, SyncSettings

from ..sandbox.conftest import sandbox_db
from .conftest import quick_and_quiet
from .worlds import JobberCrm, XeroBooks

pytestmark = sandbox_db
NOV = date(2026, 11, 1)


@pytest.fixture
def jobber_and_xero(connected, sandbox, two_firms, monkeypatch):
    """Firm A's client running Jobber with Xero books, as `jobber_and_quickbooks`."""
    books, crm = XeroBooks(connected("xero"), sandbox), JobberCrm(connected("jobber"), sandbox)
    quick_and_quiet(sandbox, monkeypatch, books.control_path, crm.control_path)
    client = two_firms.client_a
    SyncSettings.objects.filter(client=client).update(income_account=books.income_account)
    books.add_item("Roof inspection", "RF-INSP")
    return client, books, crm


def filing(client, kind: str) -> None:
    SyncSettings.for_client(client)
    SyncSettings.objects.filter(client=client).update(job_reference=kind)


def posted(client, crm, *lines: tuple[str, str, str]) -> str:
    """Cedar Roofing imported, then one issued Jobber invoice per line (each for a job of
    its own, "Roof job"), posted by the next sync. Returns the client's Jobber id."""
    company = crm.company("Cedar Roofing", zip="78701")
    run_customer_sync(client, kind=RunKind.IMPORT, full=True)
    for line in lines:
        crm.billable(company, [line])
    run_customer_sync(client, kind=RunKind.SCHEDULED)
    return company


def job_names() -> list[str]:
    from sandbox.jobber.models import Job

    return [f"Job #{j.job_number} - {j.title}" for j in Job.objects.using("sandbox").order_by("pk")]


def qbo_rows(books, entity: str) -> list:
    from sandbox.quickbooks.models import Entity

    rows = Entity.objects.using("sandbox").filter(
        company__realm_id=books.connection.external_id, entity_type=entity, deleted=False
    )
    return list(rows.order_by("entity_id"))


def xero_rows(books, kind: str) -> list[dict]:
    from sandbox.xero.models import Record

    rows = Record.objects.using("sandbox").filter(
        organisation__tenant_id=books.connection.external_id, kind=kind
    )
    return [r.data for r in rows.order_by("pk")]


def ignore_request_ids(books) -> None:
    """The books stop recognising a repeated write by its requestid / Idempotency-Key."""
    requests.put(
        f"{books.sandbox}/sandbox/control/faults",
        json={"system": books.system, "account": books.connection.external_id,
              "ignore_requestid": True},
        timeout=10,
    ).raise_for_status()  # fmt: skip


def all_created(client) -> bool:
    links = InvoiceLink.objects.filter(client=client)
    return links.exists() and not links.exclude(state=InvoiceState.CREATED).exists()


def corrected(adapter):
    """The first invoice's lines replaced, then one added, as a correction of its deal
    does: it stays under its job."""
    from sync.invoicing import DraftLine

    invoice = min(adapter.all_invoices(), key=lambda i: i.doc_number)
    line = DraftLine(invoice.lines[0].item_id, "Roof inspection", Decimal(2), Decimal("250.00"),
                     Decimal("500.00"), "Roof inspection")  # fmt: skip
    replaced = adapter.replace_invoice_lines(invoice.external_id, invoice.version, [line])
    assert replaced.job
    return adapter.add_invoice_lines(invoice.external_id, [line])


def class_refs(invoice) -> list[str]:
    return [
        line["SalesItemLineDetail"]["ClassRef"]["name"]
        for line in invoice.data["Line"]
        if line.get("DetailType") == "SalesItemLineDetail"
    ]


def test_it_files_each_invoice_under_its_jobs_class_once(jobber_and_quickbooks):
    client, books, crm = jobber_and_quickbooks
    filing(client, JobReference.CLASS)
    posted(client, crm, ("Roof inspection", "1", "250.00"), ("Gutter clean", "2", "80.00"))

    names = job_names()
    assert all_created(client)
    assert [c.data["Name"] for c in qbo_rows(books, "Class")] == names
    assert [class_refs(i) for i in qbo_rows(books, "Invoice")] == [[n] for n in names]
    adapter = accounting_adapter(books.connection)
    assert sorted(i.job for i in adapter.all_invoices()) == sorted(names)

    run_customer_sync(client, kind=RunKind.SCHEDULED)
    assert len(qbo_rows(books, "Class")) == 2 and len(qbo_rows(books, "Invoice")) == 2
    assert corrected(adapter).job == names[0]


def lose_first_answer(monkeypatch, route: str, body_has: str = "") -> list[int]:
    """QuickBooks answers the first POST to `route` (whose body holds `body_has`), and the
    answer is lost on the way back; returns the lost answers' statuses."""
    real, lost = requests.Session.send, []

    def send(session, request, **kwargs):
        answer = real(session, request, **kwargs)
        body = request.body or b""
        body = body.decode() if isinstance(body, bytes) else body
        if (request.method == "POST" and request.url.split("?")[0].endswith(route)
                and body_has in body and not lost):  # fmt: skip
            lost.append(answer.status_code)
            raise requests.ConnectionError("the answer was lost")
        return answer

    monkeypatch.setattr(requests.Session, "send", send)
    return lost


def test_a_class_whose_answer_was_lost_is_found_not_created_twice(
    jobber_and_quickbooks, monkeypatch
):
    """QuickBooks creates the class but its answer never arrives, and the repeat is not
    recognised by its requestid: the name it then refuses as taken is the class."""
    client, books, crm = jobber_and_quickbooks
    filing(client, JobReference.CLASS)
    ignore_request_ids(books)
    lost = lose_first_answer(monkeypatch, "/class")
    posted(client, crm, ("Roof inspection", "1", "250.00"))

    assert lost == [200]
    assert [c.data["Name"] for c in qbo_rows(books, "Class")] == job_names()
    assert [class_refs(i) for i in qbo_rows(books, "Invoice")] == [job_names()]


def test_a_sub_customer_per_job_keeps_the_customers_balance_and_the_audit_agrees(
    jobber_and_quickbooks,
):
    client, books, crm = jobber_and_quickbooks
    filing(client, JobReference.SUB_CUSTOMER)
    posted(client, crm, ("Roof inspection", "1", "250.00"))
    run_customer_sync(client, kind=RunKind.SCHEDULED)  # again: no second sub-customer

    customers = {c.data["DisplayName"]: c for c in qbo_rows(books, "Customer")}
    (job,) = job_names()
    parent, sub = customers["Cedar Roofing"], customers[job]
    assert sub.data["ParentRef"]["value"] == str(parent.entity_id) and sub.data["Job"] is True
    assert sub.data["FullyQualifiedName"] == f"Cedar Roofing:{job}"
    (invoice,) = qbo_rows(books, "Invoice")
    assert invoice.data["CustomerRef"]["value"] == str(sub.entity_id)
    assert parent.data["BalanceWithJobs"] == Decimal("250.00") and parent.data["Balance"] == 0

    adapter = accounting_adapter(books.connection)
    (read,) = adapter.all_invoices()
    assert (read.customer_id, read.job) == (str(parent.entity_id), job)
    listed = {c.display_name: c.balance.amount for c in adapter.all_customers()}
    assert listed == {"Cedar Roofing": Decimal("250.00")}  # the job is no customer of its own

    recon = reconcile(client, NOV)
    assert (recon.status, recon.not_checked) == ("done", [])
    assert recon.counts["crm_invoices"] == 1
    assert list(Finding.objects.filter(client=client).values_list("code", flat=True)) == []


def test_a_job_revenue_mismatch_is_read_from_the_class_its_invoice_was_moved_to(
    jobber_and_quickbooks,
):
    """The bookkeeper files the first job's invoice under the second job's class: the
    note still names the first job, the class the books report on does not."""
    client, books, crm = jobber_and_quickbooks
    filing(client, JobReference.CLASS)
    posted(client, crm, ("Roof inspection", "1", "250.00"), ("Gutter clean", "2", "80.00"))
    first, second = qbo_rows(books, "Class")
    invoice = qbo_rows(books, "Invoice")[0]
    lines = [
        {**line, "SalesItemLineDetail": {**line["SalesItemLineDetail"],
                                          "ClassRef": {"value": str(second.entity_id)}}}
        for line in invoice.data["Line"] if line.get("DetailType") == "SalesItemLineDetail"
    ]  # fmt: skip
    qb = books.qb
    qb.make_request(
        "POST",
        f"{qb.api_url}/company/{qb.company_id}/invoice",
        json.dumps({"Id": str(invoice.entity_id), "SyncToken": str(invoice.sync_token),
                    "sparse": True, "Line": lines}, default=str),
    )  # fmt: skip

    assert reconcile(client, NOV).status == "done"
    found = Finding.objects.filter(client=client, code="job_revenue_mismatch")
    assert sorted(f.evidence["job_id"] for f in found) == sorted(
        _job_ids(first.data["Name"], second.data["Name"])
    )


def _job_ids(*names: str) -> list[str]:
    from sandbox.jobber.ids import encode_id
    from sandbox.jobber.models import Job

    jobs = {f"Job #{j.job_number} - {j.title}": j for j in Job.objects.using("sandbox").all()}
    return [encode_id("Job", jobs[name].pk) for name in names]


def tracking_options(books) -> dict[str, list[str]]:
    return {
        c["Name"]: [o["Name"] for o in c["Options"]] for c in xero_rows(books, "TrackingCategory")
    }


def test_xero_lines_carry_the_jobs_tracking_option_created_once(jobber_and_xero, monkeypatch):
    """The category is created when the organisation lacks it; the option's create answer
    is lost and its Idempotency-Key not honoured: the option Xero refuses as taken is it."""
    client, books, crm = jobber_and_xero
    filing(client, JobReference.TRACKING)
    SyncSettings.objects.filter(client=client).update(job_tracking_category="Jobs")
    ignore_request_ids(books)
    real, lost = urllib3.PoolManager.urlopen, []

    def urlopen(manager, method, url, *args, **kwargs):
        answer = real(manager, method, url, *args, **kwargs)
        if method == "PUT" and url.split("?")[0].endswith("/Options") and not lost:
            lost.append(answer.status)
            raise urllib3.exceptions.ProtocolError("the answer was lost")
        return answer

    monkeypatch.setattr(urllib3.PoolManager, "urlopen", urlopen)
    posted(client, crm, ("Roof inspection", "1", "250.00"))
    run_customer_sync(client, kind=RunKind.SCHEDULED)

    (job,) = job_names()
    assert lost == [200] and all_created(client)
    assert tracking_options(books) == {"Jobs": [job]}
    (invoice,) = xero_rows(books, "Invoice")
    assert [t["Option"] for line in invoice["LineItems"] for t in line["Tracking"]] == [job]
    adapter = accounting_adapter(books.connection, job_category="Jobs")
    assert [i.job for i in adapter.all_invoices()] == [job]
    assert corrected(adapter).job == job


def test_xero_refuses_tracking_it_does_not_have(jobber_and_xero):
    _, books, _ = jobber_and_xero
    answer = books.api.create_invoices(books.connection.external_id, {"Invoices": [
        {"Type": "ACCREC", "Contact": {"Name": "Cedar Roofing"}, "Status": "AUTHORISED",
         "LineAmountTypes": "NoTax",
         "LineItems": [{"Description": "Roof", "Quantity": "1", "UnitAmount": "10",
                        "Tracking": [{"Name": "Job", "Option": "Job #1"}]}]}
    ]}, summarize_errors=False, _preload_content=False)  # fmt: skip
    (element,) = json.loads(answer.data)["Invoices"]
    assert element["ValidationErrors"] == [
        {"Message": "The TrackingCategory Job does not exist or is not active."}
    ]


def test_payments_reach_an_invoice_filed_under_a_jobs_sub_customer_both_ways(
    jobber_and_quickbooks,
):
    """A payment's customer must be its invoice's: the job's sub-customer, not its parent."""
    from sync.models import InvoiceLink, PaymentLink, PaymentState

    client, books, crm = jobber_and_quickbooks
    filing(client, JobReference.SUB_CUSTOMER)
    posted(client, crm, ("Roof inspection", "1", "250.00"))
    (link,) = InvoiceLink.objects.filter(client=client)
    crm.pay(link.deal_id, Decimal("100.00"))
    sub = next(c for c in qbo_rows(books, "Customer") if c.data.get("Job"))
    books.pay(link.accounting_id, str(sub.entity_id), Decimal("50.00"))
    for _ in range(2):
        run_customer_sync(client, kind=RunKind.SCHEDULED)
    assert sorted(a for a, _ in books.payments_on(link.accounting_id)) == [
        Decimal("50.00"),
        Decimal("100.00"),
    ]
    assert sorted(p["amount"] for p in crm.payments(link.deal_id)) == [
        Decimal("50.00"),
        Decimal("100.00"),
    ]
    states = set(PaymentLink.objects.filter(client=client).values_list("state", flat=True))
    assert states == {PaymentState.CREATED}
