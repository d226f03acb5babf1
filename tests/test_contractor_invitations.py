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


def revoke_url(invitation, client_slug: str = "alpha-roofing") -> str:
    return reverse("contractor_invitation_revoke", args=[client_slug, invitation.pk])


def test_it_lists_the_links_sent_with_who_sent_them_and_their_state(client, two_firms):
    from connections.models import Connection, InvitationUse

    made = {
        state: ContractorInvitationFactory(
            client=two_firms.client_a, email=f"{state}@alpharoofing.test",
            created_by=two_firms.accountant_a,
        )
        for state in ("open", "partly", "used", "revoked", "expired")
    }  # fmt: skip
    connection = Connection.objects.create(
        client=two_firms.client_a, system="quickbooks", external_name="Alpha Roofing LLC"
    )
    InvitationUse.objects.create(
        invitation=made["partly"], system="quickbooks", connection=connection,
        external_name="Alpha Roofing LLC",
    )  # fmt: skip
    made["used"].systems = ["quickbooks"]
    made["used"].used_at = timezone.now()
    made["used"].save()
    InvitationUse.objects.create(invitation=made["used"], system="quickbooks")
    made["revoked"].revoked_at, made["revoked"].revoked_by = timezone.now(), two_firms.owner_a
    made["revoked"].save()
    made["expired"].expires_at = timezone.now() - timedelta(hours=1)
    made["expired"].save()

    client.force_login(two_firms.viewer_a)
    page = client.get(reverse("client_detail", args=["alpha-roofing"])).content.decode()
    section = page[page.index("Links sent") :]
    for state, label in [("open", "Open"), ("partly used", "Partly used"), ("used", "Used"),
                         ("revoked", "Withdrawn"), ("expired", "Expired")]:  # fmt: skip
        assert f'data-state="{state}"' in section and label in section
    assert "accountant@alpha.test" in section, "who sent each link"
    assert "by owner@alpha.test" in section, "who withdrew it"
    assert "QuickBooks Online connected" in section and "Alpha Roofing LLC" in section
    for invitation in made.values():
        assert link_token(invitation) not in page, "a sent link is never shown again"
    assert "Revoke" not in section, "viewers see the list but cannot revoke"

    client.force_login(two_firms.accountant_a)
    page = client.get(reverse("client_detail", args=["alpha-roofing"])).content.decode()
    assert page.count(">Revoke</button>") == 2, "only open and partly used links"


def test_it_revokes_a_link_from_the_client_page(client, two_firms):
    """GIVEN an open link WHEN an accountant revokes it from the client page THEN the panel
    says so, the audit log has it, and the contractor sees a clear "withdrawn" page."""
    from clients.models import AuditEntry

    invitation = ContractorInvitationFactory(client=two_firms.client_a, email="x@roof.test")
    token = link_token(invitation)
    client.force_login(two_firms.accountant_a)
    response = client.post(revoke_url(invitation), headers={"HX-Request": "true"})
    body = response.content.decode()
    assert response.status_code == 200
    assert "Link to x@roof.test withdrawn." in body and 'data-state="revoked"' in body
    invitation.refresh_from_db()
    assert invitation.revoked_at and invitation.revoked_by == two_firms.accountant_a
    entry = AuditEntry.objects.for_firm(two_firms.firm_a).get(action="invitation.revoke")
    assert entry.actor == two_firms.accountant_a and entry.object_id == str(invitation.pk)
    assert entry.before["revoked_at"] is None and entry.after["revoked_at"]
    assert token not in str(entry.before) + str(entry.after)

    client.logout()
    page = client.get(reverse("contractor_invitation", args=[token]))
    text = page.content.decode()
    assert page.status_code == 410
    assert "This link was withdrawn" in text and "Alpha Books withdrew this link on" in text
    assert "<button" not in text
    assert client.post(reverse("contractor_connect", args=[token, "quickbooks"])).status_code == 410


def test_it_redirects_to_the_client_page_after_revoking_without_htmx(client, two_firms):
    invitation = ContractorInvitationFactory(client=two_firms.client_a)
    client.force_login(two_firms.owner_a)
    response = client.post(revoke_url(invitation), follow=True)
    assert response.redirect_chain[-1][0] == reverse("client_detail", args=["alpha-roofing"])
    assert "withdrawn" in response.content.decode()


def test_it_keeps_viewers_from_revoking(client, two_firms):
    invitation = ContractorInvitationFactory(client=two_firms.client_a)
    client.force_login(two_firms.viewer_a)
    assert client.post(revoke_url(invitation)).status_code == 403
    invitation.refresh_from_db()
    assert invitation.revoked_at is None


def test_it_answers_404_for_another_firms_invitation(client, two_firms):
    """Firm B's owner, with firm A's invitation id under B's own client: 404, nothing changed."""
    invitation = ContractorInvitationFactory(client=two_firms.client_a)
    client.force_login(two_firms.owner_b)
    assert client.post(revoke_url(invitation, "bravo-plumbing")).status_code == 404
    assert client.post(revoke_url(invitation)).status_code == 404
    invitation.refresh_from_db()
    assert invitation.revoked_at is None


def test_it_states_a_link_worst_news_first():
    from connections.invitations import LinkState, link_state

    both = ["quickbooks", "hubspot"]
    assert link_state(both, [], revoked=False, expired=False) == LinkState.OPEN
    assert link_state(both, ["hubspot"], revoked=False, expired=False) == LinkState.PARTLY_USED
    assert link_state(both, both, revoked=False, expired=True) == LinkState.USED
    assert link_state(both, ["hubspot"], revoked=False, expired=True) == LinkState.EXPIRED
    assert link_state(both, both, revoked=True, expired=False) == LinkState.REVOKED


def test_it_names_only_the_systems_staff_tick(client, two_firms):
    client.force_login(two_firms.accountant_a)
    url = reverse("contractor_invitation_create", args=["alpha-roofing"])
    client.post(url, {"systems_offered": "1", "systems": ["hubspot"]})
    invitation = ContractorInvitation.objects.for_firm(two_firms.firm_a).get()
    assert invitation.systems == ["hubspot"]
    page = client.get(reverse("contractor_invitation", args=[link_token(invitation)]))
    assert "Connect HubSpot" in page.content.decode()
    assert "QuickBooks" not in page.content.decode()


def test_it_refuses_a_link_for_no_system(client, two_firms):
    client.force_login(two_firms.accountant_a)
    url = reverse("contractor_invitation_create", args=["alpha-roofing"])
    response = client.post(url, {"systems_offered": "1"})
    assert "Choose at least one system for the link." in response.content.decode()
    response = client.post(url, {"systems_offered": "1", "systems": ["sage"]})
    assert "Unknown system: sage." in response.content.decode()
    assert not ContractorInvitation.objects.exists()


def test_it_offers_the_systems_not_yet_connected(client, two_firms):
    from connections.models import Connection

    client.force_login(two_firms.accountant_a)
    url = reverse("connection_panel", args=["alpha-roofing"])
    both = client.get(url).content.decode()
    assert 'value="quickbooks" checked' in both and 'value="hubspot" checked' in both
    Connection.objects.create(client=two_firms.client_a, system="quickbooks", status="active")
    one = client.get(url).content.decode()
    assert 'value="quickbooks">' in one and 'value="hubspot" checked' in one


def test_it_writes_the_firms_name_plainly_in_the_text_email(client, two_firms):
    two_firms.firm_a.name = "Ledger & Co Bookkeeping"
    two_firms.firm_a.save(update_fields=["name"])
    client.force_login(two_firms.accountant_a)
    client.post(
        reverse("contractor_invitation_create", args=["alpha-roofing"]),
        {"email": "boss@alpharoofing.test"},
    )
    text = mail.outbox[0].body
    assert text.startswith("Ledger & Co Bookkeeping keeps the books for Alpha Secret Roofing")
    assert "&amp;" not in text
    html = mail.outbox[0].alternatives[0][0]
    assert "Ledger &amp; Co Bookkeeping" in html, "the HTML part stays escaped"


def test_it_keeps_the_typed_email_and_ticks_when_the_form_is_refused(client, two_firms):
    client.force_login(two_firms.accountant_a)
    response = client.post(
        reverse("contractor_invitation_create", args=["alpha-roofing"]),
        {
            "email": "boss@alpharoofing.test",
            "systems_offered": "1",
            "systems": ["quickbooks", "hubspot", "jobber"],
        },
    )
    body = response.content.decode()
    assert "A client runs one CRM: tick HubSpot or Jobber, not both." in body
    assert 'value="boss@alpharoofing.test"' in body
    for system in ("quickbooks", "hubspot", "jobber"):
        assert f'value="{system}" checked' in body
    assert 'value="xero" checked' not in body
    assert not ContractorInvitation.objects.exists()


def test_it_refuses_a_second_link_to_an_address_whose_link_is_open(client, two_firms):
    client.force_login(two_firms.accountant_a)
    url = reverse("contractor_invitation_create", args=["alpha-roofing"])
    client.post(url, {"email": "boss@alpharoofing.test"})
    response = client.post(url, {"email": "Boss@AlphaRoofing.test"})
    body = response.content.decode()
    assert "boss@alpharoofing.test already has an open link for Alpha Secret Roofing" in body
    assert "sent by accountant@alpha.test on" in body
    assert "Send the open link to boss@alpharoofing.test again" in body
    assert ContractorInvitation.objects.count() == 1
    assert len(mail.outbox) == 1


def test_it_sends_the_open_link_again(client, two_firms):
    client.force_login(two_firms.accountant_a)
    client.post(
        reverse("contractor_invitation_create", args=["alpha-roofing"]),
        {"email": "boss@alpharoofing.test"},
    )
    invitation = ContractorInvitation.objects.get()
    response = client.post(
        reverse("contractor_invitation_resend", args=["alpha-roofing", invitation.pk]),
        headers={"HX-Request": "true"},
    )
    assert "Sent to <strong>boss@alpharoofing.test</strong>" in response.content.decode()
    assert len(mail.outbox) == 2 and mail.outbox[1].to == ["boss@alpharoofing.test"]
    assert ContractorInvitation.objects.count() == 1


def test_it_invites_an_address_again_once_its_link_is_revoked(client, two_firms):
    client.force_login(two_firms.accountant_a)
    ContractorInvitationFactory(
        client=two_firms.client_a, email="boss@alpharoofing.test", revoked_at=timezone.now()
    )
    client.post(
        reverse("contractor_invitation_create", args=["alpha-roofing"]),
        {"email": "boss@alpharoofing.test"},
    )
    assert ContractorInvitation.objects.count() == 2


def test_it_ticks_jobber_for_a_client_known_to_run_jobber(client, two_firms):
    client.force_login(two_firms.accountant_a)
    url = reverse("connection_panel", args=["alpha-roofing"])
    assert 'value="hubspot" checked' in client.get(url).content.decode()
    ContractorInvitationFactory(client=two_firms.client_a, systems=["quickbooks", "jobber"])
    body = client.get(url).content.decode()
    assert 'value="jobber" checked' in body and 'value="hubspot">' in body
    assert 'value="quickbooks" checked' in body


def test_it_ticks_jobber_when_the_client_once_connected_it():
    from connections.invitations import default_systems

    waiting = {"quickbooks": False, "xero": False, "hubspot": False, "jobber": False}
    assert default_systems(waiting) == ["quickbooks", "hubspot"]
    assert default_systems(waiting, {"jobber"}) == ["quickbooks", "jobber"]
    assert default_systems(waiting, {"xero", "jobber"}) == ["xero", "jobber"]
