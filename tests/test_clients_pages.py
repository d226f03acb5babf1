"""Dashboard and client pages as an accountant uses them."""

import pytest
from django.urls import reverse

from clients.models import AuditEntry, Client

from .factories import ClientFactory, ConnectionFactory, MembershipFactory

pytestmark = pytest.mark.django_db


def test_it_lists_only_the_current_firms_clients(client, two_firms):
    client.force_login(two_firms.accountant_a)
    page = client.get(reverse("dashboard")).content.decode()
    assert "Alpha Secret Roofing" in page
    assert "Bravo Plumbing" not in page


def test_it_searches_clients_and_answers_htmx_with_the_rows_only(client, two_firms):
    ClientFactory(firm=two_firms.firm_a, name="Zephyr Decks", slug="zephyr")
    client.force_login(two_firms.accountant_a)
    response = client.get(reverse("dashboard"), {"q": "zeph"}, headers={"HX-Request": "true"})
    body = response.content.decode()
    assert "Zephyr Decks" in body and "Alpha Secret Roofing" not in body
    assert "<nav" not in body  # a partial, not the whole page


def test_it_paginates_the_dashboard_with_a_bounded_number_of_queries(
    client, two_firms, django_assert_max_num_queries
):
    for n in range(60):
        ClientFactory(firm=two_firms.firm_a, name=f"Client {n:02}", slug=f"client-{n:02}")
    client.force_login(two_firms.accountant_a)
    with django_assert_max_num_queries(12):
        first = client.get(reverse("dashboard"))
    assert "Page 1 of 2" in first.content.decode()
    assert "Client 59" in client.get(reverse("dashboard"), {"page": 2}).content.decode()


def test_it_shows_what_to_do_when_there_are_no_clients(client, db):
    membership = MembershipFactory(role="owner")
    client.force_login(membership.user)
    page = client.get(reverse("dashboard")).content.decode()
    assert "No clients yet" in page and "Add your first client" in page


def test_it_creates_a_client_with_a_slug_from_its_name_and_audits_it(client, two_firms):
    client.force_login(two_firms.accountant_a)
    response = client.post(
        reverse("client_create"),
        {
            "name": "Cedar & Stone Masonry",
            "slug": "",
            "timezone": "America/Denver",
            "country": "us",
            "assigned_staff": [two_firms.accountant_a.pk],
        },
    )
    created = Client.objects.for_firm(two_firms.firm_a).get(name="Cedar & Stone Masonry")
    assert response.status_code == 302
    assert response["Location"] == reverse("client_detail", args=[created.slug])
    assert created.slug == "cedar-stone-masonry"
    assert created.country == "US"
    assert list(created.assigned_staff.all()) == [two_firms.accountant_a]
    entry = AuditEntry.objects.for_firm(two_firms.firm_a).get(action="client.create")
    assert entry.actor == two_firms.accountant_a
    assert entry.after["timezone"] == "America/Denver"


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("name", "", "This field is required."),
        ("name", "alpha secret roofing", "already has a client with this name"),
        ("slug", "alpha-roofing", "already uses this slug"),
        ("timezone", "Mars/Olympus", "Select a valid choice"),
        ("country", "U1", "two-letter country code"),
        ("country", "ZZ", "“ZZ” is not a two-letter country code (ISO 3166)"),
    ],
)
def test_it_rejects_bad_client_input_with_field_errors(client, two_firms, field, value, message):
    client.force_login(two_firms.accountant_a)
    data = {"name": "New Co", "slug": "", "timezone": "UTC", "country": "US", field: value}
    response = client.post(reverse("client_create"), data)
    assert response.status_code == 200
    assert message in str(response.context["form"].errors[field])
    assert Client.objects.for_firm(two_firms.firm_a).count() == 1


def test_it_refuses_to_assign_staff_from_another_firm(client, two_firms):
    client.force_login(two_firms.accountant_a)
    response = client.post(
        reverse("client_edit", args=[two_firms.client_a.slug]),
        {
            "name": "Alpha Secret Roofing",
            "slug": "alpha-roofing",
            "timezone": "UTC",
            "country": "US",
            "assigned_staff": [two_firms.owner_b.pk],
        },
    )
    assert response.status_code == 200
    assert "assigned_staff" in response.context["form"].errors
    assert not two_firms.client_a.assigned_staff.filter(pk=two_firms.owner_b.pk).exists()


def test_it_edits_a_client_and_records_before_and_after(client, two_firms):
    client.force_login(two_firms.accountant_a)
    client.post(
        reverse("client_edit", args=[two_firms.client_a.slug]),
        {
            "name": "Alpha Roofing & Gutters",
            "slug": "alpha-roofing",
            "timezone": "UTC",
            "country": "CA",
        },
    )
    two_firms.client_a.refresh_from_db()
    assert two_firms.client_a.name == "Alpha Roofing & Gutters"
    entry = AuditEntry.objects.for_firm(two_firms.firm_a).get(action="client.update")
    assert entry.before["name"] == "Alpha Secret Roofing"
    assert entry.after["country"] == "CA"


def test_it_keeps_viewers_from_changing_clients(client, two_firms):
    client.force_login(two_firms.viewer_a)
    assert client.get(reverse("client_detail", args=["alpha-roofing"])).status_code == 200
    assert client.get(reverse("client_create")).status_code == 403
    response = client.post(reverse("client_edit", args=["alpha-roofing"]), {"name": "X"})
    assert response.status_code == 403


@pytest.mark.parametrize("slug", ["no-such-client", "bravo-plumbing", "x" * 300])
def test_it_answers_404_for_unknown_or_foreign_clients(client, two_firms, slug):
    client.force_login(two_firms.accountant_a)
    response = client.get(f"/clients/{slug}/")
    assert response.status_code == 404
    assert "Bravo Plumbing" not in response.content.decode()


def test_a_client_never_connected_claims_no_health_until_it_is(client, two_firms):
    """GIVEN a new client with no connection WHEN its page and the dashboard are read THEN
    both say "Not connected yet" and neither claims changes arrive on time; once a system
    is connected the page judges its health again."""
    new = ClientFactory(firm=two_firms.firm_a, name="Fresh Start Roofing", slug="fresh-start")
    client.force_login(two_firms.accountant_a)

    page = client.get(reverse("client_detail", args=[new.slug])).content.decode()
    health = page[page.index('id="health-title"') :]
    assert "Not connected yet" in health[:300]
    assert "Healthy" not in health[:300] and "Changes arrive on time" not in page
    row = client.get(reverse("dashboard"), {"q": "Fresh"}, headers={"HX-Request": "true"})
    assert "Not connected yet" in row.content.decode()

    ConnectionFactory(client=new)
    page = client.get(reverse("client_detail", args=[new.slug])).content.decode()
    health = page[page.index('id="health-title"') :]
    assert "Not connected yet" not in health[:300] and "Healthy" in health[:300]
