"""The confirmation page under attack, over the real consent flow against the sandbox: its
key used from another browser, pressed twice, pressed after the contractor's link was
withdrawn, opened under another system's address, and another firm's ids on the new routes.
Each answer changes nothing it should not, and another firm's object is a 404."""

import pytest
from django.test import Client as Browser
from django.urls import reverse

from connections.invitations import do_revoke_invitation, link_token
from connections.models import Connection, ContractorInvitation
from sandbox.consent import consent

from .conftest import local, start_direct
from .factories import ContractorInvitationFactory
from .sandbox.conftest import sandbox_db

pytestmark = sandbox_db


def parked(browser, system="quickbooks", name="Parked books") -> str:
    """Staff connect up to the confirmation page; returns its address."""
    answer = browser.get(
        local(consent(start_direct(browser, system), system, new_account_name=name))
    )
    assert answer.status_code == 302 and "/confirm/" in answer["Location"]
    return answer["Location"]


@pytest.mark.parametrize("system", ["quickbooks", "xero"])
def test_a_confirmation_key_is_nothing_in_another_browser(client, two_firms, sandbox, system):
    client.force_login(two_firms.accountant_a)
    page = parked(client, system)
    thief = Browser()
    thief.force_login(two_firms.accountant_a)  # even the same person, in another session
    for answer in (thief.get(page), thief.post(page, {"action": "connect"})):
        assert answer.status_code == 400
        assert "Parked books" not in answer.content.decode()
    assert not Connection.objects.exists()
    # The page still works where it was opened.
    assert client.post(page, {"action": "connect"}).status_code == 302


@pytest.mark.parametrize("system", ["quickbooks", "xero"])
def test_a_confirmation_pressed_twice_stores_once(client, two_firms, sandbox, system):
    client.force_login(two_firms.accountant_a)
    page = parked(client, system)
    assert client.post(page, {"action": "connect"}).status_code == 302
    stored = Connection.objects.get(client=two_firms.client_a, system=system)
    again = client.post(page, {"action": "connect"}, follow=True)
    assert again.redirect_chain[-1][0] == reverse("client_detail", args=["alpha-roofing"])
    assert f"{stored.get_system_display()} is already connected." in again.content.decode()
    assert Connection.objects.get(pk=stored.pk).refresh_token == stored.refresh_token


def test_a_link_withdrawn_between_callback_and_confirmation_stores_nothing(two_firms, sandbox):
    invitation = ContractorInvitationFactory(client=two_firms.client_a)
    token = link_token(invitation)
    contractor = Browser()
    started = contractor.post(reverse("contractor_connect", args=[token, "quickbooks"]))
    back = contractor.get(local(consent(started["Location"], "quickbooks", new_account_name="C")))
    page = back["Location"]
    assert contractor.get(page).status_code == 200
    do_revoke_invitation(two_firms.accountant_a, invitation)
    answer = contractor.post(page, {"action": "connect"})
    assert answer.status_code == 400 and "withdrew this link" in answer.content.decode()
    assert not Connection.objects.exists()


def test_a_confirmation_key_under_another_systems_address_is_not_found(client, two_firms, sandbox):
    """The key of a QuickBooks consent opened as /oauth/hubspot/confirm/<key>/ must not show
    (or store) a page whose words and set-aside counts are HubSpot's."""
    client.force_login(two_firms.accountant_a)
    page = parked(client)
    other = page.replace("/oauth/quickbooks/", "/oauth/hubspot/")
    assert client.get(other).status_code == 404
    assert client.post(other, {"action": "connect"}).status_code == 404
    assert not Connection.objects.exists()
    assert client.post(page, {"action": "connect"}).status_code == 302


@pytest.mark.parametrize("route", ["revoke_invitation", "revoke_token"])
def test_another_firms_ids_on_the_new_routes_are_404_and_change_nothing(client, two_firms, route):
    from api.tokens import do_create_api_token

    client.force_login(two_firms.owner_b)
    if route == "revoke_invitation":
        theirs = ContractorInvitationFactory(client=two_firms.client_a)
        for slug in (two_firms.client_a.slug, two_firms.client_b.slug):
            url = reverse("contractor_invitation_revoke", args=[slug, theirs.pk])
            assert client.post(url).status_code == 404
        assert ContractorInvitation.objects.get(pk=theirs.pk).revoked_at is None
    else:
        token, _ = do_create_api_token(two_firms.accountant_a, "script")
        assert client.post(reverse("api_token_revoke", args=[token.pk])).status_code == 404
        token.refresh_from_db()
        assert token.revoked_at is None
