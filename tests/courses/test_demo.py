"""Demo content for seed_demo."""

import pytest

from courses import selectors
from courses.demo import seed_courses
from courses.models import CoursePage, LessonPage

pytestmark = pytest.mark.django_db


def test_seed_courses_is_idempotent_and_publishes_real_looking_courses(client, catalogue):
    courses = seed_courses()
    counts = (CoursePage.objects.count(), LessonPage.objects.count())
    assert seed_courses() and (CoursePage.objects.count(), LessonPage.objects.count()) == counts
    assert counts[0] == len(courses) >= 6 and counts[1] >= 3 * counts[0] - 4

    kinds = {course.slug: course.kind for course in courses}
    assert kinds[selectors.BUSINESS_FOUNDATIONS_SLUG] == "sales"
    for slug in [
        "payments-fundamentals",
        "payment-flows-and-webhooks",
        "platforms-and-marketplaces",
        "integration-architecture",
    ]:
        assert kinds[slug] == "technical"
    assert all(page.live and page.latest_revision_id for page in LessonPage.objects.all())

    html = client.get("/courses/").content.decode()
    assert "Business Foundations" in html and "Integration architecture" in html


def test_seed_events_is_idempotent_and_one_is_full(catalogue, instructor):
    from courses.demo import seed_events
    from courses.models import EventRegistration
    from tests.lms.factories import UserFactory

    seed_courses()
    learners = UserFactory.create_batch(3)
    events = seed_events(instructor=instructor, learners=learners)
    seed_events(instructor=instructor, learners=learners)
    assert len(events) == 2
    full = events[1]
    full.refresh_from_db()
    assert full.seats_taken == full.capacity
    assert EventRegistration.objects.filter(event=full, status="waitlisted").count() == 1
    assert EventRegistration.objects.count() == 4
    assert all(event.course is not None for event in events)


def test_seed_authors_the_paths_once(catalogue):
    from courses.models import LearningPath, LearningPathCourse

    seed_courses()
    rows = LearningPathCourse.objects.count()
    seed_courses()
    assert LearningPathCourse.objects.count() == rows
    paths = {path.slug: path for path in LearningPath.objects.all()}
    assert {"developer", "architect", "sales-foundations"} <= set(paths)
    developer = [row.course.slug for row in paths["developer"].path_courses.order_by("sort_order")]
    assert developer == ["payments-fundamentals", "payment-flows-and-webhooks"]
    sales = paths["sales-foundations"]
    assert sales.certification == "none"
    assert sales.path_courses.first().course.slug == selectors.BUSINESS_FOUNDATIONS_SLUG
