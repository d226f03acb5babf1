"""The OAuth round trip: start it with a `state` bound to this browser session and to what
is being connected, and finish it only when that same state comes back.

A state is single-use (popped on return) and names the client, the system, and either the
accountant who started it or the contractor invitation it came from.
"""

import secrets
import time
from dataclasses import dataclass

from django.db import transaction
from django.http import HttpRequest
from django.urls import reverse

from clients.models import Client, Role

from .actions import do_store_connection
from .flows import flow_for
from .invitations import InvitationInvalid, open_invitation, spend
from .models import Connection
from .tokens import OAuthError

SESSION_KEY = "oauth_states"
STATE_LIFETIME_SECONDS = 30 * 60


class ConsentFailed(Exception):
    """The consent did not complete; the message is for the person in front of the page."""


@dataclass(frozen=True)
class Completed:
    connection: Connection
    via_invitation: bool
    invitation_token: str = ""


def redirect_uri(request: HttpRequest, system: str) -> str:
    return request.build_absolute_uri(reverse("oauth_callback", args=[system]))


def begin(request: HttpRequest, client: Client, system: str, *, invitation_token: str = "") -> str:
    """Remember a fresh state in the session and return the provider's authorize URL."""
    state = secrets.token_urlsafe(32)
    states = {
        key: value
        for key, value in request.session.get(SESSION_KEY, {}).items()
        if value["at"] > time.time() - STATE_LIFETIME_SECONDS
    }
    states[state] = {
        "client": client.pk,
        "system": system,
        "invitation": invitation_token,
        "user": request.user.pk if request.user.is_authenticated and not invitation_token else None,
        "at": time.time(),
    }
    request.session[SESSION_KEY] = states
    return flow_for(system).authorize_url(state, redirect_uri(request, system))


def _pop_state(request: HttpRequest, state: str) -> dict | None:
    states = request.session.get(SESSION_KEY, {})
    entry = states.pop(state, None) if state else None
    request.session[SESSION_KEY] = states
    if entry and entry["at"] < time.time() - STATE_LIFETIME_SECONDS:
        return None
    return entry


def _client_for(request: HttpRequest, entry: dict) -> tuple[Client, bool]:
    if entry["invitation"]:
        try:
            invitation = open_invitation(entry["invitation"])
        except InvitationInvalid as error:
            raise ConsentFailed(str(error)) from error
        if invitation.client_id != entry["client"] or entry["system"] not in invitation.systems:
            raise ConsentFailed("This approval does not belong to this invitation.")
        return invitation.client, True
    # Started by an accountant: they must still be a member of the client's firm, with a role
    # that may connect systems, in this same session.
    user = request.user
    if not user.is_authenticated or user.pk != entry["user"] or request.firm is None:
        raise ConsentFailed("Log in as the person who started this connection and try again.")
    client = Client.objects.for_firm(request.firm).filter(pk=entry["client"]).first()
    if client is None or not request.membership.has_role(Role.ACCOUNTANT):
        raise ConsentFailed("This client is not in your current firm.")
    return client, False


def complete(request: HttpRequest, system: str) -> Completed:
    params = request.GET
    entry = _pop_state(request, params.get("state", ""))
    if entry is None or entry["system"] != system:
        raise ConsentFailed(
            "This approval did not start in this browser, was already used, or is too old. "
            "Nothing was changed; please start again."
        )
    client, via_invitation = _client_for(request, entry)
    if params.get("error"):
        denied = params["error"] == "access_denied"
        raise ConsentFailed(
            "You declined the connection, so nothing was changed."
            if denied
            else f"The provider reported an error ({params['error'][:80]}); nothing was changed."
        )
    code = params.get("code", "")
    if not code:
        raise ConsentFailed("The provider sent no authorisation code; nothing was changed.")
    try:
        tokens = flow_for(system).exchange(code, redirect_uri(request, system), params)
    except OAuthError as error:
        raise ConsentFailed(str(error)) from error
    with transaction.atomic():
        connection = do_store_connection(
            client,
            system,
            tokens,
            actor=None if via_invitation else request.user,
            via_invitation=via_invitation,
        )
        if via_invitation:
            # Single use: spent in this same transaction. A second browser completing the
            # same link is refused here and the connection it just stored rolls back.
            try:
                spend(open_invitation(entry["invitation"]), system, connection)
            except InvitationInvalid as error:
                raise ConsentFailed(str(error)) from error
    return Completed(connection, via_invitation, entry["invitation"])
