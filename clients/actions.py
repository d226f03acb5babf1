"""Every change to tenancy data goes through one function here: atomic, takes the acting
user, and writes an `AuditEntry` with the values before and after."""

from decimal import Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.text import slugify

from .models import (
    AuditEntry,
    Client,
    Firm,
    Membership,
    MfaPolicy,
    Role,
    StaffInvitation,
    User,
    hash_token,
)
from .names import header_safe, refuse_control_characters

CLIENT_AUDIT_FIELDS = ("name", "slug", "timezone", "country")


def audit(
    firm: Firm, actor: User | None, action: str, obj, before: dict | None, after: dict | None
) -> AuditEntry:
    return AuditEntry.objects.create(
        firm=firm,
        actor=actor,
        action=action,
        object_type=obj._meta.label,
        object_id=str(obj.pk),
        before=before or {},
        after=after or {},
    )


def _client_state(client: Client) -> dict:
    state = {field: getattr(client, field) for field in CLIENT_AUDIT_FIELDS}
    state["assigned_staff"] = sorted(client.assigned_staff.values_list("email", flat=True))
    return state


def unique_slug(base: str, taken: set[str], max_length: int = 60) -> str:
    """`base` slugified, with -2, -3 … appended until it is not in `taken`."""
    root = (slugify(base) or "item")[: max_length - 4]
    slug, n = root, 2
    while slug in taken:
        slug, n = f"{root}-{n}", n + 1
    return slug


@transaction.atomic
def do_create_firm(actor: User, name: str) -> Firm:
    refuse_control_characters(name)
    taken = set(Firm.objects.values_list("slug", flat=True))
    firm = Firm.objects.create(name=name, slug=unique_slug(name, taken))
    membership = Membership.objects.create(firm=firm, user=actor, role=Role.OWNER)
    audit(firm, actor, "firm.create", firm, None, {"name": name, "owner": actor.email})
    audit(firm, actor, "membership.create", membership, None, {"role": Role.OWNER})
    return firm


@transaction.atomic
def do_save_client(actor: User, client: Client, assigned_staff) -> Client:
    """Create or update a client (from a validated form's instance) and audit the change."""
    refuse_control_characters(client.name)  # forms check too; this is the last door
    creating = client.pk is None
    before = None if creating else _client_state(Client.objects.get(pk=client.pk))
    if not client.slug:
        taken = set(Client.objects.for_firm(client.firm).values_list("slug", flat=True))
        client.slug = unique_slug(client.name, taken)
    client.save()
    client.assigned_staff.set(assigned_staff)
    action = "client.create" if creating else "client.update"
    audit(client.firm, actor, action, client, before, _client_state(client))
    return client


def invitation_url(request, token: str) -> str:
    from django.urls import reverse

    return request.build_absolute_uri(reverse("staff_invitation_accept", args=[token]))


@transaction.atomic
def do_invite_staff(actor_membership: Membership, email: str, role: str, request) -> str:
    """Invite `email` to the actor's firm with `role`; emails the link; returns the token."""
    firm = actor_membership.firm
    if role in (Role.OWNER, Role.ADMIN) and actor_membership.role != Role.OWNER:
        raise PermissionDenied("Only an owner may invite owners or admins.")
    email = email.strip().lower()
    if Membership.objects.for_firm(firm).filter(user__email__iexact=email).exists():
        raise ValidationError(f"{email} is already a member of {firm}.")
    pending = StaffInvitation.objects.for_firm(firm).filter(
        email__iexact=email, accepted_at__isnull=True, revoked_at__isnull=True
    )
    if still_open := next((i for i in pending.select_related("invited_by") if i.is_open), None):
        sender = still_open.invited_by.email if still_open.invited_by else "a former member"
        raise ValidationError(
            f"{email} already has a pending invitation to {firm} as "
            f"{still_open.get_role_display().lower()}, sent by {sender} on "
            f"{still_open.created_at:%Y-%m-%d} and valid until {still_open.expires_at:%Y-%m-%d}. "
            "Revoke it under Pending invitations to send a new one."
        )
    token = StaffInvitation.new_token()
    invitation = StaffInvitation.objects.create(
        firm=firm,
        email=email,
        role=role,
        token_hash=hash_token(token),
        invited_by=actor_membership.user,
    )
    audit(
        firm,
        actor_membership.user,
        "staff.invite",
        invitation,
        None,
        {"email": email, "role": role},
    )
    context = {
        "firm": firm,
        "inviter": actor_membership.user,
        "role": invitation.get_role_display(),
        "url": invitation_url(request, token),
        "expires_at": invitation.expires_at,
    }
    transaction.on_commit(
        lambda: send_mail(
            subject=header_safe(f"{firm} invites you to syncfirm"),
            message=render_to_string("clients/email/staff_invitation.txt", context),
            from_email=None,
            recipient_list=[email],
        )
    )
    return token


def open_invitation(token: str) -> StaffInvitation | None:
    invitation = (
        StaffInvitation.objects.select_related("firm").filter(token_hash=hash_token(token)).first()
    )
    return invitation if invitation and invitation.is_open else None


@transaction.atomic
def do_accept_staff_invitation(user: User, invitation: StaffInvitation) -> Membership:
    if invitation.email.lower() != user.email.lower():
        raise PermissionDenied("This invitation was sent to another email address.")
    invitation = StaffInvitation.objects.select_for_update().get(pk=invitation.pk)
    if not invitation.is_open:
        raise ValidationError("This invitation has already been used, revoked or has expired.")
    membership, _ = Membership.objects.get_or_create(
        firm=invitation.firm, user=user, defaults={"role": invitation.role}
    )
    invitation.accepted_at = timezone.now()
    invitation.accepted_by = user
    invitation.save(update_fields=["accepted_at", "accepted_by"])
    audit(invitation.firm, user, "staff.accept", membership, None, {"role": membership.role})
    return membership


def _guard_last_owner(membership: Membership, new_role: str | None) -> None:
    if membership.role == Role.OWNER and new_role != Role.OWNER:
        owners = Membership.objects.for_firm(membership.firm).filter(role=Role.OWNER).count()
        if owners <= 1:
            raise ValidationError("A firm needs at least one owner.")


@transaction.atomic
def do_change_role(actor: Membership, membership: Membership, role: str) -> Membership:
    if actor.role != Role.OWNER and (role == Role.OWNER or membership.role == Role.OWNER):
        raise PermissionDenied("Only an owner may grant or take away the owner role.")
    _guard_last_owner(membership, role)
    before = {"role": membership.role}
    membership.role = role
    membership.save(update_fields=["role"])
    audit(membership.firm, actor.user, "membership.role", membership, before, {"role": role})
    return membership


@transaction.atomic
def do_remove_member(actor: Membership, membership: Membership) -> None:
    if actor.role != Role.OWNER and membership.role == Role.OWNER:
        raise PermissionDenied("Only an owner may remove an owner.")
    _guard_last_owner(membership, None)
    before = {"user": membership.user.email, "role": membership.role}
    audit(membership.firm, actor.user, "membership.remove", membership, before, None)
    membership.delete()


@transaction.atomic
def do_revoke_invitation(actor: Membership, invitation: StaffInvitation) -> None:
    invitation.revoked_at = timezone.now()
    invitation.save(update_fields=["revoked_at"])
    audit(
        invitation.firm, actor.user, "staff.revoke", invitation, {"email": invitation.email}, None
    )


@transaction.atomic
def do_set_fix_confirmation(
    actor: Membership, amount: Decimal, floor: Decimal | None = None
) -> Firm:
    """Above what amount approving a fix asks a second confirmation, and from what amount a
    finding is high (the next reconciliation weighs findings by it); owners only."""
    if actor.role != Role.OWNER:
        raise PermissionDenied("Only an owner may change when fixes need a second confirmation.")
    firm = Firm.objects.select_for_update().get(pk=actor.firm_id)
    before = {"confirm_fixes_above": str(firm.confirm_fixes_above),
              "materiality_floor": str(firm.materiality_floor)}  # fmt: skip
    firm.confirm_fixes_above = amount
    if floor is not None:
        firm.materiality_floor = floor
    firm.save(update_fields=["confirm_fixes_above", "materiality_floor"])
    audit(firm, actor.user, "firm.confirm_fixes_above", firm, before,
          {"confirm_fixes_above": str(amount),
           "materiality_floor": str(firm.materiality_floor)})  # fmt: skip
    return firm


@transaction.atomic
def do_set_mfa_policy(actor: Membership, policy: str) -> Firm:
    """Who in the firm must have two-factor authentication; owners only."""
    if actor.role != Role.OWNER:
        raise PermissionDenied("Only an owner may change who needs two-factor authentication.")
    firm = Firm.objects.select_for_update().get(pk=actor.firm_id)
    before = {"mfa_required": firm.mfa_required}
    firm.mfa_required = MfaPolicy(policy)
    firm.save(update_fields=["mfa_required"])
    audit(firm, actor.user, "firm.mfa_required", firm, before, {"mfa_required": policy})
    return firm
