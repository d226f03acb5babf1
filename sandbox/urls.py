from django.urls import include, path

from . import record_pages

urlpatterns = [
    # The apps' record pages a finding links to (QuickBooks' /app/..., HubSpot's /contacts/...).
    path("quickbooks/app/invoice", record_pages.quickbooks_invoice),
    path("quickbooks/app/customerdetail", record_pages.quickbooks_customer),
    path(
        "hubspot/app/contacts/<str:portal_id>/record/<str:type_id>/<str:record_id>",
        record_pages.hubspot_record,
    ),
    path("xero/app/<str:kind>/<str:tenant_id>/<str:record_id>", record_pages.xero_record),
    path(
        "jobber/app/<str:page>/<str:account_id>/<str:record_id>",
        record_pages.jobber_record,
    ),
    path("", include("sandbox.quickbooks.urls")),
    path("", include("sandbox.hubspot.urls")),
    path("", include("sandbox.xero.urls")),
    path("", include("sandbox.jobber.urls")),
    path("control/", include("sandbox.control_urls")),
]
