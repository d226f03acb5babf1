from django.urls import path

from . import api_views, control, oauth

api = "xero/api.xro/2.0/"

urlpatterns = [
    # login.xero.com and identity.xero.com
    path("xero/identity/connect/authorize", oauth.authorize, name="sandbox_xero_authorize"),
    path("xero/identity/connect/token", oauth.token),
    path("xero/identity/connect/revocation", oauth.revoke),
    # api.xero.com: xero-python writes /Connections, Xero's docs /connections (C1).
    *[path(f"xero/{name}", oauth.connections) for name in ("Connections", "connections")],
    *[
        path(f"xero/{name}/<str:connection_id>", oauth.connection)
        for name in ("Connections", "connections")
    ],
    path(api + "Organisation", api_views.organisation),
    path(api + "Accounts", api_views.accounts),
    path(api + "TaxRates", api_views.tax_rate_list),
    path(api + "Contacts", api_views.contacts),
    path(api + "Contacts/<str:key>", api_views.contact),
    path(api + "Invoices", api_views.invoices),
    path(api + "Invoices/<str:key>", api_views.invoice),
    path(api + "CreditNotes", api_views.credit_notes),
    path(api + "CreditNotes/<str:key>", api_views.credit_note),
    path(api + "CreditNotes/<str:key>/Allocations", api_views.allocations),
    path(api + "Payments", api_views.payments),
    path(api + "Payments/<str:key>", api_views.payment),
    path(api + "Items", api_views.items),
    path(api + "Items/<str:key>", api_views.item),
    path(api + "TrackingCategories", api_views.tracking_categories),
    path(api + "TrackingCategories/<str:key>/Options", api_views.tracking_options),
    path(api + "TrackingCategories/<str:key>/Options/<str:option_id>", api_views.tracking_option),
    path("control/xero/organisations", control.organisations),
    path("control/xero/organisations/<str:tenant_id>", control.organisation),
    path("control/xero/organisations/<str:tenant_id>/intent-to-receive", control.intent),
]
