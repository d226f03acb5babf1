"""The REST API (/api/v1/): the same objects, roles and decisions as the pages, for firms that
automate. Every queryset is the request's firm's (`.for_firm`), as the pages'."""

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import QuerySet
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from clients import actions
from clients.forms import ClientForm
from clients.models import Client, Role
from connections.models import Connection
from reconciliation.fixes import (
    FixRefused,
    do_approve,
    do_dismiss,
    do_retry,
    do_undo_fix,
    preview,
)
from reconciliation.lifecycle import RetryRefused, attach_last_good, do_start, end_dead
from reconciliation.models import Finding, Reconciliation
from reconciliation.periods import PeriodRefused
from reconciliation.queue import month_totals
from reconciliation.run import client_period
from sync.models import SyncConflict, SyncRun
from sync.review import DecisionRefused, do_resolve_conflict

from . import serializers as s
from .firm import FirmRole, membership_for


class FirmScoped:
    permission_classes = [FirmRole]
    filters: dict[str, str] = {}  # query parameter → ORM lookup

    def firm(self):
        return membership_for(self.request).firm

    def scoped(self, model) -> QuerySet:
        return model.objects.for_firm(self.firm())

    def filtered(self, queryset: QuerySet) -> QuerySet:
        for param, lookup in self.filters.items():
            value = self.request.query_params.get(param)
            if not value:
                continue
            message = f"“{value[:40]}” is not a valid {param}."
            if lookup.endswith("_id"):
                if not (value.isascii() and value.isdigit()):
                    raise ValidationError({param: f"{message} It is a number (an id)."})
                if len(value) > 18:  # past any id; SQLite would overflow on it
                    queryset = queryset.none()
                    continue
            try:
                queryset = queryset.filter(**{lookup: value})
            except (ValueError, TypeError, DjangoValidationError) as error:
                raise ValidationError({param: message}) from error
        return queryset


class ClientViewSet(
    FirmScoped, mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin,
    viewsets.GenericViewSet,
):  # fmt: skip
    queryset = Client.objects.for_firm(None)  # for the schema; requests use get_queryset
    serializer_class = s.ClientSerializer
    lookup_field, lookup_url_kwarg = "slug", "client_slug"

    def get_queryset(self):
        return self.scoped(Client).order_by("name")

    def create(self, request, *args, **kwargs):
        data = request.data.copy()
        data.setdefault("country", "US")  # as the model's default; the form asks for one
        form = ClientForm(data, firm=self.firm())
        if not form.is_valid():
            raise ValidationError(form.errors)
        client = actions.do_save_client(
            request.user, form.save(commit=False), form.cleaned_data["assigned_staff"]
        )
        return Response(s.ClientSerializer(client).data, status=status.HTTP_201_CREATED)


class ConnectionViewSet(FirmScoped, mixins.ListModelMixin, viewsets.GenericViewSet):
    queryset = Connection.objects.for_firm(None)  # for the schema; requests use get_queryset
    serializer_class = s.ConnectionSerializer
    filters = {"client": "client__slug", "system": "system", "status": "status"}

    def get_queryset(self):
        return self.filtered(self.scoped(Connection).select_related("client"))


class SyncRunViewSet(FirmScoped, viewsets.ReadOnlyModelViewSet):
    queryset = SyncRun.objects.for_firm(None)  # for the schema; requests use get_queryset
    serializer_class = s.SyncRunSerializer
    lookup_value_regex = "[0-9]+"
    lookup_url_kwarg = "run_id"
    filters = {"client": "client__slug", "status": "status", "kind": "kind"}

    def get_queryset(self):
        return self.filtered(self.scoped(SyncRun).select_related("client"))


class ConflictViewSet(FirmScoped, viewsets.ReadOnlyModelViewSet):
    queryset = SyncConflict.objects.for_firm(None)  # for the schema; requests use get_queryset
    serializer_class = s.ConflictSerializer
    lookup_value_regex = "[0-9]+"
    lookup_url_kwarg = "conflict_id"
    filters = {"client": "client__slug", "kind": "kind", "status": "status"}

    def get_queryset(self):
        return self.filtered(self.scoped(SyncConflict).select_related("client"))

    @extend_schema(request=s.DecisionSerializer, responses=s.ConflictSerializer)
    @action(detail=True, methods=["post"])
    def decide(self, request, conflict_id=None):
        conflict = self.get_object()  # first: another firm's item is a 404, whatever the body
        given = s.DecisionSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        try:
            do_resolve_conflict(
                request.user,
                conflict,
                given.validated_data["decision"],
                given.validated_data["note"],
            )
        except DecisionRefused as error:
            raise ValidationError({"decision": str(error)}) from error
        conflict.refresh_from_db()
        return Response(s.ConflictSerializer(conflict).data)


class FindingViewSet(FirmScoped, viewsets.ReadOnlyModelViewSet):
    queryset = Finding.objects.for_firm(None)  # for the schema; requests use get_queryset
    serializer_class = s.FindingSerializer
    lookup_value_regex = "[0-9]+"
    lookup_url_kwarg = "finding_id"
    filters = {
        "client": "client__slug",
        "code": "code",
        "status": "status",
        "severity": "severity",
        "reconciliation": "reconciliation_id",
    }

    def get_queryset(self):
        return self.filtered(self.scoped(Finding).select_related("client", "reconciliation"))

    @extend_schema(request=None, responses=s.FixPreviewSerializer)
    @action(detail=True, methods=["get"])
    def preview(self, request, finding_id=None):
        """Exactly what approving (or retrying) the fix writes, with the `digest` to send."""
        finding = self.get_object()
        if not finding.can_decide:
            raise ValidationError({"finding": "This finding was already decided."})
        shown = preview(finding)
        return Response(s.FixPreviewSerializer({**vars(shown), "digest": shown.digest}).data)

    def _run_fix(self, request, do):
        finding = self.get_object()  # first: another firm's finding is a 404, whatever the body
        given = s.ApproveSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        try:
            finding = do(
                request.user,
                finding,
                seen=given.validated_data["seen"],
                confirmed_large=given.validated_data["confirm_above_limit"],
            )
        except FixRefused as error:
            raise ValidationError({"finding": str(error)}) from error
        return Response(s.FindingSerializer(finding).data)

    @extend_schema(request=s.ApproveSerializer, responses=s.FindingSerializer)
    @action(detail=True, methods=["post"])
    def approve(self, request, finding_id=None):
        """Run the fix. A failure leaves the finding open with `fix_error` in words."""
        return self._run_fix(request, do_approve)

    @extend_schema(request=s.ApproveSerializer, responses=s.FindingSerializer)
    @action(detail=True, methods=["post"])
    def retry(self, request, finding_id=None):
        """Run a fix that failed once more."""
        return self._run_fix(request, do_retry)

    @extend_schema(request=None, responses=s.FindingSerializer)
    @action(detail=True, methods=["post"], url_path="undo-fix")
    def undo_fix(self, request, finding_id=None):
        """Void the invoice an approved fix created; the finding is open again."""
        try:
            finding = do_undo_fix(request.user, self.get_object())
        except FixRefused as error:
            raise ValidationError({"finding": str(error)}) from error
        return Response(s.FindingSerializer(finding).data)

    @extend_schema(request=s.DismissSerializer, responses=s.FindingSerializer)
    @action(detail=True, methods=["post"])
    def dismiss(self, request, finding_id=None):
        finding = self.get_object()  # first: another firm's finding is a 404, whatever the body
        given = s.DismissSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        try:
            finding = do_dismiss(request.user, finding, given.validated_data["reason"])
        except FixRefused as error:
            raise ValidationError({"reason": str(error)}) from error
        return Response(s.FindingSerializer(finding).data)


class ReconciliationViewSet(
    FirmScoped, mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin,
    viewsets.GenericViewSet,
):  # fmt: skip
    queryset = Reconciliation.objects.for_firm(None)  # for the schema; requests use get_queryset
    serializer_class = s.ReconciliationSerializer
    lookup_value_regex = "[0-9]+"
    lookup_url_kwarg = "recon_id"
    filters = {"client": "client__slug", "status": "status"}
    write_role = Role.ACCOUNTANT

    def get_queryset(self):
        return self.filtered(self.scoped(Reconciliation).select_related("client"))

    @staticmethod
    def _read(recons: list[Reconciliation]) -> list[Reconciliation]:
        """As the pages read runs: a dead one ended first, figures and last good run for the
        whole page at once."""
        end_dead(recons)
        month_totals(recons)
        attach_last_good(recons)
        return recons

    def list(self, request, *args, **kwargs):
        queryset = self.filter_queryset(self.get_queryset())
        page = self.paginate_queryset(queryset)
        recons = self._read(list(queryset if page is None else page))
        data = self.get_serializer(recons, many=True).data
        return Response(data) if page is None else self.get_paginated_response(data)

    def retrieve(self, request, *args, **kwargs):
        return Response(self.get_serializer(self._read([self.get_object()])[0]).data)

    @extend_schema(
        request=s.ReconciliationStartSerializer,
        responses={
            202: s.ReconciliationSerializer,
            409: OpenApiResponse(description="That month is being reconciled already."),
        },
    )
    def create(self, request, *args, **kwargs):
        given = s.ReconciliationStartSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        client = self.scoped(Client).filter(slug=given.validated_data["client"]).first()
        if client is None:
            raise ValidationError({"client": "No client with this slug in your firm."})
        try:
            month = client_period(client, given.validated_data["period"])
        except PeriodRefused as refused:
            raise ValidationError({"period": [str(refused)]}) from refused
        try:
            recon = do_start(request.user, client, month)  # queued, audited, as the pages do
        except RetryRefused as refused:
            return Response({"detail": str(refused)}, status=status.HTTP_409_CONFLICT)
        return Response(s.ReconciliationSerializer(recon).data, status=status.HTTP_202_ACCEPTED)
