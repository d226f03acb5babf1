from django.urls import path

from . import views

urlpatterns = [
    path("clients/<slug:client_slug>/sync/", views.sync_page, name="client_sync"),
    path("clients/<slug:client_slug>/sync/start/", views.sync_start, name="client_sync_start"),
    path(
        "clients/<slug:client_slug>/sync/settings/",
        views.sync_settings,
        name="client_sync_settings",
    ),
    path(
        "clients/<slug:client_slug>/sync/runs/<int:run_id>/",
        views.run_detail,
        name="client_sync_run",
    ),
    path(
        "clients/<slug:client_slug>/sync/conflicts/<int:conflict_id>/",
        views.conflict_resolve,
        name="client_sync_conflict",
    ),
    path(
        "clients/<slug:client_slug>/sync/invoices/<int:link_id>/retry/",
        views.invoice_retry,
        name="client_sync_invoice_retry",
    ),
    path(
        "clients/<slug:client_slug>/sync/payments/<int:payment_id>/handled/",
        views.payment_handled,
        name="client_sync_payment_handled",
    ),
    path(
        "clients/<slug:client_slug>/sync/alerts/<int:alert_id>/handled/",
        views.alert_handled,
        name="client_sync_alert_handled",
    ),
    path("review/conflicts/", views.review_conflicts, name="review_conflicts"),
    path("review/conflicts/bulk/", views.conflicts_bulk, name="conflicts_bulk"),
]
