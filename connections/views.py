"""Connecting a client's systems: the accountant's panel, the contractor's invitation page,
the OAuth round trip, and disconnecting."""

import logging
from dataclasses import dataclass

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from clients.models import Role
from clients.tenancy import get_client_for_member, get_for_firm, member_required

from . import consent, set_aside
from .actions import do_disconnect
from .binding import Kind as BindingKind
from .binding import previous_of
from .invitations import (
    InvitationInvalid,
    check_unspent,
    chosen_systems,
    do_create_invitation,
    do_revoke_invitation,
    invitation_path,
    load_invitation,
    open_invitation,
    open_link_to,
    send_invitation,
    still_open_message,
)
from .models import Connection, ContractorInvitation, InvitationUse
from .providers import PROVIDERS, System
from .status import ConnectionRow, connection_rows, panel_context
from .tokens import OAuthError

EMAIL_MAX = ContractorInvitation._meta.get_field("email").max_length  # 254: RFC 5321's path

log = logging.getLogger(__name__)


def _system(system: str) -> str:
    if system not in PROVIDERS:
        raise Http404("Unknown system.")
    return system


def _panel(request: HttpRequest, client, **extra) -> HttpResponse:
    context = {"client": client, **panel_context(client), **extra}
    response = render(request, "connections/partials/panel.html", context)
    response["Vary"] = "HX-Request"
    return response


@require_GET
@member_required()
def connection_panel(request: HttpRequest, client_slug: str) -> HttpResponse:
    """The connections panel of the client page; polled so new consents show without reload."""
    return _panel(request, get_client_for_member(request, client_slug))


@require_POST
@member_required(Role.ACCOUNTANT)
def invitation_create(request: HttpRequest, client_slug: str) -> HttpResponse:
    client = get_client_for_member(request, client_slug)
    email = request.POST.get("email", "").strip()
    offered = bool(request.POST.get("systems_offered"))
    ticked = request.POST.getlist("systems")

    def refused(error: str, **extra) -> HttpResponse:
        """The panel again with the error and what was typed and ticked, kept."""
        kept = {"invite_email": email[: EMAIL_MAX + 1]}
        if offered:
            kept["invite_systems"] = ticked
        return _panel(request, client, invite_error=error, **kept, **extra)

    if len(email) > EMAIL_MAX:
        return refused(f"An email address is at most {EMAIL_MAX} characters.")
    if email:
        try:
            validate_email(email)
        except ValidationError:
            return refused("Enter a valid email address.")
    try:
        systems = chosen_systems(offered, ticked)
    except InvitationInvalid as error:
        return refused(str(error))
    if still_open := open_link_to(client, email):
        return refused(still_open_message(still_open), still_open=still_open)
    invitation = do_create_invitation(request.user, client, email=email, systems=systems)
    url = request.build_absolute_uri(invitation_path(invitation))
    if email:
        send_invitation(invitation, url)
    return _panel(request, client, invitation_url=url, invitation_sent_to=email)


@require_POST
@member_required(Role.ACCOUNTANT)
def invitation_resend(
    request: HttpRequest, client_slug: str, contractor_invitation_id: int
) -> HttpResponse:
    """Email a link that is still open to its address again (the same link, not a new one)."""
    client, invitation = _sent_link(request, client_slug, contractor_invitation_id)
    if not invitation.email or not invitation.is_open:
        refused = "That link can no longer be sent (used, withdrawn or expired): make a new one."
        return _links_said(request, client, refused, messages.error, links_notice=refused)
    url = request.build_absolute_uri(invitation_path(invitation))
    send_invitation(invitation, url)
    return _links_said(
        request, client, f"The open link was sent to {invitation.email} again.",
        invitation_url=url, invitation_sent_to=invitation.email,
    )  # fmt: skip


@require_POST
@member_required(Role.ACCOUNTANT)
def invitation_revoke(
    request: HttpRequest, client_slug: str, contractor_invitation_id: int
) -> HttpResponse:
    """Withdraw a contractor's link from the client page's list of sent links."""
    client, invitation = _sent_link(request, client_slug, contractor_invitation_id)
    do_revoke_invitation(request.user, invitation)
    done = f"Link to {invitation.email or 'the contractor'} withdrawn."
    return _links_said(request, client, done, links_notice=done)


def _sent_link(request: HttpRequest, client_slug: str, invitation_id: int):
    """The client and one of its contractor links, this firm's only (another's is a 404)."""
    client = get_client_for_member(request, client_slug)
    return client, get_for_firm(request, ContractorInvitation, pk=invitation_id, client=client)


def _links_said(request: HttpRequest, client, words: str, say=messages.success, **panel):
    """An action on a sent link told where it was taken: the panel swapped in place (htmx),
    else the client page with `words` on top."""
    if request.htmx:
        return _panel(request, client, **panel)
    say(request, words)
    return redirect("client_detail", client_slug=client.slug)


@require_POST
@member_required(Role.ACCOUNTANT)
def connect_direct(request: HttpRequest, client_slug: str, system: str) -> HttpResponse:
    """The accountant connects (or reconnects) a system themselves."""
    client = get_client_for_member(request, client_slug)
    try:
        return redirect(consent.begin(request, client, _system(system)))
    except OAuthError as error:
        messages.error(request, f"Could not start the connection: {error}")
        return redirect("client_detail", client_slug=client.slug)


@require_POST
@member_required(Role.ACCOUNTANT)
def disconnect(request: HttpRequest, client_slug: str, system: str) -> HttpResponse:
    client = get_client_for_member(request, client_slug)
    connection = get_for_firm(request, Connection, client=client, system=_system(system))
    warning = do_disconnect(request.user, connection)
    if warning:
        messages.warning(request, f"Disconnected; the tokens are deleted. {warning}")
    else:
        messages.success(request, f"Disconnected {connection.get_system_display()}.")
    return redirect("client_detail", client_slug=client.slug)


def _link_refused(request: HttpRequest, error: InvitationInvalid) -> HttpResponse:
    """The clear page for a link that cannot connect anything: why, and whom to ask."""
    context = {"heading": error.heading, "reason": str(error), "hide_login": True}
    return render(request, "connections/invitation_invalid.html", context, status=error.status)


@dataclass(frozen=True)
class ContractorRow:
    """One system the link names: its connection now, and its use through this link."""

    row: ConnectionRow
    use: InvitationUse | None


def _contractor_page(
    request: HttpRequest, invitation: ContractorInvitation, token: str, template: str
) -> HttpResponse:
    uses = {u.system: u for u in invitation.uses.all()}
    rows = [
        ContractorRow(r, uses.get(r.provider.system))
        for r in connection_rows(invitation.client)
        if r.provider.system in invitation.systems
    ]
    context = {
        "invitation": invitation,
        "client": invitation.client,
        "firm": invitation.client.firm,
        "rows": rows,
        "waiting": [r for r in rows if r.use is None and not r.row.connected],
        "token": token,
        "hide_login": True,  # contractors never have an account
    }
    return render(request, template, context)


@require_GET
def contractor_invitation(request: HttpRequest, token: str) -> HttpResponse:
    """The contractor's page: who asks, for which client, which systems and what access; a
    consent button only for a system not yet connected through this link; no login."""
    try:
        invitation = open_invitation(token)
    except InvitationInvalid as error:
        return _link_refused(request, error)
    return _contractor_page(request, invitation, token, "connections/contractor_invitation.html")


@require_POST
def contractor_connect(request: HttpRequest, token: str, system: str) -> HttpResponse:
    try:
        invitation = open_invitation(token)
        check_unspent(invitation, _system(system))
    except InvitationInvalid as error:
        return _link_refused(request, error)
    try:
        return redirect(consent.begin(request, invitation.client, system, invitation_token=token))
    except OAuthError as error:
        return render(
            request,
            "connections/consent_failed.html",
            {"reason": f"{error} Please try again later.", "system": System(system).label},
            status=503,
        )


@require_GET
def contractor_done(request: HttpRequest, token: str) -> HttpResponse:
    """The thank-you page after a consent: which company each system is connected to. It
    stays readable once the link is used up (it has no consent button)."""
    try:
        invitation = load_invitation(token)
    except InvitationInvalid as error:
        return _link_refused(request, error)
    return _contractor_page(request, invitation, token, "connections/contractor_done.html")


def _consent_failed(request: HttpRequest, system: str, error: consent.ConsentFailed, pending=None):
    log.info("OAuth consent for %s did not complete: %s", system, error)
    context = {
        "reason": str(error),
        "system": System(system).label,
        "account_word": PROVIDERS[system].account_word.lower(),
    }
    if pending is not None:  # a way back to choose another company, not a dead end
        if pending.via_invitation:
            back = reverse("contractor_invitation", args=[pending.invitation_token])
            context |= {"back": back, "hide_login": True}
        else:
            context["back"] = reverse("client_detail", args=[pending.client.slug])
    elif error.entry:  # declined at the provider: back to where it started, to try again
        if error.entry["invitation"]:
            back = reverse("contractor_invitation", args=[error.entry["invitation"]])
            context |= {"back": back, "back_label": "Back to the invitation", "hide_login": True}
        else:
            back = reverse("client_detail", args=[error.entry["client"]])
            context |= {"back": back, "back_label": "Back to the client"}
    return render(request, "connections/consent_failed.html", context, status=error.status)


def _already_connected(request: HttpRequest, system: str, done: dict) -> HttpResponse:
    """The confirmation page again after it connected (the back button): say it is done."""
    label = System(system).label
    if done["invitation"]:
        messages.info(request, f"{label} is already connected through this link.")
        return redirect("contractor_done", token=done["invitation"])
    messages.info(request, f"{label} is already connected.")
    return redirect("client_detail", client_slug=done["client"])


@require_GET
def oauth_callback(request: HttpRequest, system: str) -> HttpResponse:
    """The provider sends the person back here; nothing is stored until they confirm."""
    system = _system(system)
    try:
        key = consent.complete(request, system)
    except consent.ConsentFailed as error:
        return _consent_failed(request, system, error)
    return redirect("oauth_confirm", system=system, key=key)


def _after(request: HttpRequest, pending: consent.Pending) -> HttpResponse:
    if pending.via_invitation:
        return redirect("contractor_invitation", token=pending.invitation_token)
    return redirect("client_detail", client_slug=pending.client.slug)


def _choose(request: HttpRequest, pending: consent.Pending) -> HttpResponse:
    """The token reaches several companies (Xero organisations ticked together): which one
    is this client's. The choice is then confirmed on the usual page."""
    # Any other press (a confirmation before choosing) stores nothing: choose first.
    if request.method == "POST" and request.POST.get("action") == "choose":
        try:
            consent.choose(request, pending.key, request.POST.get("account", ""))
        except consent.ConsentFailed as error:
            return _consent_failed(request, pending.system, error)
        return redirect("oauth_confirm", system=pending.system, key=pending.key)
    context = {
        "pending": pending,
        "client": pending.client,
        "firm": pending.client.firm,
        "provider": PROVIDERS[pending.system],
        "choices": pending.tokens.choices,
        "hide_login": pending.via_invitation,
    }
    return render(request, "connections/choose.html", context)


@require_http_methods(["GET", "POST"])
def oauth_confirm(request: HttpRequest, system: str, key: str) -> HttpResponse:
    """Which company is about to be connected to which client, and what that will do; one
    click stores it. Changing or moving a company is said in full and confirmed here."""
    system = _system(system)
    if (done := consent.already_stored(request, key)) and done["system"] == system:
        return _already_connected(request, system, done)
    try:
        pending = consent.pending_consent(request, key)
    except consent.ConsentFailed as error:
        return _consent_failed(request, system, error)
    if pending.system != system:
        # The page's words, previous company and set-aside counts are the address's system;
        # what would be stored is the key's. A key under another address is no page.
        raise Http404("No such confirmation.")
    if pending.binding.kind == BindingKind.REFUSED:
        consent.discard(request, key)
        refused = consent.ConsentFailed(pending.binding.reason, 409)
        return _consent_failed(request, system, refused, pending)
    if request.method == "POST" and request.POST.get("action") == "cancel":
        consent.discard(request, key)
        if not pending.via_invitation:
            messages.info(request, "Nothing was connected.")
        return _after(request, pending)
    if pending.binding.kind == BindingKind.CHOOSE:
        return _choose(request, pending)
    unconfirmed = False
    if request.method == "POST":
        try:
            if request.POST.get("action") == "choose":
                # The choice page sent again once a choice was made (the back button):
                # store nothing, show what the confirmation would store.
                raise consent.NeedsConfirmation()
            done = consent.finish(request, key, request.POST.get("confirm", ""))
        except consent.NeedsConfirmation:
            unconfirmed = True  # what the page said no longer holds: show it as it is now
        except consent.ConsentFailed as error:
            return _consent_failed(request, system, error)
        else:
            if done.via_invitation:
                return redirect("contractor_done", token=done.invitation_token)
            name = done.connection.external_name
            messages.success(
                request,
                f"Connected {done.connection.get_system_display()}{f' ({name})' if name else ''}.",
            )
            return redirect("client_detail", client_slug=done.connection.client.slug)
    binding = pending.binding
    previous = previous_of(pending.client, system) if binding.previous_id else None
    changing = bool(previous) and binding.previous_id != pending.tokens.external_id
    context = {
        "pending": pending,
        "client": pending.client,
        "firm": pending.client.firm,
        "binding": binding,
        "provider": PROVIDERS[system],
        "previous": previous,
        "changing": changing,
        "counts": set_aside.counts(pending.client, system) if changing else None,
        "unconfirmed": unconfirmed,
        "hide_login": pending.via_invitation,
    }
    return render(request, "connections/confirm.html", context, status=409 if unconfirmed else 200)
