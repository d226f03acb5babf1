from django.urls import path

from . import views

urlpatterns = [
    path("notices/", views.notice_list, name="notice_list"),
    path("notices/read/", views.notices_read, name="notices_read"),
    path("notices/<int:notice_id>/read/", views.notice_open, name="notice_open"),
]
