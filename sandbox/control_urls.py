from django.urls import path

from . import control_views

urlpatterns = [
    path("faults", control_views.faults, name="sandbox_faults"),
    path("requests", control_views.requests_log, name="sandbox_requests"),
    path("reset", control_views.reset, name="sandbox_reset"),
]
