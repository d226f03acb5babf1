"""What the API shows of each object: never a token, money as strings with its currency."""

from rest_framework import serializers

from clients.models import Client
from connections.models import Connection
from connections.sync.models import SyncConflict, SyncRun
from reconciliation.models import Finding, Reconciliation


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
    client = serializers.SlugRelatedField(slug_field="slug", read_only=True)

    class Meta:
        model = Reconciliation
        fields = [
            "id", "client", "period", "status", "stage", "started_at", "finished_at",
            "counts", "not_checked", "error",
        ]  # fmt: skip


class ReconciliationStartSerializer(serializers.Serializer):
    client = serializers.SlugField()
    period = serializers.RegexField(
        r"(?a)^\d{4}-(0[1-9]|1[0-2])$",
        help_text="YYYY-MM",
        error_messages={"invalid": "Not a month: write it as YYYY-MM, like 2026-11."},
    )
