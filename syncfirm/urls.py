from django.conf import settings
from django.contrib import admin
from django.urls import include, path

from . import health

urlpatterns = [
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("metrics", health.metrics_page, name="metrics"),
    path("accounts/", include("allauth.urls")),
    path("admin/", admin.site.urls),
    path("", include("clients.urls")),
    path("", include("dashboard.urls")),
    path("", include("connections.urls")),
    path("", include("sync.urls")),
    path("", include("reconciliation.urls")),
    path("", include("questions.urls")),
    path("", include("notices.urls")),
    path("", include("api.urls")),
]

if settings.SANDBOX:
    # The emulated providers; never routed in production (production.py refuses SANDBOX).
    urlpatterns.append(path("sandbox/", include("sandbox.urls")))
