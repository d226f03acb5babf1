"""The contract every CRM adapter passes, against its emulator over HTTP: the same
scenarios for HubSpot (a sales CRM: won deals become invoices) and Jobber (a field-service
CRM: its own issued invoices are what is posted). Companies and contacts listed, paged,
read by id and followed by a change feed; a billable record (a won deal, an issued
invoice) read with its lines and its money in Decimal; throttling waited out; a refused
access token refreshed once, the rotated refresh token kept; a bad number held, never
raised; and what a billing CRM holds besides (its invoices, jobs, client balances), empty
where the CRM has none. Then the engine on top: a Jobber client's clients become
QuickBooks customers and its issued invoice is posted once, keeping its number."""

import time
from decimal import Decimal

import requests
from django.utils import timezone
from quickbooks.objects.customer import Customer

from connections import retries
from connections.contract import Refusal
from connections.flows import flow_for
from connections.models import Connection, WebhookDelivery
from connections.records import Money
from connections.tokens import RefreshRefused
from sync.customers import run_customer_sync
from sync.models import InvoiceLink, InvoiceState, RunKind, SyncSettings

from ..sandbox.conftest import sandbox_db

pytestmark = sandbox_db

LINES = [("Roof inspection", "2", "185.00"), ("Gutter clean", "1", "90.50")]
TOTAL = Decimal("460.50")


def every(adapter, crm_type: str) -> tuple[list, int]:
    records, cursor, pages = [], None, 0
    while True:
        page = adapter.records(crm_type, cursor)
        records += page.records
        pages += 1
        if not (cursor := page.next_cursor):
            return records, pages


def test_companies_and_contacts_list_page_read_and_change_feed(crm_world, monkeypatch):
    crm, adapter = crm_world.crm, crm_world.adapter
    companies = [crm.company(f"Builder {n}", phone=f"512-555-010{n}") for n in range(3)]
    people = [crm.person("Dana", f"Ruiz{n}", f"dana{n}@example.com") for n in range(2)]
    before = timezone.now()
    time.sleep(1.1)  # the CRMs stamp whole seconds (Jobber) or milliseconds
    crm.rename(companies[1], "Builder One Renamed")

    crm.small_pages(monkeypatch, 2)
    listed, pages = every(adapter, "companies")
    assert pages >= 2
    by_id = {r.external_id: r for r in listed}
    assert set(companies) <= set(by_id)
    assert by_id[companies[1]].properties["name"] == "Builder One Renamed"
    assert by_id[companies[0]].properties["phone"] == "512-555-0100"
    contacts, _ = every(adapter, "contacts")
    found = {r.external_id: r for r in contacts}
    assert set(people) <= set(found)
    assert found[people[1]].properties["email"] == "dana1@example.com"
    assert found[people[1]].properties["lastname"] == "Ruiz1"
    assert found[people[1]].company_ids == ()  # a homeowner: a customer of its own

    (read,) = adapter.read_records("companies", [companies[2]])
    assert read.properties["name"] == "Builder 2"
    assert adapter.companies().records[0].name
    changed = {r.external_id for r in adapter.records_changed_since("companies", before)}
    assert changed == {companies[1]}
    later = timezone.now() + timezone.timedelta(hours=1)
    assert adapter.records_changed_since("companies", later) == []
    assert adapter.record_url("companies", companies[0]).startswith("http")
    assert ("email", "Email") in adapter.record_properties("contacts") or any(
        name == "email" for name, _ in adapter.record_properties("contacts")
    )


def test_a_billable_record_reads_with_its_lines_and_money_in_decimal(crm_world):
    crm, adapter = crm_world.crm, crm_world.adapter
    company = crm.company("Cedar Roofing")
    billed = crm.billable(company, LINES, number="1042")
    (record,) = adapter.read_records("deals", [billed])
    assert record.properties["dealstage"] in adapter.won_stages()
    listed, _ = every(adapter, "deals")
    assert billed in {r.external_id for r in listed}

    (deal,) = adapter.deals([record])
    assert deal.problems == ()
    assert deal.company_ids == (company,)
    assert [(line.name, line.quantity, line.unit_price) for line in deal.lines] == [
        ("Roof inspection", Decimal("2"), Decimal("185.00")),
        ("Gutter clean", Decimal("1"), Decimal("90.50")),
    ]
    assert all(isinstance(line.unit_price, Decimal) for line in deal.lines)
    assert sum(line.quantity * line.unit_price for line in deal.lines) == TOTAL
    assert deal.amount.amount == TOTAL and isinstance(deal.amount.amount, Decimal)
    assert deal.close_date is not None
    if crm.bills_itself:  # the books invoice is made from the CRM's own number
        assert deal.number == "1042" and deal.name == "Invoice #1042"
    # A finding's links open the records (the sandbox's pages stand in for the CRM's).
    for kind, record_id in (("deals", billed), ("companies", company)):
        page = requests.get(adapter.record_url(kind, record_id), timeout=10)
        assert page.status_code == 200, (kind, page.status_code)
    if crm.bills_itself:
        assert "Invoice #1042" in requests.get(adapter.record_url("deals", billed), timeout=10).text


def test_throttling_is_waited_out_for_as_long_as_the_crm_says(crm_world, monkeypatch):
    waits = []

    def wait(state):
        error = state.outcome.exception()
        waits.append(getattr(error, "retry_after", None))
        return min(waits[-1] or 0.01, 0.5)

    monkeypatch.setattr(retries, "_wait", wait)
    crm, adapter = crm_world.crm, crm_world.adapter
    crm.company("Throttled Homes")
    crm.throttle()
    for _ in range(3):
        assert every(adapter, "companies")[0]
    crm.throttle(False)
    assert waits and all(w is not None and 0 < w <= 3600 for w in waits), waits
    if crm.bills_itself:  # the cost Jobber reported is kept for the next call to read
        assert adapter.last_cost["throttleStatus"]["maximumAvailable"] == 10000


def test_a_refused_access_token_is_refreshed_once_and_the_new_refresh_token_kept(
    crm_world, monkeypatch
):
    connection = crm_world.connection
    flow = type(flow_for(connection.system))
    refresh, calls = flow.refresh, []

    def counted(self, token):
        calls.append(token)
        return refresh(self, token)

    monkeypatch.setattr(flow, "refresh", counted)
    crm_world.crm.company("Token Homes")
    old_refresh = Connection.objects.get(pk=connection.pk).refresh_token
    # The CRM no longer takes the access token we hold (it expired early, or was revoked).
    Connection.objects.filter(pk=connection.pk).update(access_token="expired-at-the-provider")
    crm_world.connection.refresh_from_db()
    adapter = crm_world.adapter
    assert every(adapter, "companies")[0]
    assert every(adapter, "companies")[0]
    assert calls == [old_refresh]
    saved = Connection.objects.get(pk=connection.pk)
    assert saved.access_token != "expired-at-the-provider"
    if crm_world.crm.bills_itself:  # rotation: a new refresh token, the used one dead
        assert saved.refresh_token != old_refresh
        try:
            refresh(flow_for(connection.system), old_refresh)
        except RefreshRefused:
            pass
        else:
            raise AssertionError("the used refresh token still works")


def test_a_bad_number_is_held_not_raised(crm_world):
    crm, adapter = crm_world.crm, crm_world.adapter
    company = crm.company("Odd Numbers Roofing")
    bad, good = crm.bad_billable(company), crm.billable(company, LINES)
    deals = {d.external_id: d for d in adapter.deals(adapter.read_records("deals", [bad, good]))}
    assert deals[bad].problems and deals[good].problems == ()
    if crm.bills_itself:
        audited = {i.external_id for i in adapter.crm_invoices()}
        assert good in audited and bad not in audited
        assert [u.external_id for u in adapter.unreadable] == [bad]


def test_invoices_jobs_and_balances_of_a_crm_that_bills(crm_world):
    crm, adapter = crm_world.crm, crm_world.adapter
    capabilities = adapter.crm_capabilities
    company = crm.company("Maple Homes")
    if not crm.bills_itself:
        assert capabilities.source == "deal" and not capabilities.issues_invoices
        assert adapter.crm_invoices() == [] and adapter.jobs() == []
        assert adapter.client_balances() == {}
        return
    assert capabilities.source == "invoice" and capabilities.has_jobs
    assert not capabilities.writes_payment_status
    issued = crm.billable(company, LINES, number="2001")
    draft = crm.billable(company, [("Estimate visit", "1", "75.00")], status="draft", job=False)

    invoices = {i.external_id: i for i in adapter.crm_invoices()}
    assert set(invoices) == {issued, draft}
    one = invoices[issued]
    assert (one.number, one.status, one.customer_id) == ("2001", "awaiting_payment", company)
    assert one.total == Money(TOTAL, "USD") and one.balance == Money(TOTAL, "USD")
    assert isinstance(one.total.amount, Decimal) and not one.paid
    assert [(line.quantity, line.amount) for line in one.lines] == [
        (Decimal("2"), Decimal("370.00")),
        (Decimal("1"), Decimal("90.50")),
    ]
    assert one.issued == "2026-11-20" and one.due == "2026-12-20" and len(one.job_ids) == 1
    assert invoices[draft].status == "draft"
    assert adapter.crm_invoices(timezone.now() + timezone.timedelta(hours=1)) == []

    (job,) = adapter.jobs()
    assert job.external_id == one.job_ids[0] and job.invoice_ids == (issued,)
    assert job.customer_id == company and job.total == Money(TOTAL, "USD")
    # What the client owes: issued invoices only (a draft is owed by nobody).
    assert adapter.client_balances()[company] == Money(TOTAL, "USD")

    # Payment status cannot be written to Jobber: refused in words, nothing sent.
    (result,) = adapter.update_records("deals", {issued: {"syncfirm_payment_status": "paid"}})
    assert not result.ok and result.refusal == Refusal.OTHER and "Jobber" in result.error


def test_payments_on_a_billing_crms_invoices_are_read_and_recorded_once(crm_world):
    """A CRM that records payments on its invoices: read with their kind and Decimal amount,
    and one recorded with syncfirm's reference; more than the balance is refused in words.
    A sales CRM holds none and refuses to record one, without a call."""
    from connections.records import NewPayment

    crm, adapter = crm_world.crm, crm_world.adapter
    company = crm.company("Juniper Decks")
    if not crm.bills_itself:
        assert not adapter.crm_capabilities.records_payments
        assert adapter.crm_payments(["1"]) == []
        refused = adapter.record_crm_payment(NewPayment("1", "", Money(Decimal(1), "USD"), "", "x"))
        assert not refused.ok and "HubSpot" in refused.error
        return
    assert adapter.crm_capabilities.records_payments
    issued = crm.billable(company, LINES, number="2101")
    theirs = crm.pay(issued, Decimal("60.50"))
    crm.refund(issued, Decimal("10.00"))
    ours = NewPayment(issued, "", Money(Decimal("100.00"), "USD"), "2026-11-30", "syncfirm: ref 1")
    written = adapter.record_crm_payment(ours)
    assert written.ok and written.external_id
    found = {p.external_id: p for p in adapter.crm_payments([issued])}
    assert found[theirs].amount == Money(Decimal("60.50"), "USD")
    assert found[theirs].kind == "payment"
    assert isinstance(found[theirs].amount.amount, Decimal)
    assert found[written.external_id].details == "syncfirm: ref 1"
    assert found[written.external_id].paid_on == "2026-11-30"
    assert [p.amount.amount for p in found.values() if p.kind == "refund"] == [Decimal("-10.00")]
    too_much = NewPayment(issued, "", Money(Decimal("1000.00"), "USD"), "2026-11-30", "x")
    refused = adapter.record_crm_payment(too_much)
    assert not refused.ok and refused.refusal == Refusal.INVALID and "balance" in refused.error
    assert len(adapter.crm_payments([issued])) == 3  # nothing written by the refusal


def test_a_jobber_client_posts_its_issued_invoice_to_quickbooks_once_keeping_its_number(
    jobber_and_quickbooks,
):
    client, books, crm = jobber_and_quickbooks
    company = crm.company("Cedar Roofing LLC", email="office@cedar.example", city="Austin")
    crm.person("Dana", "Ruiz", "dana@example.com")
    # Issued before syncfirm started, and in no books: the import decides syncfirm posts
    # (nothing of Jobber's is in the books) and posts it, once, keeping its number.
    earlier = crm.billable(company, LINES, number="3001")
    run = run_customer_sync(client, kind=RunKind.IMPORT, full=True)
    assert run.counts["posting"] == "syncfirm", run.counts
    assert SyncSettings.for_client(client).posting == "syncfirm"
    assert InvoiceLink.objects.get(client=client, deal_id=earlier).state == InvoiceState.CREATED
    names = {c.DisplayName: c for c in Customer.all(qb=books.qb)}
    assert {"Cedar Roofing LLC", "Dana Ruiz"} <= set(names)
    assert names["Cedar Roofing LLC"].BillAddr.City == "Austin"
    assert names["Dana Ruiz"].PrimaryEmailAddr.Address == "dana@example.com"

    # The contractor issues an invoice in Jobber after syncfirm started posting.
    issued = crm.billable(company, LINES, number="3107")
    for _ in range(2):  # a second pull finds it posted and posts nothing more
        run_customer_sync(client, kind=RunKind.SCHEDULED)
    numbers = books.invoice_numbers()
    assert numbers == {"SF-3001": 1, "SF-3107": 1}
    posted = next(i for i in books.invoices() if i["number"] == "SF-3107")
    assert posted["total"] == TOTAL
    assert posted["customer"] == str(names["Cedar Roofing LLC"].Id)
    link = InvoiceLink.objects.get(client=client, deal_id=issued)
    assert link.state == InvoiceState.CREATED and link.doc_number == "SF-3107"
    # The job it bills is in the note, where the books' reports and the audit find it.
    from quickbooks.objects.invoice import Invoice

    note = Invoice.get(posted["id"], qb=books.qb).PrivateNote
    assert f"Jobber invoice {issued}" in note and " · Job #" in note, note


def test_a_jobber_webhook_posts_the_invoice_it_names(jobber_and_quickbooks, sandbox):
    """INVOICE_UPDATE, signed by Jobber and sent at least once, reaches the receiver; the
    invoice it names is read and posted once."""
    client, books, crm = jobber_and_quickbooks
    company = crm.company("Birch Plumbing")
    run_customer_sync(client, kind=RunKind.IMPORT, full=True)
    draft = crm.billable(company, LINES, number="4410", status="draft")
    requests.patch(
        f"{sandbox}/sandbox/control/{crm.control_path}",
        json={"webhook_url": f"{sandbox}/webhooks/jobber/"},
        timeout=10,
    ).raise_for_status()
    requests.patch(
        f"{sandbox}/sandbox/control/{crm.control_path}/invoices/{draft}",
        json={"invoice_status": "awaiting_payment"},
        timeout=10,
    ).raise_for_status()
    deadline = time.monotonic() + 30
    while books.invoice_numbers() != {"SF-4410": 1}:
        assert time.monotonic() < deadline, books.invoice_numbers()
        time.sleep(0.3)
    delivery = WebhookDelivery.objects.filter(system="jobber").first()
    assert delivery is not None and delivery.connection.client == client
    time.sleep(2)  # a repeat delivery, if any, changes nothing
    assert books.invoice_numbers() == {"SF-4410": 1}


def test_books_holding_jobbers_invoices_make_the_client_audited_and_nothing_is_written(
    jobber_and_quickbooks, capsys
):
    """Jobber's own integration already posts: the import sees its invoice in the books and
    makes the client audit only. No customer or invoice is written from then on; the month's
    reconciliation pairs the two sides by number and finds the one it never posted."""
    import json

    from django.core.management import call_command
    from quickbooks.objects.invoice import Invoice
    from quickbooks.objects.item import Item

    client, books, crm = jobber_and_quickbooks
    company = crm.company("Cedar Roofing LLC", email="office@cedar.example")
    crm.billable(company, LINES, number="3001")
    crm.person("Dana", "Ruiz", "dana@example.com")  # in Jobber only: audit creates nobody
    customer = Customer()
    customer.DisplayName, customer.CompanyName = "Cedar Roofing LLC", "Cedar Roofing LLC"
    customer.PrimaryEmailAddr = {"Address": "office@cedar.example"}
    customer = customer.save(qb=books.qb)
    items = {i.Name: i.Id for i in Item.all(qb=books.qb)}
    posted = Invoice()
    posted.CustomerRef, posted.DocNumber = {"value": customer.Id}, "INV-3001"
    posted.Line = [
        {"Amount": str(Decimal(q) * Decimal(p)), "DetailType": "SalesItemLineDetail",
         "Description": name,
         "SalesItemLineDetail": {"ItemRef": {"value": items[name]}, "Qty": q, "UnitPrice": p}}
        for name, q, p in LINES
    ]  # fmt: skip
    posted.save(qb=books.qb)
    people_before = {c.DisplayName for c in Customer.all(qb=books.qb)}

    run = run_customer_sync(client, kind=RunKind.IMPORT, full=True)
    assert run.counts["posting"] == "audit", run.counts
    assert "1 of the 1 invoices Jobber issued are in the books" in run.counts["posting_reason"]
    later = crm.billable(company, LINES, number="3002")
    run_customer_sync(client, kind=RunKind.SCHEDULED)
    assert books.invoice_numbers() == {"INV-3001": 1}  # nothing posted by syncfirm
    assert {c.DisplayName for c in Customer.all(qb=books.qb)} == people_before
    assert not InvoiceLink.objects.filter(client=client).exists()

    capsys.readouterr()
    period = timezone.now().astimezone(client.tzinfo).strftime("%Y-%m")
    call_command("reconcile", client.slug, "--period", period, "--json")
    report = json.loads(capsys.readouterr().out)
    found = [(f["code"], f["deal_id"]) for f in report["findings"]]
    assert found == [("missing_invoice", later)], report["findings"]
    assert "Jobber invoice #3002" in report["findings"][0]["reason"]


def test_a_jobber_invoice_whose_numbers_cannot_be_read_is_left_out_of_the_audit_and_said(
    jobber_and_quickbooks, capsys
):
    import json

    from django.core.management import call_command

    client, _, crm = jobber_and_quickbooks
    company = crm.company("Cedar Roofing LLC")
    run_customer_sync(client, kind=RunKind.IMPORT, full=True)
    SyncSettings.objects.filter(client=client).update(posting="audit")
    bad = crm.bad_billable(company)  # a line past any number the books can hold
    good = crm.billable(company, LINES, number="3010")

    capsys.readouterr()
    period = timezone.now().astimezone(client.tzinfo).strftime("%Y-%m")
    call_command("reconcile", client.slug, "--period", period, "--json")
    report = json.loads(capsys.readouterr().out)
    assert report["status"] == "partial", report
    said = " ".join(report["not_checked"])
    assert bad in said and "(in the CRM)" in said, said
    found = {(f["code"], f["deal_id"]) for f in report["findings"]}
    assert found == {("missing_invoice", good)}, report["findings"]


def test_a_jobber_clients_settings_speak_of_its_invoices_and_who_posts_them(
    jobber_and_quickbooks, client, two_firms
):
    from django.urls import reverse

    books_client = jobber_and_quickbooks[0]
    client.force_login(two_firms.owner_a)
    page = client.get(reverse("client_sync_settings", args=[books_client.slug]))
    text = page.content.decode()
    assert page.status_code == 200
    assert "Who posts Jobber&#x27;s invoices to the books" in text
    assert "is Jobber&#x27;s invoice number" in text
    assert "Which CRM records are customers" not in text and " deal" not in text
    assert "Post Jobber&#x27;s issued invoices to the books" in text
    assert "closed-won" not in text.split("Who posts")[1].split("Invoice number")[0]
    # Whose payments reach the other system, in Jobber's words; saving a rule keeps it.
    assert "Payments between Jobber and the books" in text
    assert "From Jobber to the books" in text
    from ..test_sync_settings_page import form_data

    form = form_data(posting="syncfirm", payment_rule="books", job_reference="note",
                     invoice_number_pattern="SF-{deal_id}", income_account="Services")  # fmt: skip
    saved = client.post(reverse("client_sync_settings", args=[books_client.slug]), form)
    assert saved.status_code == 302, saved.content.decode()[:2000]
    assert SyncSettings.for_client(books_client).payment_rule == "books"
    told = client.get(reverse("client_sync", args=[books_client.slug])).content.decode()
    assert "Payments are from QuickBooks to Jobber only from the next sync" in told
    detail = client.get(reverse("client_detail", args=[books_client.slug])).content.decode()
    assert "payments: carried from QuickBooks to Jobber" in detail
