from django.conf import settings
from django.urls import include, path
from django.utils.csp import CSP
from django.views.decorators.csp import csp_override
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework.routers import SimpleRouter

from . import views, viewsets

router = SimpleRouter()
router.register("clients", viewsets.ClientViewSet, basename="api-client")
router.register("connections", viewsets.ConnectionViewSet, basename="api-connection")
router.register("sync-runs", viewsets.SyncRunViewSet, basename="api-sync-run")
router.register("conflicts", viewsets.ConflictViewSet, basename="api-conflict")
router.register("findings", viewsets.FindingViewSet, basename="api-finding")
router.register("reconciliations", viewsets.ReconciliationViewSet, basename="api-reconciliation")

# Swagger UI (vendored by the sidecar) runs from files only when its page script is a
# separate request (the "split" view); it still writes inline styles and data: images.
SWAGGER_UI_CSP = {**settings.SECURE_CSP, "style-src": [CSP.SELF, CSP.UNSAFE_INLINE]}

urlpatterns = [
    path("api/v1/", include(router.urls)),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    # Per person, not per firm: beside allauth's account pages.
    path("accounts/api-tokens/", views.api_tokens, name="api_tokens"),
    path(
        "accounts/api-tokens/<int:token_id>/revoke/",
        views.api_token_revoke,
        name="api_token_revoke",
    ),
    path(
        "api/docs/",
        csp_override(SWAGGER_UI_CSP)(SpectacularSwaggerSplitView.as_view(url_name="api-schema")),
        name="api-docs",
    ),
]
