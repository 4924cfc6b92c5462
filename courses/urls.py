"""Django views of the courses app (pages themselves are served by Wagtail).

Include before Wagtail's catch-all: `path("", include("courses.urls"))`.
"""

from django.urls import path

from . import views

app_name = "courses"

urlpatterns = [
    path("dashboard/", views.dashboard, name="dashboard"),
    # The course and lesson pages' forms. Not below the catalogue's /courses/:
    # page slugs live there (and the learner page cache matches that shape).
    path("learning/enrol/<int:course_id>/", views.course_enrol, name="course_enrol"),
    path("learning/complete/<int:lesson_id>/", views.lesson_complete, name="lesson_complete"),
    path("paths/<slug:slug>/", views.learning_path, name="learning_path"),
    path("events/", views.event_list, name="event_list"),
    path(
        "events/<int:event_id>/registration/",
        views.event_registration,
        name="event_registration",
    ),
    path("events/<int:event_id>/calendar.ics", views.event_calendar, name="event_calendar"),
    path("events/<int:event_id>/attendance/", views.event_attendance, name="event_attendance"),
    path("events/<int:event_id>/cancel/", views.event_cancel, name="event_cancel"),
]
