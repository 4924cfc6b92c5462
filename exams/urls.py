"""Exam pages. Mounted by lms.urls at /exams/ (before Wagtail's catch-all)."""

from django.urls import path

from . import views

app_name = "exams"

urlpatterns = [
    path("", views.exam_list, name="exam_list"),
    path("attempts/<int:attempt_id>/", views.attempt_page, name="attempt"),
    path("attempts/<int:attempt_id>/submit/", views.attempt_submit, name="attempt_submit"),
    path("attempts/<int:attempt_id>/result/", views.attempt_result, name="attempt_result"),
    path("<slug:slug>/start/", views.attempt_start, name="attempt_start"),
]
