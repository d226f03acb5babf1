"""Owners invite staff by email with a role; invitations are single-use and firm-bound."""

import re

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from clients.models import Membership, Role, StaffInvitation

from .factories import UserFactory

pytestmark = pytest.mark.django_db


def invite(client, email: str, role: str = Role.ACCOUNTANT):
    return client.post(reverse("staff_list"), {"email": email, "role": role})


def link_in(message) -> str:
    return re.search(r"http://testserver(/invitations/staff/\S+/)", message.body).group(1)


def test_it_emails_an_invitation_that_joins_the_firm_with_its_role(
    client, two_firms, django_capture_on_commit_callbacks
):
    client.force_login(two_firms.owner_a)
    with django_capture_on_commit_callbacks(execute=True):
        assert invite(client, "New.Person@Example.test", Role.VIEWER).status_code == 302
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["new.person@example.test"]
    link = link_in(mail.outbox[0])

    newcomer = UserFactory(email="new.person@example.test")
    client.force_login(newcomer)
    assert "Alpha Books" in client.get(link).content.decode()
    assert client.post(link).status_code == 302
    membership = Membership.objects.get(user=newcomer)
    assert (membership.firm, membership.role) == (two_firms.firm_a, Role.VIEWER)
    assert "Alpha Secret Roofing" in client.get(reverse("dashboard")).content.decode()
    assert client.post(link).status_code == 404, "an invitation works once"


def test_it_refuses_an_invitation_to_someone_else(client, two_firms):
    client.force_login(two_firms.owner_b)
    response = client.post(f"/invitations/staff/{two_firms.invitation_token_a}/")
    assert response.status_code == 403
    assert not Membership.objects.filter(user=two_firms.owner_b, firm=two_firms.firm_a).exists()


def test_it_sends_anonymous_invitees_to_log_in_first(client, two_firms):
    response = client.get(f"/invitations/staff/{two_firms.invitation_token_a}/")
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))


def test_it_lets_only_owners_invite_admins(client, two_firms):
    Membership.objects.filter(user=two_firms.accountant_a).update(role=Role.ADMIN)
    client.force_login(two_firms.accountant_a)
    response = invite(client, "boss@example.test", Role.OWNER)
    assert "Only an owner" in response.content.decode()
    assert not StaffInvitation.objects.filter(email="boss@example.test").exists()


def test_it_keeps_accountants_from_inviting(client, two_firms):
    client.force_login(two_firms.accountant_a)
    assert invite(client, "x@example.test").status_code == 403


def test_it_rejects_a_bad_email_with_a_field_error(client, two_firms):
    client.force_login(two_firms.owner_a)
    response = invite(client, "not-an-email")
    assert response.status_code == 200
    assert "email" in response.context["form"].errors


def test_it_does_not_invite_an_existing_member(client, two_firms):
    client.force_login(two_firms.owner_a)
    response = invite(client, "accountant@alpha.test")
    assert "already a member" in response.content.decode()


def test_it_changes_roles_but_keeps_the_last_owner(client, two_firms):
    client.force_login(two_firms.owner_a)
    target = Membership.objects.get(user=two_firms.accountant_a)
    client.post(reverse("member_update", args=[target.pk]), {"role": Role.ADMIN})
    target.refresh_from_db()
    assert target.role == Role.ADMIN
    me = Membership.objects.get(user=two_firms.owner_a)
    client.force_login(two_firms.accountant_a)  # now an admin, not an owner
    response = client.post(reverse("member_update", args=[me.pk]), {"remove": "1"}, follow=True)
    assert "Only an owner may remove an owner" in response.content.decode()
    assert Membership.objects.filter(pk=me.pk).exists()


def test_it_refuses_to_demote_the_only_owner(client, two_firms):
    Membership.objects.create(firm=two_firms.firm_a, user=UserFactory(), role=Role.OWNER)
    client.force_login(two_firms.owner_a)
    other = Membership.objects.filter(firm=two_firms.firm_a, role=Role.OWNER).exclude(
        user=two_firms.owner_a
    )[0]
    client.post(reverse("member_update", args=[other.pk]), {"role": Role.VIEWER})
    only_owner = Membership.objects.get(user=two_firms.owner_a)
    response = client.post(
        reverse("member_update", args=[only_owner.pk]), {"role": Role.VIEWER}, follow=True
    )
    assert "at least one owner" in response.content.decode()


def test_it_revokes_an_invitation(client, two_firms):
    client.force_login(two_firms.owner_a)
    client.post(reverse("invitation_revoke", args=[two_firms.invitation_a.pk]))
    client.force_login(UserFactory(email="newhire@alpha.test"))
    assert client.get(f"/invitations/staff/{two_firms.invitation_token_a}/").status_code == 404


def test_it_refuses_a_second_invitation_while_one_is_pending(client, two_firms):
    client.force_login(two_firms.owner_a)
    response = invite(client, "NewHire@alpha.test", Role.VIEWER)
    body = response.content.decode()
    assert response.status_code == 200
    assert (
        "newhire@alpha.test already has a pending invitation to Alpha Books as accountant" in body
    )
    assert "sent by owner@alpha.test" in body and "Revoke it under Pending invitations" in body
    assert 'value="NewHire@alpha.test"' in body, "what was typed stays in the form"
    assert StaffInvitation.objects.filter(email__iexact="newhire@alpha.test").count() == 1
    assert mail.outbox == []


def test_it_invites_again_once_the_pending_invitation_is_revoked(client, two_firms):
    two_firms.invitation_a.revoked_at = timezone.now()
    two_firms.invitation_a.save(update_fields=["revoked_at"])
    client.force_login(two_firms.owner_a)
    assert invite(client, "newhire@alpha.test").status_code == 302
