from django.urls import path

from . import views, webhooks
from .sync import views as sync_views

urlpatterns = [
    path(
        "clients/<slug:client_slug>/connections/panel/",
        views.connection_panel,
        name="connection_panel",
    ),
    path(
        "clients/<slug:client_slug>/connections/invite/",
        views.invitation_create,
        name="contractor_invitation_create",
    ),
    path(
        "clients/<slug:client_slug>/connections/invitations/<int:contractor_invitation_id>/revoke/",
        views.invitation_revoke,
        name="contractor_invitation_revoke",
    ),
    path(
        "clients/<slug:client_slug>/connections/<str:system>/connect/",
        views.connect_direct,
        name="connection_connect",
    ),
    path(
        "clients/<slug:client_slug>/connections/<str:system>/disconnect/",
        views.disconnect,
        name="connection_disconnect",
    ),
    path("clients/<slug:client_slug>/sync/", sync_views.sync_page, name="client_sync"),
    path("clients/<slug:client_slug>/sync/start/", sync_views.sync_start, name="client_sync_start"),
    path(
        "clients/<slug:client_slug>/sync/settings/",
        sync_views.sync_settings,
        name="client_sync_settings",
    ),
    path(
        "clients/<slug:client_slug>/sync/runs/<int:run_id>/",
        sync_views.run_detail,
        name="client_sync_run",
    ),
    path(
        "clients/<slug:client_slug>/sync/conflicts/<int:conflict_id>/",
        sync_views.conflict_resolve,
        name="client_sync_conflict",
    ),
    path(
        "clients/<slug:client_slug>/sync/invoices/<int:link_id>/retry/",
        sync_views.invoice_retry,
        name="client_sync_invoice_retry",
    ),
    path("review/conflicts/", sync_views.review_conflicts, name="review_conflicts"),
    path("review/conflicts/bulk/", sync_views.conflicts_bulk, name="conflicts_bulk"),
    path("connect/<str:token>/", views.contractor_invitation, name="contractor_invitation"),
    path("connect/<str:token>/done/", views.contractor_done, name="contractor_done"),
    path(
        "connect/<str:token>/<str:system>/",
        views.contractor_connect,
        name="contractor_connect",
    ),
    path("oauth/<str:system>/callback/", views.oauth_callback, name="oauth_callback"),
    path("oauth/<str:system>/confirm/<str:key>/", views.oauth_confirm, name="oauth_confirm"),
    path("webhooks/quickbooks/", webhooks.quickbooks_webhook, name="webhook_quickbooks"),
    path("webhooks/hubspot/", webhooks.hubspot_webhook, name="webhook_hubspot"),
    path("webhooks/xero/", webhooks.xero_webhook, name="webhook_xero"),
]
