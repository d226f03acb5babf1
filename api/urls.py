from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from rest_framework.routers import SimpleRouter

from . import viewsets

router = SimpleRouter()
router.register("clients", viewsets.ClientViewSet, basename="api-client")
router.register("connections", viewsets.ConnectionViewSet, basename="api-connection")
router.register("sync-runs", viewsets.SyncRunViewSet, basename="api-sync-run")
router.register("conflicts", viewsets.ConflictViewSet, basename="api-conflict")
router.register("findings", viewsets.FindingViewSet, basename="api-finding")
router.register("reconciliations", viewsets.ReconciliationViewSet, basename="api-reconciliation")

urlpatterns = [
    path("api/v1/", include(router.urls)),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
]
