"""The OAuth round trip: start it with a `state` bound to this browser session and to what
is being connected, and finish it only when that same state comes back.

A state is single-use (popped on return) and names the client, the system, and either the
accountant who started it or the contractor invitation it came from. The callback stores
nothing: it learns from the provider which company the new token is for, checks that it may
be bound to this client (`connections.binding`), and parks the tokens, encrypted, in the
session; a confirmation page saying which company goes to which client stores them
(`finish` → `store`).
"""

import json
import logging
import secrets
import time
from dataclasses import asdict, dataclass, replace

from django.db import IntegrityError, transaction
from django.http import HttpRequest
from django.urls import reverse

from clients.models import Client, Role, User
from syncfirm.crypto import decrypt, encrypt

from .actions import do_release_company, do_set_aside_company, do_store_connection
from .binding import Binding, binding_for
from .binding import Kind as BindingKind
from .flows import flow_for
from .invitations import InvitationInvalid, check_unspent, hold, open_invitation, spend
from .models import Connection
from .providers import System
from .tokens import OAuthError, TokenSet

log = logging.getLogger(__name__)

SESSION_KEY = "oauth_states"
PENDING_KEY = "oauth_pending"  # consents the provider confirmed, waiting for this page's click
DONE_KEY = "oauth_done"  # consents this session stored: a page shown again says so
# How a page names the account each system connects.
COMPANY_WORD = {
    System.QUICKBOOKS: "QuickBooks company",
    System.XERO: "Xero organisation",
    System.HUBSPOT: "HubSpot account",
    System.JOBBER: "Jobber account",
}
STATE_LIFETIME_SECONDS = 30 * 60


class ConsentFailed(Exception):
    """The consent did not complete; the message is for the person in front of the page.
    `entry` is the consent's start (client, system, invitation) when it is known, so the
    page can offer the way back."""

    def __init__(self, message: str, status: int = 400, entry: dict | None = None):
        super().__init__(message)
        self.status = status
        self.entry = entry


class NeedsConfirmation(Exception):
    """Finishing would change or move a company and the page that says so was not confirmed
    (or what it said no longer holds): show it again."""


@dataclass(frozen=True)
class Completed:
    connection: Connection
    via_invitation: bool
    invitation_token: str = ""


@dataclass(frozen=True)
class Pending:
    """A consent the provider confirmed, waiting for the person to confirm it here. Its tokens
    live only in the session, encrypted; the page shows what they are for, never them."""

    key: str
    client: Client
    system: str
    via_invitation: bool
    invitation_token: str
    actor: User | None
    tokens: TokenSet
    binding: Binding

    @property
    def label(self) -> str:
        return COMPANY_WORD[self.system]


def redirect_uri(request: HttpRequest, system: str) -> str:
    return request.build_absolute_uri(reverse("oauth_callback", args=[system]))


def _live(entries: dict) -> dict:
    return {k: v for k, v in entries.items() if v["at"] > time.time() - STATE_LIFETIME_SECONDS}


def begin(request: HttpRequest, client: Client, system: str, *, invitation_token: str = "") -> str:
    """Remember a fresh state in the session and return the provider's authorize URL."""
    state = secrets.token_urlsafe(32)
    states = _live(request.session.get(SESSION_KEY, {}))
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
        try:
            check_unspent(invitation, entry["system"])
        except InvitationInvalid as error:
            raise ConsentFailed(str(error)) from error
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


def _binding(client: Client, system: str, tokens: TokenSet, via_invitation: bool) -> Binding:
    if not tokens.external_id and tokens.choices:
        return Binding(BindingKind.CHOOSE)  # decided once the person picks one of them
    return binding_for(
        client, system, tokens.external_id, COMPANY_WORD[system], via_invitation=via_invitation
    )


def complete(request: HttpRequest, system: str) -> str:
    """The provider's callback: exchange the code, learn from the provider which company the
    new token is for, check it may be bound to this client, and park the tokens for the
    confirmation page. Returns the pending consent's key; nothing is stored yet."""
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
            else f"The provider reported an error ({params['error'][:80]}); nothing was changed.",
            entry={"client": client.slug, "invitation": entry["invitation"]},
        )
    code = params.get("code", "")
    if not code:
        raise ConsentFailed("The provider sent no authorisation code; nothing was changed.")
    try:
        tokens = flow_for(system).exchange(code, redirect_uri(request, system), params)
    except OAuthError as error:
        raise ConsentFailed(str(error)) from error
    binding = _binding(client, system, tokens, via_invitation)
    if binding.kind == BindingKind.REFUSED:
        log.warning("Consent refused: %s %s is bound elsewhere", system, tokens.external_id)
        raise ConsentFailed(binding.reason, status=409)
    key = secrets.token_urlsafe(24)
    _park(request, key, entry, tokens)
    return key


def _park(request: HttpRequest, key: str, entry: dict, tokens: TokenSet) -> None:
    pending = _live(request.session.get(PENDING_KEY, {}))
    pending[key] = entry | {"at": time.time(), "tokens": encrypt(json.dumps(asdict(tokens)))}
    request.session[PENDING_KEY] = pending


def pending_consent(request: HttpRequest, key: str) -> Pending:
    """The parked consent `key` of this session, checked again (the invitation still open,
    the accountant still in the firm) and its binding decided afresh."""
    entry = _live(request.session.get(PENDING_KEY, {})).get(key)
    if entry is None:
        raise ConsentFailed(
            "This approval is too old or was already used. Nothing was changed; please start again."
        )
    client, via_invitation = _client_for(request, entry)
    tokens = TokenSet(**json.loads(decrypt(entry["tokens"])))
    return Pending(
        key=key,
        client=client,
        system=entry["system"],
        via_invitation=via_invitation,
        invitation_token=entry["invitation"],
        actor=None if via_invitation else request.user,
        tokens=tokens,
        binding=_binding(client, entry["system"], tokens, via_invitation),
    )


def choose(request: HttpRequest, key: str, account_id: str) -> Pending:
    """The person picked which of the token's companies is this client's. Only one the
    provider listed for this very token counts (the browser can send any id); the choice is
    then checked like a company the provider named itself, and parked for confirmation."""
    pending = pending_consent(request, key)
    names = {choice[0]: choice[1] for choice in pending.tokens.choices}
    if pending.binding.kind != BindingKind.CHOOSE or account_id not in names:
        discard(request, key)
        log.warning("Consent refused: %s %r was not offered", pending.system, account_id[:64])
        raise ConsentFailed(
            f"That {pending.label} is not one this approval reached, so nothing was "
            "connected. Please start again."
        )
    tokens = replace(
        pending.tokens, external_id=account_id, external_name=names[account_id], choices=[]
    )
    binding = _binding(pending.client, pending.system, tokens, pending.via_invitation)
    if binding.kind == BindingKind.REFUSED:
        discard(request, key)
        log.warning("Consent refused: %s %s is bound elsewhere", pending.system, account_id)
        raise ConsentFailed(binding.reason, status=409)
    entry = request.session[PENDING_KEY][key]
    _park(request, key, entry, tokens)
    return replace(pending, tokens=tokens, binding=binding)


def discard(request: HttpRequest, key: str) -> None:
    pending = request.session.get(PENDING_KEY, {})
    pending.pop(key, None)
    request.session[PENDING_KEY] = pending


def finish(request: HttpRequest, key: str, confirmed: str = "") -> Completed:
    """The person confirmed the page: store the connection. A change or move of company needs
    `confirmed` to name it and what it acts on (`Binding.confirmation`), so only a page that
    said so, and still says so, can do it."""
    pending = pending_consent(request, key)
    if pending.binding.kind == BindingKind.REFUSED:
        discard(request, key)
        raise ConsentFailed(pending.binding.reason, status=409)
    if pending.binding.kind == BindingKind.CHOOSE or (
        pending.binding.needs_confirmation and confirmed != pending.binding.confirmation
    ):
        raise NeedsConfirmation()
    try:
        connection = store(pending)
    except ConsentFailed:
        discard(request, key)
        raise
    discard(request, key)  # single use
    done = _live(request.session.get(DONE_KEY, {}))
    done[key] = {
        "at": time.time(),
        "system": pending.system,
        "client": pending.client.slug,
        "invitation": pending.invitation_token,
    }
    request.session[DONE_KEY] = done
    return Completed(connection, pending.via_invitation, pending.invitation_token)


def already_stored(request: HttpRequest, key: str) -> dict | None:
    """How consent `key` was stored by this session a moment ago (its system, client and
    invitation), or None: the confirmation page shown again after it (the back button)
    says so."""
    return _live(request.session.get(DONE_KEY, {})).get(key)


def _hold_invitation(pending: Pending) -> None:
    """Single use: lock the link first, so a second browser confirming the same link waits
    for the first and is then refused with the link's own words, before anything is stored."""
    try:
        hold(open_invitation(pending.invitation_token), pending.system)
    except InvitationInvalid as error:
        raise ConsentFailed(str(error)) from error


def store(pending: Pending) -> Connection:
    """The one place a consented connection is finally stored, in one transaction: the
    company taken from the firm's other client if staff confirmed that, the old company's
    data set aside if it changed, then the tokens saved."""
    client, system, tokens = pending.client, pending.system, pending.tokens
    binding = pending.binding
    try:
        with transaction.atomic():
            if pending.via_invitation:
                _hold_invitation(pending)
            # The client's connection row is the lock two consents for it queue on; what the
            # page said is decided again under it, and a difference is shown, not stored.
            Connection.objects.select_for_update().filter(client=client, system=system).first()
            if _binding(client, system, tokens, pending.via_invitation) != binding:
                raise NeedsConfirmation()
            if binding.kind == BindingKind.MOVE:
                holder = Connection.objects.get(client_id=binding.holder.client_id, system=system)
                do_release_company(pending.actor, holder, client)
            if binding.previous_id and binding.previous_id != tokens.external_id:
                previous = Connection.objects.get(client=client, system=system)
                do_set_aside_company(
                    pending.actor,
                    client,
                    system,
                    old_id=previous.external_id,
                    old_name=previous.external_name,
                    new_id=tokens.external_id,
                    new_name=tokens.external_name,
                )
            connection = do_store_connection(
                client,
                system,
                tokens,
                actor=pending.actor,
                via_invitation=pending.via_invitation,
            )
            if pending.via_invitation:
                # Single use: spent in this same transaction (held above, so it cannot fail).
                spend(open_invitation(pending.invitation_token), system, connection)
            return connection
    except IntegrityError as error:
        # Another consent bound the same company a moment ago (the constraint decides races).
        raise ConsentFailed(
            f"This {pending.label} was connected to another client a moment ago, so nothing "
            "was stored. Please check the client page and start again if needed.",
            status=409,
        ) from error
