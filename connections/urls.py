from django.urls import path

from . import views, webhooks

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
        "clients/<slug:client_slug>/connections/invitations/<int:contractor_invitation_id>/resend/",
        views.invitation_resend,
        name="contractor_invitation_resend",
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
    path("webhooks/jobber/", webhooks.jobber_webhook, name="webhook_jobber"),
]
