"""What the API shows of each object: never a token, money as strings with its currency."""

from drf_spectacular.utils import extend_schema_field, inline_serializer
from rest_framework import serializers

from clients.models import Client
from connections.models import Connection
from reconciliation import lifecycle
from reconciliation.models import Finding, Reconciliation, ReconStatus
from reconciliation.queue import month_totals
from sync.models import SyncConflict, SyncRun


class ClientSerializer(serializers.ModelSerializer):
    class Meta:
        model = Client
        fields = ["slug", "name", "timezone", "country", "created_at"]
        read_only_fields = ["created_at"]
        extra_kwargs = {"slug": {"required": False}}


class ConnectionSerializer(serializers.ModelSerializer):
    client = serializers.SlugRelatedField(slug_field="slug", read_only=True)

    class Meta:
        model = Connection
        fields = [
            "client", "system", "status", "external_id", "external_name", "connected_at",
            "last_success_at", "last_error", "last_error_at",
        ]  # fmt: skip


class SyncRunSerializer(serializers.ModelSerializer):
    client = serializers.SlugRelatedField(slug_field="slug", read_only=True)

    class Meta:
        model = SyncRun
        fields = [
            "id", "client", "kind", "status", "stage", "started_at", "finished_at", "counts",
            "progress_done", "progress_total", "error",
        ]  # fmt: skip


class ConflictSerializer(serializers.ModelSerializer):
    client = serializers.SlugRelatedField(slug_field="slug", read_only=True)

    class Meta:
        model = SyncConflict
        fields = [
            "id", "client", "kind", "status", "crm_type", "crm_id", "accounting_id", "field",
            "crm_value", "accounting_value", "winner", "reason", "created_at", "resolution",
            "note",
        ]  # fmt: skip


class DecisionSerializer(serializers.Serializer):
    decision = serializers.CharField()
    note = serializers.CharField(required=False, allow_blank=True, default="")


class FindingSerializer(serializers.ModelSerializer):
    client = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    months_open = serializers.IntegerField(read_only=True)
    reconciliation = serializers.SerializerMethodField(
        help_text="The run that last changed it; null once that run is deleted."
    )
    amount = serializers.DecimalField(max_digits=14, decimal_places=2, coerce_to_string=True)

    class Meta:
        model = Finding
        fields = [
            "id", "client", "reconciliation", "code", "severity", "amount", "currency",
            "direction", "reason", "deal_id", "invoice_ids", "customer_id", "record_ids",
            "evidence", "fix", "status", "first_period", "last_period", "months_open",
            "resolved_period", "change_note", "fix_error", "fix_failed_at", "decided_at",
            "decision_note",
        ]  # fmt: skip

    def get_reconciliation(self, finding: Finding) -> int | None:
        return finding.reconciliation.pk if finding.reconciliation else None


class DismissSerializer(serializers.Serializer):
    reason = serializers.CharField()


class ApproveSerializer(serializers.Serializer):
    seen = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        help_text="The `digest` of the preview you checked: if what the fix would write "
        "changed since, nothing is written.",
    )
    confirm_above_limit = serializers.BooleanField(
        required=False,
        default=False,
        help_text="The second confirmation, required for a fix above the firm's amount.",
    )


class PreviewLineSerializer(serializers.Serializer):
    item = serializers.CharField()
    quantity = serializers.DecimalField(max_digits=14, decimal_places=4, coerce_to_string=True)
    unit_price = serializers.DecimalField(max_digits=14, decimal_places=2, coerce_to_string=True)
    amount = serializers.DecimalField(max_digits=14, decimal_places=2, coerce_to_string=True)
    new_product = serializers.BooleanField()


class FixPreviewSerializer(serializers.Serializer):
    """What approving the finding's fix will write, read from both systems now."""

    action = serializers.CharField()
    title = serializers.CharField()
    facts = serializers.ListField(child=serializers.ListField(child=serializers.CharField()))
    lines = PreviewLineSerializer(many=True)
    total = serializers.DecimalField(
        max_digits=14, decimal_places=2, coerce_to_string=True, allow_null=True
    )
    currency = serializers.CharField(allow_blank=True)
    txn_date = serializers.DateField(allow_null=True)
    date_words = serializers.CharField(allow_blank=True)
    problems = serializers.ListField(child=serializers.CharField())
    undo_words = serializers.CharField(allow_blank=True)
    large = serializers.BooleanField(help_text="Above the firm's amount: confirm_above_limit.")
    limit = serializers.DecimalField(max_digits=14, decimal_places=2, coerce_to_string=True)
    digest = serializers.CharField(help_text="Send it back as `seen` when approving.")


class ReconciliationSerializer(serializers.ModelSerializer):
    """A run as it is: a failed or unfinished one says so, in words, with no findings figures
    (null, never 0: it compared nothing) and the last run of its month that went through."""

    client = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    failure = serializers.SerializerMethodField(
        help_text="What failed, in words; null unless the run failed."
    )
    error = serializers.SerializerMethodField(help_text="The same as `failure` (older name).")
    open_findings = serializers.SerializerMethodField(
        help_text="Findings open at the month's end; null for a run that did not finish, or "
        "one replaced by a later run of its month (see `replaced_by`)."
    )
    replaced_by = serializers.SerializerMethodField(
        help_text="The later run of the same month whose figures the month now shows; null "
        "for the month's latest run."
    )
    at_stake = serializers.SerializerMethodField(
        help_text="Their amount (books currency); null for a run that did not finish."
    )
    last_good_run = serializers.SerializerMethodField(
        help_text="For a run that did not finish: the latest that did (its month's, else the "
        "client's); null otherwise."
    )
    report_url = serializers.SerializerMethodField()

    class Meta:
        model = Reconciliation
        fields = [
            "id", "client", "period", "status", "stage", "started_at", "finished_at",
            "heartbeat_at", "failure", "error", "not_checked", "counts", "open_findings",
            "at_stake", "replaced_by", "last_good_run", "report_url",
        ]  # fmt: skip

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_failure(self, recon: Reconciliation) -> str | None:
        return recon.error or None if recon.status == ReconStatus.FAILED else None

    @extend_schema_field(serializers.CharField())
    def get_error(self, recon: Reconciliation) -> str:
        return recon.error if recon.status == ReconStatus.FAILED else ""

    @extend_schema_field(serializers.IntegerField(allow_null=True))
    def get_open_findings(self, recon: Reconciliation) -> int | None:
        _figures(recon)
        return recon.found

    @extend_schema_field(serializers.IntegerField(allow_null=True))
    def get_replaced_by(self, recon: Reconciliation) -> int | None:
        _figures(recon)
        return recon.replaced_by[0] if recon.replaced_by else None

    @extend_schema_field(serializers.DecimalField(max_digits=16, decimal_places=2, allow_null=True))
    def get_at_stake(self, recon: Reconciliation) -> str | None:
        _figures(recon)
        return None if recon.at_stake is None else f"{recon.at_stake:.2f}"

    @extend_schema_field(
        inline_serializer(
            "LastGoodRun",
            {
                "id": serializers.IntegerField(),
                "period": serializers.DateField(),
                "status": serializers.CharField(),
                "url": serializers.CharField(),
            },
            allow_null=True,
        )
    )
    def get_last_good_run(self, recon: Reconciliation) -> dict | None:
        if not hasattr(recon, "last_good"):
            recon.last_good = lifecycle.last_good_run(recon)
        good = recon.last_good
        if good is None:
            return None
        return {
            "id": good.pk,
            "period": good.period.isoformat(),
            "status": good.status,
            "url": f"/api/v1/reconciliations/{good.pk}/",
        }

    @extend_schema_field(serializers.CharField())
    def get_report_url(self, recon: Reconciliation) -> str:
        return lifecycle.report_url(recon, recon.client.slug)


def _figures(recon: Reconciliation) -> None:
    """The ledger's view of the run's month, unless the viewset read it for the whole page."""
    if not hasattr(recon, "found"):
        month_totals([recon])


class ReconciliationStartSerializer(serializers.Serializer):
    client = serializers.SlugField()
    period = serializers.RegexField(
        r"(?a)^\d{4}-(0[1-9]|1[0-2])$",
        help_text="YYYY-MM",
        error_messages={"invalid": "Not a month: write it as YYYY-MM, like 2026-11."},
    )
