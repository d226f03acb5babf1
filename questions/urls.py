from django.urls import path

from . import views

urlpatterns = [
    path("review/findings/<int:finding_id>/ask/", views.question_ask, name="question_ask"),
    path(
        "review/findings/<int:finding_id>/questions/<int:question_id>/withdraw/",
        views.question_withdraw,
        name="question_withdraw",
    ),
    path("answer/<str:token>/", views.question_answer, name="question_answer"),
]
