"""Every change to a connection goes through one function here: atomic and audited.
Token values never enter the audit log."""

import logging
from datetime import timedelta

from django.core.mail import send_mail
from django.db import transaction
from django.db.models import F, Q
from django.template.loader import render_to_string
from django.utils import timezone

from clients.actions import audit
from clients.models import Client, Role, User
from clients.names import header_safe

from . import set_aside
from .flows import flow_for
from .models import CompanyChange, Connection, Status
from .providers import provider
from .tokens import OAuthError, TokenSet

log = logging.getLogger(__name__)


def _public_state(connection: Connection) -> dict:
    return {
        "status": connection.status,
        "external_id": connection.external_id,
        "external_name": connection.external_name,
        "scopes": connection.scopes,
    }


@transaction.atomic
def do_store_connection(
    client: Client,
    system: str,
    tokens: TokenSet,
    *,
    actor: User | None,
    via_invitation: bool,
) -> Connection:
    """Save a fresh authorisation: tokens encrypted, status active, who and when recorded.

    Callers decide first whether this company may be bound here (`connections.binding`); the
    `one_connection_per_company` constraint refuses a company another client holds."""
    connection, _ = Connection.objects.select_for_update().get_or_create(
        client=client, system=system
    )
    before = _public_state(connection)
    now = timezone.now()
    connection.status = Status.ACTIVE
    connection.external_id = tokens.external_id
    connection.external_name = tokens.external_name or connection.external_name
    connection.scopes = tokens.scopes
    connection.access_token = tokens.access_token
    connection.refresh_token = tokens.refresh_token
    connection.access_expires_at = tokens.access_expires_at(now)
    connection.refresh_expires_at = tokens.refresh_expires_at(now)
    connection.connected_by = actor
    connection.connected_via_invitation = via_invitation
    connection.connected_at = now
    connection.last_success_at = now
    connection.last_error = ""
    connection.last_error_at = None
    connection.reauth_alert_sent_at = None
    connection.save()
    after = _public_state(connection) | {"via_invitation": via_invitation}
    audit(client.firm, actor, "connection.connect", connection, before, after)
    return connection


def _revoke_locally(connection: Connection) -> None:
    """Mark the connection revoked and forget its tokens (the caller saves it)."""
    connection.status = Status.REVOKED
    connection.access_token = ""
    connection.refresh_token = ""
    connection.access_expires_at = None
    connection.refresh_expires_at = None


def do_release_company(actor: User, connection: Connection, to_client: Client) -> None:
    """Another client of the same firm takes this connection's company (staff confirmed it):
    this connection stops holding it. Tokens are deleted here but not revoked at the
    provider, where the company's new connection lives on a grant of the same app."""
    connection = Connection.objects.select_for_update().get(pk=connection.pk)
    before = _public_state(connection)
    _revoke_locally(connection)
    connection.last_error = f"This company was moved to {to_client.name}."
    connection.last_error_at = timezone.now()
    connection.save()
    after = _public_state(connection) | {"moved_to_client": to_client.pk}
    audit(connection.client.firm, actor, "connection.company_moved_away", connection, before, after)


def do_set_aside_company(
    actor: User,
    client: Client,
    system: str,
    *,
    old_id: str,
    old_name: str,
    new_id: str,
    new_name: str,
) -> CompanyChange:
    """The client's `system` now points at another company: set aside everything that was
    about the old pair of companies, keeping it as history on a `CompanyChange`.

    Links and the mirror are deleted from the live tables (archived first): the next sync
    matches against the new company from scratch instead of calling old links "unchanged",
    and reconciliation reads no invoice id of the old books. Open findings and review items
    are closed with a note; every finding's fingerprint is retired, so neither an old
    dismissal nor a set-aside finding can hide the same deal's problem in the new books.
    Automatic sync waits for a new historical-import preview (decision 0006): nothing is
    created in the new books behind the accountant's back.
    """
    now = timezone.now()
    change = CompanyChange.objects.create(
        client=client,
        system=system,
        old_external_id=old_id,
        old_external_name=old_name,
        new_external_id=new_id,
        new_external_name=new_name,
        actor=actor,
        at=now,
        counts=set_aside.counts(client, system),
    )
    note = (
        f"Set aside: {client.name}'s {provider(system).label} company changed from "
        f"{old_name or old_id} to {new_name or new_id}."
    )
    change.archive = set_aside.set_aside(
        set_aside.Change(
            client, system, actor, now, note, change.pk, set_aside.books_change(system)
        )
    )
    change.save(update_fields=["archive"])
    audit(
        client.firm,
        actor,
        "connection.change_company",
        change,
        {"external_id": old_id, "external_name": old_name},
        {"external_id": new_id, "external_name": new_name, "set_aside": change.counts},
    )
    return change


def do_disconnect(actor: User, connection: Connection) -> str | None:
    """Revoke at the provider, then delete the tokens. Returns a warning if the provider did
    not confirm the revocation (the tokens are deleted either way)."""
    warning = None
    if connection.refresh_token:
        try:
            flow_for(connection.system).revoke(connection.refresh_token)
        except OAuthError as error:
            warning = str(error)
            log.warning("Revocation of connection %s not confirmed: %s", connection.pk, error)
    with transaction.atomic():
        connection = Connection.objects.select_for_update().get(pk=connection.pk)
        before = _public_state(connection)
        _revoke_locally(connection)
        connection.save()
        audit(
            connection.client.firm,
            actor,
            "connection.disconnect",
            connection,
            before,
            _public_state(connection),
        )
    return warning


def alert_recipients(client: Client) -> list[str]:
    """Assigned staff, or the firm's owners when nobody is assigned."""
    emails = list(client.assigned_staff.values_list("email", flat=True))
    if not emails:
        emails = list(
            client.firm.memberships.filter(role=Role.OWNER).values_list("user__email", flat=True)
        )
    return sorted(set(emails))


def do_mark_needs_reauth(connection: Connection, reason: str) -> None:
    """The provider refused the saved authorisation: show it, and email staff once."""
    with transaction.atomic():
        connection = (
            Connection.objects.select_for_update()
            .select_related("client__firm")
            .get(pk=connection.pk)
        )
        before = _public_state(connection)
        connection.status = Status.NEEDS_REAUTH
        connection.access_token = ""
        connection.access_expires_at = None
        connection.last_error = reason
        connection.last_error_at = timezone.now()
        first_alert = connection.reauth_alert_sent_at is None
        if first_alert:
            connection.reauth_alert_sent_at = timezone.now()
        connection.save()
        audit(
            connection.client.firm,
            None,
            "connection.needs_reauth",
            connection,
            before,
            _public_state(connection),
        )
    if first_alert:
        client = connection.client
        context = {"connection": connection, "client": client, "reason": reason}
        send_mail(
            subject=header_safe(
                f"{client.name}: {connection.get_system_display()} needs to be reconnected"
            ),
            message=render_to_string("connections/email/needs_reauth.txt", context),
            from_email=None,
            recipient_list=alert_recipients(client),
        )


def record_error(connection: Connection, message: str) -> None:
    Connection.objects.filter(pk=connection.pk).update(
        last_error=message[:2000], last_error_at=timezone.now()
    )


SUCCESS_GRAIN = timedelta(seconds=30)


def record_success(connection: Connection) -> None:
    """Stamp the connection's last answered call. A run makes hundreds of calls: the row is
    written when the stamp is older than SUCCESS_GRAIN, or older than the last error (health
    reads "answered since it failed" from the two), not on every call. The condition is
    asked of the database on every call (one UPDATE matching no row, mostly): a memo in
    the process skipped it for a few seconds, but missed another worker's error recorded
    meanwhile and remembered stamps rolled back with their transaction (an attack, 6 Dec)."""
    now = timezone.now()
    Connection.objects.filter(pk=connection.pk).filter(
        Q(last_success_at__isnull=True)
        | Q(last_success_at__lt=now - SUCCESS_GRAIN)
        | Q(last_error_at__gte=F("last_success_at"))
    ).update(last_success_at=now)
