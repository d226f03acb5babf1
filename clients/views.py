"""Pages for the firm: dashboard, clients, staff, firm switching and creation.

Every view reads tenant data only through `clients.tenancy` (see `member_required`,
`get_for_firm`, `for_firm`).
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from . import actions
from .forms import (
    ClientForm,
    FirmForm,
    FixConfirmationForm,
    MfaPolicyForm,
    RoleForm,
    StaffInviteForm,
)
from .models import Client, Firm, Membership, MfaPolicy, Role, StaffInvitation
from .tenancy import SESSION_FIRM_KEY, get_client_for_member, get_for_firm, member_required


def _save_client_form(request: HttpRequest, client: Client | None) -> HttpResponse:
    saved_slug = client.slug if client else ""
    form = ClientForm(request.POST or None, instance=client, firm=request.firm)
    if request.method == "POST" and form.is_valid():
        saved = actions.do_save_client(
            request.user, form.save(commit=False), form.cleaned_data["assigned_staff"]
        )
        messages.success(request, f"Saved {saved.name}.")
        return redirect("client_detail", client_slug=saved.slug)
    if client is not None and form.is_bound:
        # The form wrote its invalid values (a blank slug…) onto the instance; the page's
        # title and links show the client as saved.
        client = get_client_for_member(request, saved_slug)
    return render(request, "clients/client_form.html", {"form": form, "client": client})


@member_required(Role.ACCOUNTANT)
def client_create(request: HttpRequest) -> HttpResponse:
    return _save_client_form(request, None)


@member_required(Role.ACCOUNTANT)
def client_edit(request: HttpRequest, client_slug: str) -> HttpResponse:
    return _save_client_form(request, get_client_for_member(request, client_slug))


@member_required()
def staff_list(request: HttpRequest) -> HttpResponse:
    members = Membership.objects.for_firm(request.firm).select_related("user")
    invitations = StaffInvitation.objects.for_firm(request.firm).filter(
        accepted_at__isnull=True, revoked_at__isnull=True
    )
    can_manage = request.membership.has_role(Role.ADMIN)
    form = StaffInviteForm(request.POST or None)
    if request.method == "POST":
        if not can_manage:
            raise PermissionDenied("Only owners and admins may invite staff.")
        if form.is_valid():
            try:
                actions.do_invite_staff(
                    request.membership,
                    form.cleaned_data["email"],
                    form.cleaned_data["role"],
                    request,
                )
            except (ValidationError, PermissionDenied) as error:
                form.add_error(None, " ".join(getattr(error, "messages", [str(error)])))
            else:
                messages.success(request, f"Invitation sent to {form.cleaned_data['email']}.")
                return redirect("staff_list")
    return render(
        request,
        "clients/staff_list.html",
        {
            "members": members.annotate(client_count=Count("user__assigned_clients")),
            "invitations": [i for i in invitations if i.is_open],
            "form": form,
            "can_manage": can_manage,
            "roles": Role.choices,
            "mfa_form": MfaPolicyForm(instance=request.firm),
            "fix_form": FixConfirmationForm(instance=request.firm),
            "is_owner": request.membership.role == Role.OWNER,
        },
    )


@require_POST
@member_required(Role.OWNER)
def mfa_policy_update(request: HttpRequest) -> HttpResponse:
    form = MfaPolicyForm(request.POST, instance=request.firm)
    if form.is_valid():
        actions.do_set_mfa_policy(request.membership, form.cleaned_data["mfa_required"])
        messages.success(
            request,
            "Two-factor authentication is now required for: "
            f"{MfaPolicy(form.cleaned_data['mfa_required']).label.lower()}.",
        )
    else:
        messages.error(request, "Choose who must use two-factor authentication.")
    return redirect("staff_list")


@require_POST
@member_required(Role.OWNER)
def fix_confirmation_update(request: HttpRequest) -> HttpResponse:
    form = FixConfirmationForm(request.POST, instance=Firm(pk=request.firm.pk))
    if form.is_valid():
        amount = form.cleaned_data["confirm_fixes_above"]
        floor = form.cleaned_data["materiality_floor"]
        actions.do_set_fix_confirmation(request.membership, amount, floor)
        said = f"Fixes above {amount:,.2f} now ask a second confirmation."
        if floor is not None:
            said += (
                f" Findings from {floor:,.2f} (or 5 % of a client's monthly revenue) are high "
                "from the next reconciliation."
            )
        messages.success(request, said)
    else:
        for field, errors in form.errors.items():
            label = form.fields[field].label if field in form.fields else field
            messages.error(request, f"{label}: {' '.join(errors)}")
    return redirect("staff_list")


@require_POST
@member_required(Role.ADMIN)
def member_update(request: HttpRequest, membership_id: int) -> HttpResponse:
    membership = get_for_firm(request, Membership, pk=membership_id)
    try:
        if request.POST.get("remove"):
            actions.do_remove_member(request.membership, membership)
            messages.success(request, f"Removed {membership.user.email} from {request.firm}.")
        else:
            form = RoleForm(request.POST, instance=Membership(role=membership.role))
            if not form.is_valid():
                raise ValidationError("Choose a valid role.")
            actions.do_change_role(request.membership, membership, form.cleaned_data["role"])
            messages.success(
                request, f"{membership.user.email} is now {membership.get_role_display()}."
            )
    except (ValidationError, PermissionDenied) as error:
        messages.error(request, " ".join(getattr(error, "messages", [str(error)])))
    return redirect("staff_list")


@require_POST
@member_required(Role.ADMIN)
def invitation_revoke(request: HttpRequest, invitation_id: int) -> HttpResponse:
    invitation = get_for_firm(request, StaffInvitation, pk=invitation_id)
    actions.do_revoke_invitation(request.membership, invitation)
    messages.success(request, f"Invitation to {invitation.email} revoked.")
    return redirect("staff_list")


@login_required
def staff_invitation_accept(request: HttpRequest, token: str) -> HttpResponse:
    invitation = actions.open_invitation(token)
    if invitation is None:
        return render(request, "clients/invitation_invalid.html", status=404)
    if request.method == "POST":
        try:
            membership = actions.do_accept_staff_invitation(request.user, invitation)
        except PermissionDenied:
            return render(
                request, "clients/invitation_invalid.html", {"wrong_email": True}, status=403
            )
        request.session[SESSION_FIRM_KEY] = membership.firm_id
        messages.success(request, f"Welcome to {membership.firm}.")
        return redirect("dashboard")
    if invitation.email.lower() != request.user.email.lower():
        # Say nothing of the firm to someone the invitation was not sent to.
        return render(request, "clients/invitation_invalid.html", {"wrong_email": True}, status=403)
    return render(request, "clients/invitation_accept.html", {"invitation": invitation})


@require_POST
@login_required
def firm_switch(request: HttpRequest) -> HttpResponse:
    try:
        firm_id = int(request.POST.get("firm_id", ""))
    except ValueError:
        firm_id = None
    membership = next((m for m in request.memberships if m.firm_id == firm_id), None)
    if membership is None:
        messages.error(request, "You are not a member of that firm.")
    else:
        request.session[SESSION_FIRM_KEY] = membership.firm_id
        messages.success(request, f"Now working in {membership.firm}.")
    return redirect("dashboard")


@login_required
def firm_create(request: HttpRequest) -> HttpResponse:
    form = FirmForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        firm = actions.do_create_firm(request.user, form.cleaned_data["name"])
        request.session[SESSION_FIRM_KEY] = firm.pk
        messages.success(request, f"Created {firm}. Add your first client.")
        return redirect("dashboard")
    return render(request, "clients/firm_create.html", {"form": form})
