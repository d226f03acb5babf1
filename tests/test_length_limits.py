"""Free text has a limit said in words: a pasted book is refused with a message, never
half-saved and never a database error."""

from django.urls import reverse

from clients.models import Client, StaffInvitation
from connections.models import ContractorInvitation
from sync.models import ConflictStatus, SyncConflict

LONG_EMAIL = "a" * 60 + "@" + ".".join(["b" * 60] * 4) + ".test"  # 310 characters, well formed


def test_a_client_name_over_200_characters_is_refused_with_a_message(client, two_firms):
    client.force_login(two_firms.owner_a)
    response = client.post(
        reverse("client_create"),
        {"name": "R" * 201, "timezone": "America/Chicago", "country": "US"},
    )
    assert response.status_code == 200
    assert "At most 200 characters; this has 201." in response.content.decode()
    assert not Client.objects.filter(name__startswith="RRR").exists()


def test_a_staff_invitation_to_an_overlong_email_is_refused(client, two_firms):
    client.force_login(two_firms.owner_a)
    response = client.post(reverse("staff_list"), {"email": LONG_EMAIL, "role": "accountant"})
    assert "An email address is at most 254 characters." in response.content.decode()
    assert not StaffInvitation.objects.filter(email=LONG_EMAIL).exists()


def test_a_contractor_link_to_an_overlong_email_is_refused(client, two_firms):
    client.force_login(two_firms.accountant_a)
    response = client.post(
        reverse("contractor_invitation_create", args=[two_firms.client_a.slug]),
        {"email": LONG_EMAIL},
    )
    assert "An email address is at most 254 characters." in response.content.decode()
    assert not ContractorInvitation.objects.exists()


def test_a_sync_decision_note_over_2000_characters_is_refused(client, two_firms):
    conflict = SyncConflict.objects.create(
        client=two_firms.client_a, kind="near_match", crm_type="companies", crm_id="1", reason="r"
    )
    client.force_login(two_firms.accountant_a)
    url = reverse("client_sync_conflict", args=[two_firms.client_a.slug, conflict.pk])
    response = client.post(url, {"decision": "dismiss", "note": "n" * 2001}, follow=True)
    assert "Keep the note under 2,000 characters (2,001 now)." in response.content.decode()
    conflict.refresh_from_db()
    assert conflict.status == ConflictStatus.OPEN and conflict.note == ""
