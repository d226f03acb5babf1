"""A user may belong to several firms and switch between them."""

import pytest
from django.urls import reverse

from clients.models import Firm, Membership, Role

from .factories import MembershipFactory

pytestmark = pytest.mark.django_db


def test_it_switches_between_the_users_firms(client, two_firms):
    MembershipFactory(firm=two_firms.firm_b, user=two_firms.accountant_a, role=Role.VIEWER)
    client.force_login(two_firms.accountant_a)
    client.post(reverse("firm_switch"), {"firm_id": two_firms.firm_b.pk})
    page = client.get(reverse("dashboard")).content.decode()
    assert "Bravo Plumbing" in page and "Alpha Secret Roofing" not in page
    client.post(reverse("firm_switch"), {"firm_id": two_firms.firm_a.pk})
    assert "Alpha Secret Roofing" in client.get(reverse("dashboard")).content.decode()


@pytest.mark.parametrize("firm_id", ["", "abc", "999999"])
def test_it_ignores_a_switch_to_a_firm_the_user_is_not_in(client, two_firms, firm_id):
    client.force_login(two_firms.owner_b)
    response = client.post(reverse("firm_switch"), {"firm_id": firm_id}, follow=True)
    assert "not a member" in response.content.decode()


def test_it_drops_access_when_a_membership_is_removed(client, two_firms):
    client.force_login(two_firms.accountant_a)
    assert client.get(reverse("client_detail", args=["alpha-roofing"])).status_code == 200
    Membership.objects.filter(user=two_firms.accountant_a).delete()
    response = client.get(reverse("client_detail", args=["alpha-roofing"]))
    assert response.status_code == 302
    assert response["Location"] == reverse("firm_create")


def test_it_creates_a_firm_owned_by_its_creator(client, user):
    client.force_login(user)
    assert client.get(reverse("dashboard"))["Location"] == reverse("firm_create")
    client.post(reverse("firm_create"), {"name": "Gamma Ledger Co"})
    firm = Firm.objects.get(name="Gamma Ledger Co")
    assert firm.slug == "gamma-ledger-co"
    assert Membership.objects.get(firm=firm, user=user).role == Role.OWNER
    assert "No clients yet" in client.get(reverse("dashboard")).content.decode()
