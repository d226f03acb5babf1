"""The sandbox's own state shared by both emulators: fault plans set through the control API."""

from django.db import models


class FaultConfig(models.Model):
    """Faults to inject for one QuickBooks company or HubSpot portal, deterministic from `seed`."""

    system = models.CharField(max_length=20)
    account = models.CharField(max_length=64)
    seed = models.IntegerField(default=0)
    latency_ms = models.PositiveIntegerField(default=0)
    error_rate = models.FloatField(default=0.0)
    drop_rate = models.FloatField(default=0.0)
    drop_after_commit_rate = models.FloatField(default=0.0)
    throttle = models.BooleanField(default=False)
    ignore_requestid = models.BooleanField(default=False)
    webhook_loss_rate = models.FloatField(default=0.0)
    webhook_duplicate_rate = models.FloatField(default=0.0)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["system", "account"], name="one_fault_plan_per_account")
        ]

    def __str__(self) -> str:
        return f"faults for {self.system} {self.account}"
