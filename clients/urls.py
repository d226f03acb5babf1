from django.urls import path

from . import views

urlpatterns = [
    path("clients/new/", views.client_create, name="client_create"),
    path("clients/<slug:client_slug>/edit/", views.client_edit, name="client_edit"),
    path("staff/", views.staff_list, name="staff_list"),
    path("staff/two-factor/", views.mfa_policy_update, name="mfa_policy_update"),
    path(
        "staff/fix-confirmation/",
        views.fix_confirmation_update,
        name="fix_confirmation_update",
    ),
    path("staff/<int:membership_id>/", views.member_update, name="member_update"),
    path(
        "staff/invitations/<int:invitation_id>/revoke/",
        views.invitation_revoke,
        name="invitation_revoke",
    ),
    path(
        "invitations/staff/<str:token>/",
        views.staff_invitation_accept,
        name="staff_invitation_accept",
    ),
    path("firms/switch/", views.firm_switch, name="firm_switch"),
    path("firms/new/", views.firm_create, name="firm_create"),
]
