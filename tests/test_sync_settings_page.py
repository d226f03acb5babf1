"""The client's sync settings page: who may change them, what is refused, what is kept."""

import re
import time
from decimal import Decimal

from django.urls import reverse
from django.utils.html import escape
from quickbooks.objects.account import Account

from clients.models import AuditEntry
from sync.models import SyncSettings

from .sandbox.conftest import sandbox_db
from .sync_support import service_item


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
        "map_companies_display_name": "name",
        "link_sure_percent": "90",
        "review_from_percent": "20",
        "match_abbreviations": "",
        "match_legal_forms": "",
        "how_companies_display_name": "from",
        **{f"owner_{name}": "crm" for name in SyncSettings().field_owners},
    }
    return data | overrides


def refused_then_saved(client, two_firms, field: str, bad: str, said: str, good: str) -> None:
    """`bad` is refused with `said` and changes nothing; then `good` saves."""
    before = SyncSettings.for_client(two_firms.client_a).__dict__.copy()
    refused = client.post(url(two_firms), form_data(**{field: bad}))
    assert said in refused.content.decode()
    after = SyncSettings.for_client(two_firms.client_a).__dict__
    assert {k: v for k, v in after.items() if k != "_state"} == {
        k: v for k, v in before.items() if k != "_state"
    }
    assert client.post(url(two_firms), form_data(**{field: good})).status_code == 302


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
    # Every choice is in the log, not a hand-kept few: who posts, the number pattern, terms.
    assert {"posting", "invoice_number_pattern", "payment_terms_days"} <= set(entry.after)


def test_the_field_map_is_a_row_per_field_and_saves_the_same_data(client, two_firms):
    """GIVEN the settings page WHEN an owner names properties in the rows THEN the map the
    sync reads is saved as before: joined properties under "from", alternatives under
    "first_of", empty rows left out."""
    client.force_login(two_firms.owner_a)
    page = client.get(url(two_firms)).content.decode()
    assert 'name="map_contacts_display_name" value="firstname, lastname"' in page
    assert "Not valid JSON" not in page and '<textarea name="field_map' not in page
    response = client.post(
        url(two_firms),
        form_data(
            map_contacts_display_name="firstname lastname",
            map_contacts_phone="phone, mobilephone",
            how_contacts_phone="first_of",
        ),
    )
    assert response.status_code == 302
    assert SyncSettings.for_client(two_firms.client_a).field_map == {
        "companies": {"display_name": {"from": ["name"]}},
        "contacts": {
            "display_name": {"from": ["firstname", "lastname"]},
            "phone": {"first_of": ["phone", "mobilephone"]},
        },
    }


def test_a_bad_field_map_row_is_refused_next_to_it_and_nothing_saved(client, two_firms):
    client.force_login(two_firms.owner_a)
    for field, value, reason in (
        ("map_companies_city", "City Name", "“City” is not a CRM property name"),
        ("map_companies_city", "a b c d e f", "At most 5 properties; this names 6."),
        ("map_companies_city", "x" * 301, "At most 300 characters"),
        ("map_companies_display_name", "", "Map at least the display name"),
    ):
        response = client.post(url(two_firms), form_data(**{field: value}))
        assert response.status_code == 200
        assert reason in response.content.decode(), (field, value)
    assert SyncSettings.for_client(two_firms.client_a).customer_direction == "both"


@sandbox_db
def test_field_map_properties_come_from_the_crm(client, systems, two_firms):
    """GIVEN a connected HubSpot portal WHEN the settings page opens THEN the rows suggest
    the portal's own properties, and a property the portal lacks is refused by name."""
    client.force_login(two_firms.owner_a)
    page = client.get(url(two_firms)).content.decode()
    assert '<datalist id="properties-companies">' in page
    assert '<option value="zip">' in page
    refused_then_saved(
        client, two_firms, "map_companies_city", "town", "no company property called “town”", "city"
    )
    assert SyncSettings.for_client(two_firms.client_a).field_map["companies"]["city"] == {
        "from": ["city"]
    }


def test_accountants_cannot_open_or_change_settings(client, two_firms):
    client.force_login(two_firms.accountant_a)
    assert client.post(url(two_firms), form_data()).status_code == 403
    assert client.get(url(two_firms)).status_code == 403
    assert SyncSettings.for_client(two_firms.client_a).customer_direction == "both"


@sandbox_db
def test_an_invoice_number_pattern_without_the_deal_or_too_long_is_refused(
    client, two_firms, connected
):
    connected("quickbooks")  # its invoice numbers hold 21 characters
    client.force_login(two_firms.owner_a)
    for pattern, reason in (
        ("INV-2026", "Put {deal_id} in it"),
        ("CONTRACTOR-INVOICE-{deal_id}", "longer than QuickBooks allows (21 characters)"),
    ):
        response = client.post(url(two_firms), form_data(invoice_number_pattern=pattern))
        assert reason in response.content.decode()
    saved = SyncSettings.for_client(two_firms.client_a)
    assert saved.invoice_number_pattern == "SF-{deal_id}"


def income_options(response) -> list[str]:
    """The income account select's options, as the page lists them."""
    html = response.content.decode()
    select = html.split('name="income_account"', 1)[1].split("</select>", 1)[0]
    return re.findall(r'<option value="([^"]*)"', select)


@sandbox_db
def test_the_income_account_is_picked_from_the_books_list(client, systems, two_firms):
    """GIVEN a client whose QuickBooks company is fresh, plus one account of its own
    WHEN an owner opens the settings
    THEN the income account is a select of the books' income accounts, the current one
    chosen, and picking one of them saves it (audited)."""
    account = Account()
    account.Name, account.AccountType = "Roofing Income", "Income"
    account.save(qb=systems.qb)
    client.force_login(two_firms.owner_a)

    page = client.get(url(two_firms))

    options = income_options(page)
    assert {"Services", "Sales of Product Income", "Roofing Income"} <= set(options)
    assert "Checking" not in options and "Cost of Goods Sold" not in options
    assert '<option value="Services" selected>' in page.content.decode()
    saved = client.post(url(two_firms), form_data(income_account="Roofing Income"))
    assert saved.status_code == 302
    assert SyncSettings.for_client(two_firms.client_a).income_account == "Roofing Income"
    entry = AuditEntry.objects.get(action="sync.settings_changed")
    assert (entry.before["income_account"], entry.after["income_account"]) == (
        "Services",
        "Roofing Income",
    )


@sandbox_db
def test_an_income_account_the_books_do_not_have_is_refused_with_a_message(
    client, systems, two_firms
):
    client.force_login(two_firms.owner_a)

    response = client.post(url(two_firms), form_data(income_account="Consulting Income"))

    assert response.status_code == 200
    assert (
        "There is no income account called “Consulting Income” in the books"
        in response.content.decode()
    )
    assert SyncSettings.for_client(two_firms.client_a).income_account == "Services"
    # An expense account is no income account either.
    response = client.post(url(two_firms), form_data(income_account="Contractors"))
    assert "no income account called “Contractors”" in response.content.decode()


@sandbox_db
def test_a_current_account_missing_from_the_books_is_shown_and_must_be_replaced(
    client, systems, two_firms
):
    SyncSettings.for_client(two_firms.client_a)
    SyncSettings.objects.filter(client=two_firms.client_a).update(income_account="Old Income")
    client.force_login(two_firms.owner_a)

    page = client.get(url(two_firms)).content.decode()

    assert "The books have no income account called “Old Income”" in page
    assert '<option value="Old Income" selected>Old Income (not in the books)</option>' in page
    refused = client.post(url(two_firms), form_data(income_account="Old Income"))
    assert "no income account called “Old Income” in the books" in refused.content.decode()
    client.post(url(two_firms), form_data(income_account="Services"))
    assert SyncSettings.for_client(two_firms.client_a).income_account == "Services"


def test_without_connected_books_the_page_says_why_and_keeps_the_account(client, two_firms):
    SyncSettings.for_client(two_firms.client_a)
    SyncSettings.objects.filter(client=two_firms.client_a).update(income_account="Contract Income")
    client.force_login(two_firms.owner_a)

    page = client.get(url(two_firms))

    html = page.content.decode()
    assert page.status_code == 200
    assert "The income accounts could not be read from the books" in html
    assert "has no connected accounting system" in html
    assert income_options(page) == ["Contract Income"]
    # Other settings still save; the account stays whatever is posted.
    saved = client.post(url(two_firms), form_data(income_account="Anything"))
    assert saved.status_code == 302
    kept = SyncSettings.for_client(two_firms.client_a)
    assert kept.income_account == "Contract Income" and kept.schedule_minutes == 30


@sandbox_db
def test_with_the_books_down_the_page_still_works_and_says_so(client, systems, two_firms):
    systems.faults("quickbooks", error_rate=1.0)
    client.force_login(two_firms.owner_a)

    started = time.monotonic()
    page = client.get(url(two_firms))

    assert time.monotonic() - started < 5  # one try, no waiting out the outage
    html = page.content.decode()
    assert page.status_code == 200
    assert "The income accounts could not be read from the books" in html
    assert "The current choice, “Services”, is kept." in html
    assert income_options(page) == ["Services"]


def test_each_bad_setting_is_refused_with_a_message_and_nothing_saved(client, two_firms):
    """GIVEN the settings form WHEN a value no sync could use is posted (terms of
    99,999,999,999 days crashed the next sync with an OverflowError) THEN the page says what
    is wrong with it, and nothing is saved."""
    client.force_login(two_firms.owner_a)
    for field, value, said in (
        ("payment_terms_days", "99999999999", "At most 365 days."),
        ("payment_terms_days", "-1", "At least 0 days."),
        ("schedule_minutes", "0", "At least 5 minutes."),
        ("schedule_minutes", "100000", "At most 1440 minutes."),
        ("stale_after_days", "0", "At least 1 days."),
        ("books_currency", "XYZ", "“XYZ” is not a currency code (ISO 4217)"),
        ("books_currency", "", "This field is required."),
        ("map_companies_display_name", "", "Map at least the display name"),
        ("books_currency", "US DOLLARS", "At most 3 characters; this has 10."),
    ):
        response = client.post(url(two_firms), form_data(**{field: value}))
        assert response.status_code == 200, (field, value)
        assert said in response.content.decode(), (field, value)
    kept = SyncSettings.for_client(two_firms.client_a)
    assert (kept.payment_terms_days, kept.schedule_minutes, kept.books_currency) == (30, 15, "USD")
    saved = client.post(url(two_firms), form_data(books_currency="cad", payment_terms_days="365"))
    assert saved.status_code == 302
    kept.refresh_from_db()
    assert (kept.books_currency, kept.payment_terms_days) == ("CAD", 365)


@sandbox_db
def test_the_item_for_products_the_books_lack_is_picked_from_the_books(client, systems, two_firms):
    """GIVEN books with a "Contract work" item WHEN an owner opens the settings THEN the
    choice lists it beside "create it", picking it saves it, and a name the books lack is
    refused with a message."""
    service_item(systems, "Contract work")
    client.force_login(two_firms.owner_a)
    page = client.get(url(two_firms)).content.decode()
    assert '<option value="" selected>Create it in the income account above</option>' in page
    assert "Bill it as “Contract work”" in page
    said = "There is no item called “Roofing” in the books"
    refused_then_saved(client, two_firms, "unmatched_item", "Roofing", said, "Contract work")
    assert SyncSettings.for_client(two_firms.client_a).unmatched_item == "Contract work"


def test_an_owner_sets_the_matching_thresholds_and_words_and_the_page_says_none_learnt_yet(
    client, two_firms
):
    client.force_login(two_firms.owner_a)
    page = client.get(url(two_firms)).content.decode()
    assert escape("No run has learnt this client's matching yet") in page
    assert "at least 200 records on each side" in page

    saved = client.post(
        url(two_firms),
        form_data(
            link_sure_percent="95.5",
            review_from_percent="30",
            match_abbreviations="Htg = Heating\r\n\r\n  Vnt=Ventilation ",
            match_legal_forms="Kft",
        ),
    )

    assert saved.status_code == 302
    kept = SyncSettings.for_client(two_firms.client_a)
    assert (kept.link_sure_percent, kept.review_from_percent) == (Decimal("95.5"), 30)
    assert kept.match_abbreviations == "Htg = Heating\nVnt=Ventilation"
    entry = AuditEntry.objects.get(action="sync.settings_changed")
    assert (entry.before["link_sure_percent"], entry.after["link_sure_percent"]) == ("90.0", "95.5")
    assert entry.after["match_legal_forms"] == "Kft"


def test_bad_thresholds_and_vocabulary_lines_are_refused_in_words_and_nothing_saved(
    client, two_firms
):
    client.force_login(two_firms.owner_a)
    before = SyncSettings.for_client(two_firms.client_a).__dict__.copy()
    for fields, said in (
        ({"link_sure_percent": "40"}, "At least 50 %: below 50 % a link without review would"),
        ({"link_sure_percent": "100"}, "At most 99.9 %."),
        ({"link_sure_percent": "ninety"}, "Write a percentage like 90 or 97.5."),
        ({"link_sure_percent": "97.55"}, "At most one decimal place"),
        ({"review_from_percent": "0"}, "At least 1 %"),
        (
            {"link_sure_percent": "80", "review_from_percent": "85"},
            "Review must start below the link without review (80 %)",
        ),
        ({"match_abbreviations": "Htg = Heating\nRfg Roofing"}, "Line 2 (“Rfg Roofing”) has no"),
        ({"match_abbreviations": "Htg ="}, "Line 1 (“Htg =”) has nothing after the “=”"),
        ({"match_legal_forms": "Pty Ltd"}, "one legal form per line, as one word"),
        ({"match_legal_forms": "x" * 5001}, "At most 5000 characters; this has 5001."),
    ):
        response = client.post(url(two_firms), form_data(**fields))
        assert response.status_code == 200, fields
        assert escape(said) in response.content.decode(), fields
    after = SyncSettings.for_client(two_firms.client_a).__dict__
    assert {k: v for k, v in after.items() if k not in ("_state", "updated_at")} == {
        k: v for k, v in before.items() if k not in ("_state", "updated_at")
    }


def test_another_firm_can_neither_read_nor_change_the_matching_settings(client, two_firms):
    SyncSettings.for_client(two_firms.client_a)
    SyncSettings.objects.filter(client=two_firms.client_a).update(
        match_abbreviations="Htg = Heating"
    )
    client.force_login(two_firms.owner_b)
    page = client.get(url(two_firms))
    changed = client.post(url(two_firms), form_data(link_sure_percent="50"))
    assert page.status_code == changed.status_code == 404
    assert b"Htg" not in page.content
    kept = SyncSettings.for_client(two_firms.client_a)
    assert (kept.link_sure_percent, kept.match_abbreviations) == (90, "Htg = Heating")


def test_after_the_words_change_the_page_says_its_figures_are_from_the_words_of_then(
    client, two_firms
):
    from sync.client_matching import binned
    from sync.linkage import Model
    from sync.models import LearntMatching

    LearntMatching.objects.create(
        client=two_firms.client_a,
        model=Model.default(0.004).to_dict(),
        partner_share=0.9,
        books_records=240,
        crm_records=230,
        vocabulary={"abbreviations": {}, "legal_forms": []},
        best_pairs=binned([0.999] * 200 + [0.95] * 10 + [0.5] * 20),
    )
    client.force_login(two_firms.owner_a)
    page = client.get(url(two_firms)).content.decode()
    assert "linked 210 record(s) without review, expected to be 99.7\u00a0% right" in page
    assert "sent 20 (8.7\u00a0%) to review" in page
    assert "words for names have changed" not in page

    saved = client.post(url(two_firms), form_data(match_abbreviations="Htg = Heating"))
    assert saved.status_code == 302
    page = client.get(url(two_firms)).content.decode()
    assert escape("The client's words for names have changed since") in page
