"""State of the HubSpot emulator: portals, OAuth grants, CRM records and webhook setup."""

from django.db import models


class Portal(models.Model):
    """A sandbox HubSpot account (hub); its id is the portal id clients see."""

    name = models.CharField(max_length=200)
    webhook_url = models.URLField(max_length=500, blank=True)
    rate_limits = models.BooleanField(default=True)
    # Webhook event ids come from here so that fault decisions seeded on them repeat.
    event_seq = models.BigIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.name} ({self.pk})"


class AuthorizationCode(models.Model):
    code = models.CharField(max_length=100, unique=True)
    portal = models.ForeignKey(Portal, on_delete=models.CASCADE)
    client_id = models.CharField(max_length=200)
    redirect_uri = models.CharField(max_length=1000)
    scopes = models.JSONField(default=list)
    expires_at = models.DateTimeField()
    used = models.BooleanField(default=False)

    def __str__(self) -> str:
        return f"code for portal {self.portal_id}"


class RefreshToken(models.Model):
    token = models.CharField(max_length=100, unique=True)
    portal = models.ForeignKey(Portal, on_delete=models.CASCADE)
    client_id = models.CharField(max_length=200)
    scopes = models.JSONField(default=list)
    user = models.CharField(max_length=200, default="sandbox-user@example.com")
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"refresh token for portal {self.portal_id}"


class AccessToken(models.Model):
    token = models.CharField(max_length=300, unique=True)
    refresh_token = models.ForeignKey(RefreshToken, on_delete=models.CASCADE)
    expires_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"access token until {self.expires_at}"


class CrmObject(models.Model):
    """One CRM record; its primary key is the HubSpot object id (unique across types)."""

    portal = models.ForeignKey(Portal, on_delete=models.CASCADE)
    object_type = models.CharField(max_length=40)
    properties = models.JSONField(default=dict)
    archived = models.BooleanField(default=False)
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()
    archived_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["portal", "object_type", "archived", "id"]),
            models.Index(fields=["portal", "object_type", "archived", "updated_at"]),
            models.Index(fields=["portal", "object_type", "archived", "created_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.object_type} {self.pk}"


class Association(models.Model):
    """One directed, typed link; each write stores the reverse direction as its own row."""

    portal = models.ForeignKey(Portal, on_delete=models.CASCADE)
    from_type = models.CharField(max_length=40)
    from_id = models.BigIntegerField()
    to_type = models.CharField(max_length=40)
    to_id = models.BigIntegerField()
    category = models.CharField(max_length=40, default="HUBSPOT_DEFINED")
    type_id = models.IntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=[
                    "portal",
                    "from_type",
                    "from_id",
                    "to_type",
                    "to_id",
                    "category",
                    "type_id",
                ],
                name="sbx_hs_assoc_unique",
            )
        ]
        indexes = [models.Index(fields=["portal", "from_type", "from_id", "to_type"])]

    def __str__(self) -> str:
        return f"{self.from_type} {self.from_id} -{self.type_id}-> {self.to_type} {self.to_id}"


class PropertyGroup(models.Model):
    portal = models.ForeignKey(Portal, on_delete=models.CASCADE)
    object_type = models.CharField(max_length=40)
    name = models.CharField(max_length=100)
    label = models.CharField(max_length=200)
    display_order = models.IntegerField(default=-1)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["portal", "object_type", "name"], name="sbx_hs_group_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.object_type} group {self.name}"


class CustomProperty(models.Model):
    portal = models.ForeignKey(Portal, on_delete=models.CASCADE)
    object_type = models.CharField(max_length=40)
    name = models.CharField(max_length=100)
    definition = models.JSONField(default=dict)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["portal", "object_type", "name"], name="sbx_hs_property_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.object_type} property {self.name}"


class WebhookSettings(models.Model):
    """The developer app's webhook target (one row per app id)."""

    app_id = models.CharField(max_length=40, unique=True)
    target_url = models.URLField(max_length=500)
    max_concurrent_requests = models.IntegerField(default=10)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"webhooks of app {self.app_id}"


class WebhookSubscription(models.Model):
    app_id = models.CharField(max_length=40)
    event_type = models.CharField(max_length=80)
    property_name = models.CharField(max_length=100, blank=True)
    active = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"{self.event_type} {self.property_name}".strip()
