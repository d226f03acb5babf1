from django.urls import path

from . import close_views, views

urlpatterns = [
    path("review/findings/", views.review_findings, name="review_findings"),
    path(
        "review/findings/<int:finding_id>/approve/", views.finding_approve, name="finding_approve"
    ),
    path(
        "review/findings/<int:finding_id>/dismiss/", views.finding_dismiss, name="finding_dismiss"
    ),
    path("review/findings/<int:finding_id>/undo/", views.finding_undo, name="finding_undo"),
    path("review/findings/<int:finding_id>/fix/", views.finding_fix, name="finding_fix"),
    path("review/findings/<int:finding_id>/retry/", views.finding_retry, name="finding_retry"),
    path(
        "review/findings/<int:finding_id>/undo-fix/",
        views.finding_undo_fix,
        name="finding_undo_fix",
    ),
    path("review/findings/bulk/", views.findings_bulk, name="findings_bulk"),
    path("reports/", views.reports, name="reports"),
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
        "clients/<slug:client_slug>/reconciliations/<int:recon_id>/retry/",
        views.reconcile_retry,
        name="reconciliation_retry",
    ),
    path(
        "clients/<slug:client_slug>/reconciliations/<int:recon_id>/findings.csv",
        views.report_csv,
        name="reconciliation_csv",
    ),
    path(
        "clients/<slug:client_slug>/balances/<str:month>/",
        views.customer_balances,
        name="customer_balances",
    ),
    path(
        "clients/<slug:client_slug>/balances/<str:month>/balances.csv",
        views.customer_balances_csv,
        name="customer_balances_csv",
    ),
]

# The month-end close (reconciliation/close_views.py).
urlpatterns += [
    path("close/", close_views.close_board, name="close_board"),
    path(
        "clients/<slug:client_slug>/close/<str:month>/", close_views.close_month, name="close_month"
    ),
    path(
        "clients/<slug:client_slug>/close/<str:month>/sign-off/",
        close_views.close_sign_off,
        name="close_sign_off",
    ),
    path(
        "clients/<slug:client_slug>/close/<str:month>/reopen/",
        close_views.close_reopen,
        name="close_reopen",
    ),
    path(
        "clients/<slug:client_slug>/close/<str:month>/send-report/",
        close_views.close_send_report,
        name="close_send_report",
    ),
    path(
        "clients/<slug:client_slug>/close/<str:month>/carry/<int:finding_id>/",
        close_views.close_carry,
        name="close_carry",
    ),
]
