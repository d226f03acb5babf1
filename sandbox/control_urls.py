from django.urls import path

from . import control_page, control_views

urlpatterns = [
    path("faults", control_views.faults, name="sandbox_faults"),
    path("requests", control_views.requests_log, name="sandbox_requests"),
    path("reset", control_views.reset, name="sandbox_reset"),
    # For a person trying the demo (control_page.py).
    path("page", control_page.page, name="sandbox_controls"),
    path("page/hubspot/<int:portal_id>/webhooks", control_page.hubspot_webhooks,
         name="sandbox_controls_hubspot_webhooks"),
    path("page/hubspot/<int:portal_id>/company", control_page.hubspot_company,
         name="sandbox_controls_hubspot_company"),
    path("page/quickbooks/<str:realm_id>/key-again", control_page.quickbooks_key_again,
         name="sandbox_controls_quickbooks_key_again"),
]  # fmt: skip
