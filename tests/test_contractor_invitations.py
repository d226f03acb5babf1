"""The contractor's invitation link: signed, expiring, revocable, no login needed."""

from datetime import timedelta

import pytest
from django.core import mail, signing
from django.urls import reverse
from django.utils import timezone

from connections.invitations import SALT, link_token
from connections.models import ContractorInvitation

from .factories import ContractorInvitationFactory

pytestmark = pytest.mark.django_db


def test_it_emails_a_link_from_the_client_page(client, two_firms):
    client.force_login(two_firms.accountant_a)
    response = client.post(
        reverse("contractor_invitation_create", args=["alpha-roofing"]),
        {"email": "boss@alpharoofing.test"},
        headers={"HX-Request": "true"},
    )
    body = response.content.decode()
    assert "Sent to <strong>boss@alpharoofing.test</strong>" in body
    assert len(mail.outbox) == 1
    assert "Alpha Books" in mail.outbox[0].subject
    link = next(line for line in mail.outbox[0].body.splitlines() if "/connect/" in line)
    assert link.strip() in body, "the same link can be copied from the page"
    invitation = ContractorInvitation.objects.for_firm(two_firms.firm_a).get()
    assert invitation.expires_at - invitation.created_at == timedelta(days=7)


def test_it_gives_a_link_to_copy_without_sending_email(client, two_firms):
    client.force_login(two_firms.accountant_a)
    response = client.post(reverse("contractor_invitation_create", args=["alpha-roofing"]), {})
    assert "Copy this link" in response.content.decode()
    assert mail.outbox == []


def test_it_rejects_a_bad_email_in_the_panel(client, two_firms):
    client.force_login(two_firms.accountant_a)
    response = client.post(
        reverse("contractor_invitation_create", args=["alpha-roofing"]), {"email": "nope"}
    )
    assert "Enter a valid email address" in response.content.decode()
    assert not ContractorInvitation.objects.exists()


def test_it_keeps_viewers_from_inviting(client, two_firms):
    client.force_login(two_firms.viewer_a)
    response = client.post(reverse("contractor_invitation_create", args=["alpha-roofing"]), {})
    assert response.status_code == 403


def test_it_shows_the_contractor_who_asks_for_what_without_login(client, two_firms):
    invitation = ContractorInvitationFactory(client=two_firms.client_a)
    page = client.get(reverse("contractor_invitation", args=[link_token(invitation)]))
    body = page.content.decode()
    assert page.status_code == 200
    assert "Connect Alpha Secret Roofing's systems for Alpha Books" in body
    assert "Connect QuickBooks Online" in body and "Connect HubSpot" in body
    assert "com.intuit.quickbooks.accounting" in body and "crm.objects.deals.read" in body


def test_it_refuses_a_tampered_link(client, two_firms):
    token = link_token(ContractorInvitationFactory(client=two_firms.client_a))
    tampered = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
    response = client.get(reverse("contractor_invitation", args=[tampered]))
    assert response.status_code == 404
    assert "not valid" in response.content.decode()
    assert "Alpha" not in response.content.decode()


def test_it_refuses_an_expired_link(client, two_firms, monkeypatch):
    invitation = ContractorInvitationFactory(client=two_firms.client_a)
    token = link_token(invitation)
    later = timezone.now() + timedelta(days=8)
    monkeypatch.setattr("django.core.signing.time.time", lambda: later.timestamp())
    response = client.get(reverse("contractor_invitation", args=[token]))
    assert response.status_code == 404
    assert "expired" in response.content.decode()


def test_it_refuses_a_link_whose_invitation_was_withdrawn(client, two_firms):
    invitation = ContractorInvitationFactory(client=two_firms.client_a, revoked_at=timezone.now())
    response = client.get(reverse("contractor_invitation", args=[link_token(invitation)]))
    assert "withdrawn" in response.content.decode()


def test_it_refuses_a_link_signed_for_another_invitation(client, two_firms):
    invitation = ContractorInvitationFactory(client=two_firms.client_a)
    forged = signing.dumps({"i": invitation.pk, "n": "guessed-nonce"}, salt=SALT, compress=True)
    assert client.get(reverse("contractor_invitation", args=[forged])).status_code == 404


def test_it_refuses_a_system_the_invitation_does_not_cover(client, two_firms):
    invitation = ContractorInvitationFactory(client=two_firms.client_a, systems=["quickbooks"])
    url = reverse("contractor_connect", args=[link_token(invitation), "hubspot"])
    assert client.post(url).status_code == 404
