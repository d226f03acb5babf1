"""Notices: what happened that a member of staff should see in the app (a contractor
answered their question), shown in the header until read."""

from django.conf import settings
from django.db import models
from django.utils import timezone

from clients.models import Firm, FirmScopedQuerySet

TEXT_LIMIT = 500


class Notice(models.Model):
    """One thing for one person in one firm, with the page it is about."""

    firm_lookup = "firm"

    firm = models.ForeignKey(Firm, on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    text = models.CharField(max_length=TEXT_LIMIT)
    link = models.CharField(max_length=500, blank=True)  # a path in this app, never a host
    created_at = models.DateTimeField(default=timezone.now)
    # The timezone its time is shown in: the client's it is about ("" for none: the server's).
    timezone_name = models.CharField(max_length=64, blank=True, default="", db_default="")
    read_at = models.DateTimeField(null=True, blank=True)

    objects = FirmScopedQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        # The header's count of a person's unread notices, from the index alone.
        indexes = [models.Index(fields=["user", "firm", "read_at"], name="notice_unread")]

    def __str__(self) -> str:
        return f"{self.user} · {self.text[:40]}"
