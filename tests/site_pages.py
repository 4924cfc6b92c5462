"""The pages the README lists, as each demo role sees them (after `manage.py seed_demo`).

Shared by the page-policy test (tests/lms/test_csp.py) and the browser test
(tests/e2e/test_browser_policy.py), so both look at the same pages.
"""

from django.contrib.auth import get_user_model


def readme_pages() -> list[tuple[str, str | None, list[str]]]:
    """[(role, demo e-mail or None for anonymous, [paths])], from the demo data.

    Starts an exam attempt for the learner, so the attempt page is among them.
    """
    from certificates.models import Credential
    from courses.models import CoursePage, Event, LessonPage
    from exams.models import Exam, ProjectBrief
    from exams.services import attempt_start

    people = get_user_model().objects
    learner = people.get(email="ada@northwind.example")
    credential = Credential.objects.filter(person=learner).first()
    course = CoursePage.objects.live().first()
    lesson = LessonPage.objects.live().descendant_of(course).first()
    brief = ProjectBrief.objects.first()
    exam = Exam.objects.filter(is_published=True).first()
    attempt, _ = attempt_start(person=learner, exam=exam)
    event = Event.objects.first()

    public = [
        "/",
        "/accounts/signup/",
        "/accounts/login/",
        "/accounts/password/reset/",
        "/courses/",
        course.url,
        "/paths/developer/",
        "/paths/sales-foundations/",
        "/events/",
        f"/verify/{credential.public_id}",
        "/partners/directory/",
        "/partners/northwind/verified",
    ]
    signed_in = [
        "/",
        "/accounts/profile/",
        "/courses/",
        "/dashboard/",
        "/exams/",
        "/exams/projects/",
        "/certificates/",
    ]
    return [
        ("anonymous", None, public),
        (
            "learner",
            "ada@northwind.example",
            # The lesson twice: the second answer is the session's cached copy.
            [*signed_in, lesson.url, lesson.url, f"/exams/attempts/{attempt.pk}/"]
            + [f"/exams/projects/{brief.slug}/", "/partners/apply/"],
        ),
        (
            "partner admin",
            "dana@northwind.example",
            [*signed_in, "/partners/northwind/", "/partners/northwind/people/"]
            + [
                "/partners/northwind/downloads/",
                "/partners/northwind/profile/",
                "/partners/northwind/analytics/",
                "/partners/northwind/api-keys/",
                "/partners/northwind/webhooks/",
            ],
        ),
        (
            "instructor",
            "instructor@academy.example",
            ["/", "/exams/projects/review/", f"/events/{event.pk}/attendance/"],
        ),
        (
            "staff",
            "staff@academy.example",
            ["/", "/partners/staff/partners/", "/partners/staff/applications/"]
            + ["/partners/staff/analytics/", "/partners/northwind/analytics/"]
            + ["/partners/northwind/", "/partners/globex/people/", "/exams/projects/review/"],
        ),
    ]
