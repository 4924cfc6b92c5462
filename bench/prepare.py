"""Create the benchmark's data; print one JSON line: token, session cookie, URLs."""

import json
import os

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")
django.setup()

from django.conf import settings  # noqa: E402
from django.contrib.auth import (  # noqa: E402
    BACKEND_SESSION_KEY,
    HASH_SESSION_KEY,
    SESSION_KEY,
    get_user_model,  # noqa: E402
)
from django.contrib.sessions.backends.db import SessionStore  # noqa: E402
from django.utils.crypto import get_random_string  # noqa: E402

from bench.directory import prepare_directory  # noqa: E402
from bench.exams import prepare_exams  # noqa: E402
from courses.demo import seed_courses  # noqa: E402
from courses.models import LessonPage  # noqa: E402
from courses.services import enrolment_create  # noqa: E402
from lms.tokens import token_create  # noqa: E402

User = get_user_model()
user, _ = User.objects.get_or_create(
    email="bench@example.com", defaults={"legal_name": "Bench Mark", "first_name": "Bench"}
)
_, plain = token_create(user=user, name="bench")

courses = seed_courses()
course = max(courses, key=lambda c: LessonPage.objects.child_of(c).count())
lesson = LessonPage.objects.child_of(course).live().order_by("path").first()
enrolment_create(person=user, course=course)

session = SessionStore()
session[SESSION_KEY] = str(user.pk)
session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
session[HASH_SESSION_KEY] = user.get_session_auth_hash()
session.create()

exams = prepare_exams(user)
directory = prepare_directory()

print(
    json.dumps(
        {
            "token": plain,
            # A browser also carries the CSRF cookie it got on its first page.
            "cookie": f"{settings.SESSION_COOKIE_NAME}={session.session_key}; "
            f"{settings.CSRF_COOKIE_NAME}={get_random_string(32)}",
            "lesson_url": lesson.url,
            "course_url": course.url,
            "exams": exams,
            "directory": directory,
        }
    )
)
