from django.urls import path

from . import api_views, control, oauth

company = "quickbooks/v3/company/<str:realm_id>/"

urlpatterns = [
    path("intuit/.well-known/openid_configuration", oauth.discovery),
    path("intuit/oauth2/authorize", oauth.authorize, name="sandbox_intuit_authorize"),
    path("intuit/oauth2/tokens/bearer", oauth.token),
    path("intuit/oauth2/tokens/revoke", oauth.revoke),
    path("intuit/openid_connect/userinfo", oauth.userinfo),
    path("intuit/op/v1/jwks", oauth.jwks),
    path(company + "query", api_views.query),
    path(company + "batch", api_views.batch),
    path(company + "cdc", api_views.cdc),
    path(company + "companyinfo/<str:company_id>", api_views.company_info),
    path(company + "preferences", api_views.preferences_read),
    path(company + "<str:entity>", api_views.entity_write),
    path(company + "<str:entity>/<str:entity_id>", api_views.entity_read),
    path("control/quickbooks/companies", control.companies),
    path("control/quickbooks/companies/<str:realm_id>", control.company),
]
