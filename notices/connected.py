"""Telling the firm that a contractor finished connecting through a link: a notice and an
email to whoever sent the link (else the client's staff), once per completed link."""

import logging

from django.conf import settings
from django.core.mail import send_mail
from django.template.loader import render_to_string
from django.urls import reverse

from clients.models import Membership, User
from clients.names import header_safe
from connections.models import ContractorInvitation
from connections.providers import System

from .actions import notify

log = logging.getLogger(__name__)


def staff_to_tell(invitation: ContractorInvitation) -> list[User]:
    """Who sent the link, if still in the firm; else the client's assigned staff who are."""
    client = invitation.client
    members = Membership.objects.for_firm(client.firm).values("user_id")
    sender = invitation.created_by
    if sender is not None and members.filter(user_id=sender.pk).exists():
        return [sender]
    return list(client.assigned_staff.filter(pk__in=members).order_by("email"))


def connected_words(invitation: ContractorInvitation) -> str:
    """ "Pinecrest Heating connected Jobber and QuickBooks Online; review the import"."""
    uses = invitation.uses.order_by("used_at", "pk")
    systems = " and ".join(System(u.system).label for u in uses)
    return f"{invitation.client.name} connected {systems}; review the import"


def tell_staff(sender=None, *, invitation_id: int, **kwargs) -> None:
    """The receiver of `connections.signals.invitation_completed`."""
    invitation = (
        ContractorInvitation.objects.select_related("client__firm", "created_by")
        .filter(pk=invitation_id, used_at__isnull=False)
        .first()
    )
    if invitation is None:
        return
    client = invitation.client
    staff = staff_to_tell(invitation)
    if not staff:
        return
    text = connected_words(invitation)
    path = reverse("client_detail", args=[client.slug])
    notify(client.firm, staff, text, path)
    context = {
        "text": text,
        "client": client,
        "invitation": invitation,
        "page": settings.PUBLIC_BASE_URL.rstrip("/") + path,
    }
    try:
        send_mail(
            subject=header_safe(text),
            message=render_to_string("notices/email/connected.txt", context),
            from_email=None,
            recipient_list=[u.email for u in staff],
        )
    except OSError:  # the notice is shown; the contractor's page must not fail over it
        log.exception("Could not email staff that invitation %s was completed", invitation.pk)
