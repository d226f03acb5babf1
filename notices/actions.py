"""Writing notices: one per person, never for someone outside the firm."""

from collections.abc import Iterable

from django.db.models import QuerySet
from django.utils import timezone

from clients.models import Firm, Membership, User

from .models import TEXT_LIMIT, Notice


def notify(
    firm: Firm, users: Iterable[User], text: str, link: str = "", timezone_name: str = ""
) -> list[Notice]:
    """A notice for each of `users` who is still a member of `firm` (an assigned accountant
    who left the firm is told nothing of it). `link` is a path in this app; `timezone_name`
    the one its time is shown in (the client's it is about)."""
    ids = {u.pk for u in users}
    members = Membership.objects.for_firm(firm).filter(user_id__in=ids).values_list("user_id")
    if not link.startswith("/") or link.startswith("//"):
        link = ""
    return Notice.objects.bulk_create(
        Notice(
            firm=firm,
            user_id=user_id,
            text=text[:TEXT_LIMIT],
            link=link,
            timezone_name=timezone_name,
        )
        for (user_id,) in members.order_by("user_id")
    )


def unread(firm: Firm | None, user: User) -> QuerySet[Notice]:
    return Notice.objects.for_firm(firm).filter(user=user, read_at=None)


def mark_read(firm: Firm, user: User, notice_ids: Iterable[int] | None = None) -> int:
    """Mark the person's notices read (the ones named, or all); how many changed."""
    notices = Notice.objects.for_firm(firm).filter(user=user, read_at=None)
    if notice_ids is not None:
        notices = notices.filter(pk__in=list(notice_ids))
    return notices.update(read_at=timezone.now())
