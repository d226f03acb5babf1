"""The client's sync settings page: who may change them, what is refused, what is kept."""

import json

from django.urls import reverse

from clients.models import AuditEntry
from connections.sync.models import SyncSettings


def url(two_firms) -> str:
    return reverse("client_sync_settings", args=[two_firms.client_a.slug])


def form_data(**overrides) -> dict:
    data = {
        "customer_direction": "to_accounting",
        "crm_source": "companies",
        "schedule_minutes": "30",
        "invoices_on": "on",
        "issued_invoice_changes": "update_unpaid",
        "invoice_number_pattern": "HS-{deal_id}",
        "payment_terms_days": "15",
        "income_account": "Services",
        "books_currency": "usd",
        "stale_after_days": "60",
        "report_contractor_email": "",
        "field_map": json.dumps({"companies": {"display_name": {"from": ["name"]}}}),
        **{f"owner_{name}": "crm" for name in SyncSettings().field_owners},
    }
    return data | overrides


def test_an_owner_changes_direction_owners_and_the_field_map(client, two_firms):
    client.force_login(two_firms.owner_a)
    response = client.post(url(two_firms), form_data(owner_email="review"))
    assert response.status_code == 302
    saved = SyncSettings.objects.get(client=two_firms.client_a)
    assert saved.customer_direction == "to_accounting" and saved.schedule_minutes == 30
    assert saved.field_owners["email"] == "review"
    assert saved.field_map == {"companies": {"display_name": {"from": ["name"]}}}
    entry = AuditEntry.objects.get(action="sync.settings_changed")
    assert entry.before["customer_direction"] == "both"
    assert entry.after["field_owners"]["email"] == "review"
    # A won deal changed after invoicing: the client now lets the CRM correct unpaid ones.
    assert saved.issued_invoice_changes == "update_unpaid"
    assert entry.before["issued_invoice_changes"] == "review"
    assert entry.after["issued_invoice_changes"] == "update_unpaid"


def test_a_broken_field_map_is_refused_with_the_reason_and_nothing_saved(client, two_firms):
    client.force_login(two_firms.owner_a)
    for text, reason in (
        ("{not json", "Not valid JSON"),
        ('{"companies": {"display_name": {"from": "name"}}}', "must be a list of property"),
        ('{"companies": {"nickname": {"from": ["name"]}}}', "unknown customer field"),
        ('{"deals": {}}', "nothing else"),
    ):
        response = client.post(url(two_firms), form_data(field_map=text))
        assert response.status_code == 200
        assert reason in response.content.decode()
    assert SyncSettings.for_client(two_firms.client_a).customer_direction == "both"


def test_accountants_cannot_open_or_change_settings(client, two_firms):
    client.force_login(two_firms.accountant_a)
    assert client.post(url(two_firms), form_data()).status_code == 403
    assert client.get(url(two_firms)).status_code == 403
    assert SyncSettings.for_client(two_firms.client_a).customer_direction == "both"


def test_an_invoice_number_pattern_without_the_deal_or_too_long_is_refused(client, two_firms):
    client.force_login(two_firms.owner_a)
    for pattern, reason in (
        ("INV-2026", "Put {deal_id} in it"),
        ("CONTRACTOR-INVOICE-{deal_id}", "longer than QuickBooks"),
    ):
        response = client.post(url(two_firms), form_data(invoice_number_pattern=pattern))
        assert reason in response.content.decode()
    saved = SyncSettings.for_client(two_firms.client_a)
    assert saved.invoice_number_pattern == "SF-{deal_id}"
