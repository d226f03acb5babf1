"""Settings no sync could use are refused in the browser, each with its reason tied to the
field it is about (the field's accessible description), and nothing is saved: terms of
99,999,999,999 days (that crashed the next sync), currency XYZ, a 0-minute schedule, an
empty field map, a property the CRM lacks, country ZZZ and text longer than its column."""

import re

import pytest

from clients.models import Client
from sync.models import SyncSettings
from tests.sandbox.conftest import sandbox_db

from .conftest import expect, log_in, screenshot

pytestmark = sandbox_db

SETTINGS_REFUSED = [
    ("Payment terms (days)", "99999999999", "At most 365 days."),
    ("Currency of the books", "XYZ", "“XYZ” is not a currency code (ISO 4217)"),
    ("Batched pull every (minutes)", "0", "At least 5 minutes."),
    ("Invoice number pattern", "SF-{deal_id}-" + "X" * 40, "At most 40 characters; this has"),
    ("From companies: City", "town", "HubSpot has no company property called “town”"),
    ("From companies: Phone", "Phone Number", "“Phone” is not a HubSpot property name"),
]


@pytest.fixture
def owner_page(new_context, two_firms, live_server):
    context = new_context()
    log_in(context, two_firms.owner_a, live_server)
    return context.new_page()


@pytest.mark.parametrize("width", [1280, 390])
def test_each_bad_sync_setting_is_refused_next_to_its_field(systems, owner_page, two_firms, width):
    page, client = owner_page, two_firms.client_a
    page.set_viewport_size({"width": width, "height": 900})
    before = SyncSettings.for_client(client)
    url = f"/clients/{client.slug}/sync/settings/"
    for label, value, said in SETTINGS_REFUSED:
        page.goto(url)
        page.get_by_label(label, exact=True).fill(value)
        page.get_by_role("button", name="Save settings").click()
        field = page.get_by_label(label, exact=True)
        expect(field).to_have_accessible_description(re.compile(re.escape(said)))
        expect(field).to_have_attribute("aria-invalid", "true")
        expect(page.get_by_role("status").filter(has_text="saved")).to_have_count(0)

    # The field map left with no display name: a customer could not be made or matched.
    page.goto(url)
    page.get_by_label("From companies: Display name", exact=True).fill("")
    page.get_by_label("From contacts (homeowners): Display name", exact=True).fill("")
    page.get_by_role("button", name="Save settings").click()
    expect(
        page.get_by_label("From companies: Display name", exact=True)
    ).to_have_accessible_description(re.compile("Map at least the display name"))
    screenshot(page, f"sync-settings-refused-{width}")
    assert SyncSettings.for_client(client).__dict__ | {"_state": None, "updated_at": None} == (
        before.__dict__ | {"_state": None, "updated_at": None}
    )

    # A good value still saves (the refusals held nothing back).
    page.goto(url)
    page.get_by_label("Payment terms (days)").fill("45")
    page.get_by_label("From companies: City", exact=True).fill("city")
    page.get_by_role("button", name="Save settings").click()
    expect(page.get_by_role("status")).to_contain_text("Sync settings saved")
    saved = SyncSettings.for_client(client)
    assert saved.payment_terms_days == 45 and saved.field_map["companies"]["city"] == {
        "from": ["city"]
    }


def test_a_client_with_country_zzz_or_a_name_too_long_is_refused(owner_page, two_firms):
    page, client = owner_page, two_firms.client_a
    page.set_viewport_size({"width": 390, "height": 844})
    for label, value, said in (
        ("Country", "ZZZ", "“ZZZ” is not a two-letter country code (ISO 3166)"),
        ("Name", "Roofing " * 30, "At most 200 characters; this has 239."),
    ):
        page.goto(f"/clients/{client.slug}/edit/")
        field = page.get_by_label(re.compile(f"^{label}:$"))  # Django's labels end in ":"
        field.fill(value)
        page.get_by_role("button", name="Save").click()
        expect(field).to_have_accessible_description(re.compile(re.escape(said)))
    screenshot(page, "client-form-refused-390")
    kept = Client.objects.get(pk=client.pk)
    assert (kept.name, kept.country) == (client.name, client.country)
