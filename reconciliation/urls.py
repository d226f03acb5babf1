from django.urls import path

from . import views

urlpatterns = [
    path(
        "clients/<slug:client_slug>/reconciliations/start/",
        views.reconcile_start,
        name="reconciliation_start",
    ),
    path(
        "clients/<slug:client_slug>/reconciliations/<int:recon_id>/",
        views.report,
        name="reconciliation_report",
    ),
    path(
        "clients/<slug:client_slug>/reconciliations/<int:recon_id>/findings.csv",
        views.report_csv,
        name="reconciliation_csv",
    ),
]
