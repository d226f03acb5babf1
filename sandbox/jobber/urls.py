from django.urls import path

from . import api_views, control, oauth

urlpatterns = [
    # api.getjobber.com/api/...
    path("jobber/api/oauth/authorize", oauth.authorize, name="sandbox_jobber_authorize"),
    path("jobber/api/oauth/token", oauth.token),
    path("jobber/api/graphql", api_views.graphql),
    path("control/jobber/accounts", control.accounts),
    path("control/jobber/accounts/<int:account_id>", control.account),
    path("control/jobber/accounts/<int:account_id>/book", control.book),
    path("control/jobber/accounts/<int:account_id>/payments", control.payments),
    path("control/jobber/accounts/<int:account_id>/invoices/<str:invoice_id>", control.invoice),
    path("control/jobber/accounts/<int:account_id>/records/<str:record_id>", control.record),
]
