from django.urls import include, path

urlpatterns = [
    path("", include("sandbox.quickbooks.urls")),
    path("", include("sandbox.hubspot.urls")),
    path("control/", include("sandbox.control_urls")),
]
