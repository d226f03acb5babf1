from django.urls import path

from . import views

# Included after clients.urls: "clients/new/" is a page of its own there, not a client.
urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("clients/<slug:client_slug>/", views.client_detail, name="client_detail"),
]
