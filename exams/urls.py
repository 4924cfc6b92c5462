"""Exam pages. Mounted by lms.urls at /exams/ (before Wagtail's catch-all)."""

from django.urls import path

from . import views

app_name = "exams"

urlpatterns = [
    path("", views.exam_list, name="exam_list"),
    path("attempts/<int:attempt_id>/", views.attempt_page, name="attempt"),
    path("attempts/<int:attempt_id>/submit/", views.attempt_submit, name="attempt_submit"),
    path("attempts/<int:attempt_id>/break/", views.attempt_break, name="attempt_break"),
    path("attempts/<int:attempt_id>/resume/", views.attempt_resume, name="attempt_resume"),
    path("attempts/<int:attempt_id>/result/", views.attempt_result, name="attempt_result"),
    path("<slug:slug>/start/", views.attempt_start, name="attempt_start"),
]

# Projects (exams.project_views); fixed words before the brief's slug.
from .projects import views as project_views  # noqa: E402

urlpatterns += [
    path("projects/", project_views.project_list, name="project_list"),
    path("projects/review/", project_views.review_queue, name="review_queue"),
    path(
        "projects/grader-agreement/",
        project_views.grader_agreement,
        name="grader_agreement",
    ),
    path("projects/review/<int:submission_id>/", project_views.review_grade, name="review_grade"),
    path(
        "projects/review/<int:submission_id>/claim/",
        project_views.review_claim,
        name="review_claim",
    ),
    path("projects/files/<int:file_id>/", project_views.project_file, name="project_file"),
    path("projects/<slug:slug>/", project_views.project_detail, name="project_detail"),
    path("projects/<slug:slug>/submit/", project_views.project_submit, name="project_submit"),
]
