"""Contractor invitation links: signed, expiring, single-use per system, revocable, usable
without an account.

A link names the systems it may connect. Each of them can be connected once through it: when
a connection completes, `spend` records that system as used (when, and which connection) in
the same transaction that stores the connection; when every system it names is used the whole
link is spent. Staff can withdraw a link from the client page (`do_revoke_invitation`).
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.core.mail import send_mail
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import dateformat, timezone

from clients.actions import audit
from clients.models import Client, User
from clients.names import header_safe
from clients.signed_links import LinkRefused, LinkWithdrawn, linked_row
from clients.signed_links import link_token as signed_token

from .models import INVITATION_LIFETIME, Connection, ContractorInvitation, InvitationUse
from .providers import PROVIDERS, System
from .signals import invitation_completed

SALT = "connections.contractor-invitation"
# The client page lists the links of this period: every link still open is younger.
LISTED_FOR = timedelta(days=30)


class InvitationInvalid(LinkRefused):
    """The link cannot be used; the message says why, in words for the contractor."""


class InvitationWithdrawn(InvitationInvalid, LinkWithdrawn):
    """A genuine link that the firm withdrew."""


class InvitationUsed(InvitationInvalid):
    """A genuine link whose system (or every system) was already connected through it."""

    status = 410
    heading = "This link was already used"


def link_token(invitation: ContractorInvitation) -> str:
    return signed_token(invitation, SALT)


def invitation_path(invitation: ContractorInvitation) -> str:
    return reverse("contractor_invitation", args=[link_token(invitation)])


def _day(moment: datetime, client: Client) -> str:
    """A date as the contractor reads it, in their client's timezone: "4 Dec 2026"."""
    return dateformat.format(timezone.localtime(moment, client.tzinfo), "j M Y")


def used_message(invitation: ContractorInvitation, uses: Iterable[InvitationUse]) -> str:
    client = invitation.client
    done = " and ".join(f"{System(u.system).label} on {_day(u.used_at, client)}" for u in uses)
    return (
        f"This link was already used to connect {done}; ask {client.firm.name} for a new link "
        "if you need to reconnect."
    )


def withdrawn_message(invitation: ContractorInvitation) -> str:
    client = invitation.client
    return (
        f"{client.firm.name} withdrew this link on {_day(invitation.revoked_at, client)}. "
        f"Ask {client.firm.name} for a new link if you still need to connect your systems."
    )


def load_invitation(token: str) -> ContractorInvitation:
    """The invitation a genuine, unexpired, not withdrawn link names (used or not)."""
    invitation = linked_row(
        token,
        ContractorInvitation.objects.select_related("client__firm"),
        SALT,
        expired="This invitation has expired.",
        refused=InvitationInvalid,
    )
    if invitation is None:
        raise InvitationInvalid("This invitation was withdrawn. Ask your bookkeeper for a new one.")
    if invitation.revoked_at is not None:
        raise InvitationWithdrawn(withdrawn_message(invitation))
    if timezone.now() >= invitation.expires_at:
        raise InvitationInvalid("This invitation has expired.")
    return invitation


def open_invitation(token: str) -> ContractorInvitation:
    """The invitation a link names, if it can still connect at least one system."""
    invitation = load_invitation(token)
    if invitation.used_at is not None:
        raise InvitationUsed(used_message(invitation, invitation.uses.all()))
    return invitation


def check_unspent(
    invitation: ContractorInvitation, system: str, uses: Iterable[InvitationUse] | None = None
) -> None:
    """Refuse a system the link does not name or has already connected."""
    if system not in invitation.systems:
        raise InvitationInvalid("This invitation does not cover that system.")
    spent = [u for u in (invitation.uses.all() if uses is None else uses) if u.system == system]
    if spent:
        raise InvitationUsed(used_message(invitation, spent))


def hold(
    invitation: ContractorInvitation, system: str
) -> tuple[ContractorInvitation, list[InvitationUse]]:
    """Lock the invitation's row for this transaction and refuse it if `system` can no longer
    be connected through it (withdrawn, expired or spent); returns it and its uses so far.

    Taken first by the transaction that stores a connection, so of two browsers confirming
    the same link at once the second waits here and is refused before anything else."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("hold() must run in the transaction that stores the connection")
    locked = (
        ContractorInvitation.objects.select_for_update(of=("self",))
        .select_related("client__firm")
        .get(pk=invitation.pk)
    )
    if locked.revoked_at is not None:
        raise InvitationWithdrawn(withdrawn_message(locked))
    if timezone.now() >= locked.expires_at:
        raise InvitationInvalid("This invitation has expired.")
    earlier = list(locked.uses.all())
    check_unspent(locked, system, earlier)
    return locked, earlier


def spend(invitation: ContractorInvitation, system: str, connection: Connection) -> InvitationUse:
    """Record that `system` was connected through the link; refuse if it cannot be.

    Call it inside the transaction that stores the connection. The invitation row is locked,
    so a second browser completing the same link waits here, then finds the system spent:
    `InvitationUsed` is raised and its whole transaction, the connection it stored included,
    rolls back. (The unique constraint on the use row would refuse it even without the lock.)
    """
    locked, earlier = hold(invitation, system)
    now = timezone.now()
    used_before = sorted(u.system for u in earlier)
    use = InvitationUse.objects.create(
        invitation=locked,
        system=system,
        connection=connection,
        external_id=connection.external_id,
        external_name=connection.external_name,
        used_at=now,
    )
    before = {"used_at": None, "systems_used": used_before}
    used = set(used_before) | {system}
    if used >= set(locked.systems):
        locked.used_at = now
        locked.save(update_fields=["used_at"])
        # Under the row lock, so only the use that completes the link gets here: once.
        transaction.on_commit(
            lambda: invitation_completed.send(ContractorInvitation, invitation_id=locked.pk)
        )
    after = {"used_at": locked.used_at and locked.used_at.isoformat(), "systems_used": sorted(used)}
    audit(locked.client.firm, None, "invitation.use", locked, before, after)
    return use


def _public_state(invitation: ContractorInvitation) -> dict:
    return {
        "email": invitation.email,
        "systems": invitation.systems,
        "revoked_at": invitation.revoked_at and invitation.revoked_at.isoformat(),
    }


@transaction.atomic
def do_revoke_invitation(actor: User, invitation: ContractorInvitation) -> ContractorInvitation:
    """Withdraw a link: from now on it shows the contractor a "withdrawn" page."""
    locked = ContractorInvitation.objects.select_for_update(of=("self",)).get(pk=invitation.pk)
    if locked.revoked_at is not None:
        return locked
    before = _public_state(locked)
    locked.revoked_at = timezone.now()
    locked.revoked_by = actor
    locked.save(update_fields=["revoked_at", "revoked_by"])
    audit(invitation.client.firm, actor, "invitation.revoke", locked, before, _public_state(locked))
    return locked


class LinkState:
    OPEN = "open"
    PARTLY_USED = "partly used"
    USED = "used"
    REVOKED = "revoked"
    EXPIRED = "expired"


def link_state(systems: Sequence[str], used: Iterable[str], *, revoked: bool, expired: bool) -> str:
    """Where a link stands, worst news first: withdrawn, then used up, then out of date."""
    used = set(used)
    if revoked:
        return LinkState.REVOKED
    if used >= set(systems):
        return LinkState.USED
    if expired:
        return LinkState.EXPIRED
    return LinkState.PARTLY_USED if used else LinkState.OPEN


@dataclass(frozen=True)
class SentLink:
    """One row of the client page's list of links (the link itself is never shown again)."""

    invitation: ContractorInvitation
    uses: tuple[InvitationUse, ...]
    state: str

    @property
    def system_labels(self) -> list[str]:
        return [System(s).label for s in self.invitation.systems]

    @property
    def can_revoke(self) -> bool:
        return self.state in (LinkState.OPEN, LinkState.PARTLY_USED)


def default_systems(connected: dict[str, bool], known: Iterable[str] = ()) -> list[str]:
    """What a new link offers unless staff choose: the systems not connected yet, or every
    system when all are (a reconnection). One set of books and one CRM: while none of a
    kind is connected, the one the client is `known` to use (a connection it once had, its
    last link) is ticked, else the first of the kind (staff tick another instead)."""
    from .providers import Kind, provider

    known = set(known)
    waiting = [system for system, is_connected in connected.items() if not is_connected]
    for kind in (Kind.ACCOUNTING, Kind.CRM):  # one set of books, one CRM
        of_kind = [s for s in waiting if provider(s).kind == kind]
        keep = next((s for s in of_kind if s in known), of_kind[0] if of_kind else None)
        waiting = [s for s in waiting if s not in of_kind or s == keep]
    return waiting or list(connected)


def known_systems(client: Client) -> set[str]:
    """The systems a client is known to use: any connection it has had, and those its last
    link named."""
    known = set(client.connections.values_list("system", flat=True))
    last = client.invitations.order_by("-created_at", "-pk").values_list("systems", flat=True)
    return known | set(last.first() or ())


def open_link_to(client: Client, email: str) -> ContractorInvitation | None:
    """The client's newest link to `email` that can still connect something, if any."""
    if not email:
        return None
    return (
        client.invitations.filter(
            email__iexact=email,
            revoked_at__isnull=True,
            used_at__isnull=True,
            expires_at__gt=timezone.now(),
        )
        .select_related("created_by")
        .order_by("-created_at", "-pk")
        .first()
    )


def still_open_message(invitation: ContractorInvitation) -> str:
    """Why a second link to the same address is refused, naming the one still open."""
    client = invitation.client
    systems = " and ".join(System(s).label for s in invitation.systems)
    sender = invitation.created_by.email if invitation.created_by else "a former member"
    return (
        f"{invitation.email} already has an open link for {client.name} ({systems}), sent by "
        f"{sender} on {_day(invitation.created_at, client)} and valid until "
        f"{_day(invitation.expires_at, client)}. Send that link again, or revoke it under "
        "Links sent before making a new one."
    )


def chosen_systems(offered: bool, chosen: Sequence[str]) -> list[str] | None:
    """The systems ticked on the invite form, in the usual order; None when the form did not
    offer the choice (every system); `InvitationInvalid` for none or an unknown one."""
    if not offered and not chosen:
        return None
    if not chosen:
        raise InvitationInvalid("Choose at least one system for the link.")
    if unknown := set(chosen) - set(PROVIDERS):
        raise InvitationInvalid(f"Unknown system: {', '.join(sorted(unknown))}.")
    books = [
        PROVIDERS[s].label for s in PROVIDERS if s in chosen and PROVIDERS[s].kind == "accounting"
    ]
    if len(books) > 1:
        raise InvitationInvalid(
            f"A client keeps one set of books: tick {' or '.join(books)}, not both."
        )
    crms = [PROVIDERS[s].label for s in PROVIDERS if s in chosen and PROVIDERS[s].kind == "crm"]
    if len(crms) > 1:
        raise InvitationInvalid(f"A client runs one CRM: tick {' or '.join(crms)}, not both.")
    return [system for system in PROVIDERS if system in chosen]


def sent_invitations(client: Client) -> list[SentLink]:
    """The client's links of the last 30 days, newest first, in two queries whatever their
    number (every link still open is among them: links expire after 7 days)."""
    now = timezone.now()
    invitations = (
        client.invitations.filter(created_at__gte=now - LISTED_FOR)
        .select_related("created_by", "revoked_by")
        .prefetch_related("uses")
        .order_by("-created_at", "-pk")
    )
    rows = []
    for invitation in invitations:
        uses = tuple(invitation.uses.all())
        state = link_state(
            invitation.systems,
            (u.system for u in uses),
            revoked=invitation.revoked_at is not None,
            expired=now >= invitation.expires_at,
        )
        rows.append(SentLink(invitation, uses, state))
    return rows


@transaction.atomic
def do_create_invitation(
    actor: User, client: Client, *, email: str = "", systems: list[str] | None = None
) -> ContractorInvitation:
    """A new link for the client's contractor; earlier open links stay valid until they
    expire, are used or are withdrawn."""
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
