"""Where the books file a posted invoice's job, on the client's sync settings page: offered
for a CRM that bills its own jobs, only as the connected books can do it, refused in words
otherwise, and changed in the settings audit log."""

import re

import pytest
import requests
from django.urls import reverse

from clients.models import AuditEntry
from sync.models import SyncSettings

from .sandbox.conftest import sandbox_db
from .test_sync_settings_page import form_data

pytestmark = sandbox_db


@pytest.fixture
def jobber_with(connected, sandbox, two_firms):
    """Firm A's client running Jobber, with the books it is given connected."""

    def connect(books: str):
        made = [connected(books), connected("jobber")]
        paths = {"quickbooks": "quickbooks/companies", "xero": "xero/organisations"}
        requests.patch(
            f"{sandbox}/sandbox/control/{paths[books]}/{made[0].external_id}",
            json={"rate_limits": False, "webhook_url": ""},
            timeout=10,
        ).raise_for_status()
        return two_firms.client_a

    return connect


def page_of(client, two_firms):
    client.force_login(two_firms.owner_a)
    return client.get(url(two_firms)).content.decode()


def url(two_firms) -> str:
    return reverse("client_sync_settings", args=[two_firms.client_a.slug])


def offered(page: str) -> list[str]:
    select = re.search(r'<select name="job_reference".*?</select>', page, re.S)
    return re.findall(r'<option value="([^"]+)"', select.group(0)) if select else []


def jobber_form(**overrides) -> dict:
    income = "Sales" if "job_tracking_category" in overrides else "Services"  # Xero's, QBO's
    return form_data(posting="syncfirm", payment_rule="both", invoice_number_pattern="SF-{deal_id}",
                     income_account=income, **overrides)  # fmt: skip


def test_quickbooks_books_offer_a_class_or_sub_customer_and_the_change_is_logged(
    client, two_firms, jobber_with
):
    jobber_with("quickbooks")
    page = page_of(client, two_firms)
    assert offered(page) == ["note", "class", "sub_customer"]
    assert 'name="job_tracking_category"' not in page
    assert "Invoices already posted are not filed again." in page

    saved = client.post(url(two_firms), jobber_form(job_reference="class"))
    assert saved.status_code == 302
    assert SyncSettings.for_client(two_firms.client_a).job_reference == "class"
    entry = AuditEntry.objects.get(action="sync.settings_changed")
    assert (entry.before["job_reference"], entry.after["job_reference"]) == ("note", "class")


def test_xero_books_offer_a_tracking_category_and_refuse_a_class_in_words(
    client, two_firms, jobber_with
):
    jobber_with("xero")
    page = page_of(client, two_firms)
    assert offered(page) == ["note", "tracking"]
    assert 'name="job_tracking_category"' in page

    refused = client.post(
        url(two_firms), jobber_form(job_reference="class", job_tracking_category="Job")
    )
    said = re.findall(r'<div role="alert"[^>]*>(.*?)</div>', refused.content.decode(), re.S)
    assert len(said) == 1 and "Xero cannot file jobs that way; pick one of:" in said[0]
    assert SyncSettings.for_client(two_firms.client_a).job_reference == "note"

    saved = client.post(
        url(two_firms), jobber_form(job_reference="tracking", job_tracking_category=" Jobs ")
    )
    assert saved.status_code == 302
    settings = SyncSettings.for_client(two_firms.client_a)
    assert (settings.job_reference, settings.job_tracking_category) == ("tracking", "Jobs")
    entry = AuditEntry.objects.get(action="sync.settings_changed")
    assert entry.after["job_tracking_category"] == "Jobs"


def test_a_setting_the_books_cannot_do_is_shown_and_must_be_replaced(
    client, two_firms, jobber_with
):
    """The client kept jobs as QuickBooks classes, then moved to Xero."""
    jobber_with("xero")
    SyncSettings.for_client(two_firms.client_a)
    SyncSettings.objects.filter(client=two_firms.client_a).update(job_reference="class")
    assert offered(page_of(client, two_firms)) == ["note", "tracking", "class"]
    kept = client.post(
        url(two_firms), jobber_form(job_reference="class", job_tracking_category="Job")
    )
    assert "Xero cannot file jobs that way" in kept.content.decode()


def test_a_sales_crm_has_no_jobs_to_file(client, two_firms, systems):
    assert offered(page_of(client, two_firms)) == []


def test_a_third_tracking_category_in_xero_is_refused_on_the_page_naming_the_two(
    client, two_firms, jobber_with, sandbox
):
    """The organisation already tracks by Region and Department, Xero's limit of two active
    categories: naming a new category for the jobs would hold every invoice, so the page
    refuses it in words; one of the two is accepted."""
    from connections.models import Connection
    from sandbox.xero.seed_book import xero_api

    jobber_with("xero")
    xero = Connection.objects.get(client=two_firms.client_a, system="xero")
    api = xero_api(sandbox, {"access_token": xero.access_token})
    for name in ("Region", "Department"):
        api.create_tracking_category(xero.external_id, {"Name": name})
    client.force_login(two_firms.owner_a)

    refused = client.post(
        url(two_firms), jobber_form(job_reference="tracking", job_tracking_category="Jobs")
    )
    said = re.findall(r'<div role="alert"[^>]*>(.*?)</div>', refused.content.decode(), re.S)
    assert len(said) == 1, said
    assert "Xero keeps at most 2 active tracking categories" in said[0]
    assert "Region, Department" in said[0] and "file jobs in the note" in said[0]
    assert SyncSettings.for_client(two_firms.client_a).job_reference == "note"

    saved = client.post(
        url(two_firms), jobber_form(job_reference="tracking", job_tracking_category="region")
    )
    assert saved.status_code == 302
    assert SyncSettings.for_client(two_firms.client_a).job_tracking_category == "region"
    # The note needs no category: a name is still asked for, but no limit applies.
    noted = client.post(
        url(two_firms), jobber_form(job_reference="note", job_tracking_category="Jobs")
    )
    assert noted.status_code == 302
