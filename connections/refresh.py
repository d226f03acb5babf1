"""Access tokens for API calls, refreshed before they expire, exactly once at a time.

The refresh happens under a row lock on the connection: whoever takes the lock first calls
the provider; the others wait, then find a fresh token and use it. Providers rotate refresh
tokens, so two concurrent refreshes would make one of them invalid — the lock prevents it.

The new refresh token is saved in the transaction that holds the lock, as soon as it is
received. When the answer is lost instead, the saved token is kept: Xero keeps a replaced
refresh token valid for 30 minutes, so its flow retries with it at once
(`connections.xero.tokens.refresh`), and a later refresh can still use it.
"""

import logging
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from .actions import do_mark_needs_reauth, record_error
from .flows import flow_for
from .models import Connection, Status
from .tokens import OAuthError, RefreshRefused

log = logging.getLogger(__name__)

# Refresh this long before expiry so a token never expires in the middle of a job.
REFRESH_MARGIN = timedelta(minutes=5)


class ConnectionUnusable(Exception):
    """The connection has no working authorisation; the message says what to do."""


def access_token_for(connection: Connection, *, force: bool = False) -> str:
    """A valid access token, refreshing it first if it expires soon (or `force`, after a 401)."""
    if (
        not force
        and connection.status == Status.ACTIVE
        and connection.access_token_fresh(REFRESH_MARGIN)
    ):
        return connection.access_token
    return refresh(connection, force=force).access_token


TOKEN_FIELDS = (
    "access_token",
    "refresh_token",
    "access_expires_at",
    "refresh_expires_at",
    "status",
)


def refresh(connection: Connection, *, force: bool = False) -> Connection:
    """Refresh under the row lock; the caller's instance gets the new tokens too."""
    locked = _refresh_locked(connection, force=force)
    for name in TOKEN_FIELDS:
        setattr(connection, name, getattr(locked, name))
    return connection


def _refresh_locked(connection: Connection, *, force: bool) -> Connection:
    stale_token = connection.access_token
    try:
        with transaction.atomic():
            locked = Connection.objects.select_for_update().get(pk=connection.pk)
            if locked.status != Status.ACTIVE or not locked.refresh_token:
                raise ConnectionUnusable(
                    f"{locked.get_system_display()} is {locked.get_status_display().lower()}; "
                    "the contractor needs to connect it again."
                )
            someone_else_refreshed = force and locked.access_token != stale_token
            if locked.access_token_fresh(REFRESH_MARGIN) and (not force or someone_else_refreshed):
                return locked
            tokens = flow_for(locked.system).refresh(locked.refresh_token)
            now = timezone.now()
            locked.access_token = tokens.access_token
            locked.refresh_token = tokens.refresh_token
            locked.access_expires_at = tokens.access_expires_at(now)
            if tokens.refresh_expires_in:
                locked.refresh_expires_at = tokens.refresh_expires_at(now)
            locked.last_refreshed_at = now
            locked.last_error = ""
            locked.save()
            return locked
    except RefreshRefused as refused:
        do_mark_needs_reauth(connection, str(refused))
        raise ConnectionUnusable(str(refused)) from refused
    except OAuthError as error:
        record_error(connection, str(error))  # and the next call's success is stamped
        raise


def refresh_expiring_tokens() -> int:
    """Scheduled: refresh every active connection whose access token expires soon."""
    soon = timezone.now() + REFRESH_MARGIN * 2
    due = Connection.objects.filter(status=Status.ACTIVE, access_expires_at__lt=soon)
    refreshed = 0
    for connection in due.iterator():
        try:
            refresh(connection)
            refreshed += 1
        except (ConnectionUnusable, OAuthError) as error:
            log.warning("Refresh of connection %s failed: %s", connection.pk, error)
    return refreshed
