"""Contractor invitation links: signed, expiring, revocable, usable without an account."""

from django.core import signing
from django.core.mail import send_mail
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from clients.actions import audit
from clients.models import Client, User
from clients.names import header_safe

from .models import INVITATION_LIFETIME, ContractorInvitation
from .providers import PROVIDERS

SALT = "connections.contractor-invitation"


class InvitationInvalid(Exception):
    """The link was tampered with, has expired or was revoked; the message says which."""


def link_token(invitation: ContractorInvitation) -> str:
    return signing.dumps({"i": invitation.pk, "n": invitation.nonce}, salt=SALT, compress=True)


def invitation_path(invitation: ContractorInvitation) -> str:
    return reverse("contractor_invitation", args=[link_token(invitation)])


def open_invitation(token: str) -> ContractorInvitation:
    """The invitation a link token names, if it is genuine and still open."""
    try:
        data = signing.loads(token, salt=SALT, max_age=INVITATION_LIFETIME)
    except signing.SignatureExpired as error:
        raise InvitationInvalid("This invitation has expired.") from error
    except signing.BadSignature as error:
        raise InvitationInvalid("This link is not valid. Check it was copied whole.") from error
    invitation = (
        ContractorInvitation.objects.select_related("client__firm")
        .filter(pk=data.get("i"), nonce=data.get("n"))
        .first()
    )
    if invitation is None or invitation.revoked_at is not None:
        raise InvitationInvalid("This invitation was withdrawn. Ask your bookkeeper for a new one.")
    if not invitation.is_open:
        raise InvitationInvalid("This invitation has expired.")
    return invitation


@transaction.atomic
def do_create_invitation(
    actor: User, client: Client, *, email: str = "", systems: list[str] | None = None
) -> ContractorInvitation:
    """A new link for the client's contractor; earlier open links stay valid until they expire."""
    now = timezone.now()
    invitation = ContractorInvitation.objects.create(
        client=client,
        email=email,
        systems=systems or list(PROVIDERS),
        created_by=actor,
        created_at=now,
        expires_at=now + INVITATION_LIFETIME,
    )
    audit(
        client.firm,
        actor,
        "invitation.create",
        invitation,
        None,
        {"email": email, "systems": invitation.systems},
    )
    return invitation


def send_invitation(invitation: ContractorInvitation, url: str) -> None:
    context = {
        "invitation": invitation,
        "client": invitation.client,
        "firm": invitation.client.firm,
        "providers": [PROVIDERS[s] for s in invitation.systems],
        "url": url,
    }
    send_mail(
        subject=header_safe(f"{invitation.client.firm.name} asks you to connect your systems"),
        message=render_to_string("connections/email/contractor_invitation.txt", context),
        html_message=render_to_string("connections/email/contractor_invitation.html", context),
        from_email=None,
        recipient_list=[invitation.email],
    )
    ContractorInvitation.objects.filter(pk=invitation.pk).update(sent_at=timezone.now())
