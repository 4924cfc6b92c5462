"""Course pages and learner records for tests.

Pages are added to the tree with treebeard's `add_child` (Wagtail pages cannot
be created with a plain `objects.create`). `live=False` makes a draft.
"""

from datetime import timedelta

import factory
from django.utils import timezone
from django.utils.text import slugify

from courses.models import (
    CourseIndexPage,
    CoursePage,
    Enrolment,
    Event,
    LessonPage,
    LessonProgress,
)
from tests.lms.factories import UserFactory


def paragraphs(count: int, text: str = "Payments move money between parties.") -> list[dict]:
    return [{"type": "paragraph", "value": f"<p>{text} ({i})</p>"} for i in range(count)]


class _PageFactory(factory.Factory):
    class Meta:
        abstract = True

    @classmethod
    def _create(cls, model_class, parent=None, **kwargs):
        parent = parent if parent is not None else cls._default_parent()
        page = model_class(**kwargs)
        parent.add_child(instance=page)
        return page


class CoursePageFactory(_PageFactory):
    class Meta:
        model = CoursePage

    title = factory.Sequence(lambda n: f"Course {n}")
    slug = factory.LazyAttribute(lambda o: slugify(o.title))
    kind = "technical"
    level = "beginner"
    certification = "developer"
    summary = "Learn how payments work on the platform."
    outcomes = "Explain a payment's life cycle\nHandle webhooks safely"
    estimated_duration_minutes = 90

    @staticmethod
    def _default_parent():
        return CourseIndexPage.objects.get()


class LessonPageFactory(_PageFactory):
    class Meta:
        model = LessonPage

    title = factory.Sequence(lambda n: f"Lesson {n}")
    slug = factory.LazyAttribute(lambda o: slugify(o.title))
    summary = "A short lesson."
    estimated_minutes = 10
    body = factory.LazyFunction(lambda: paragraphs(2))

    @staticmethod
    def _default_parent():
        raise ValueError("Pass parent=<course>")


def course_with_lessons(lesson_count: int = 3, **course_kwargs):
    course = CoursePageFactory(**course_kwargs)
    lessons = [
        LessonPageFactory(parent=course, title=f"{course.title} lesson {i + 1}")
        for i in range(lesson_count)
    ]
    return course, lessons


class EnrolmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Enrolment

    person = factory.SubFactory(UserFactory)
    course = factory.SubFactory(CoursePageFactory)
    enrolled_at = factory.LazyFunction(timezone.now)
    last_activity_at = factory.LazyFunction(timezone.now)


class LessonProgressFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = LessonProgress

    person = factory.SubFactory(UserFactory)
    completed_at = factory.LazyFunction(timezone.now)


class EventFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Event

    title = factory.Sequence(lambda n: f"Webhooks workshop {n}")
    description = "Hands-on: receive, verify and process webhooks."
    starts_at = factory.LazyFunction(lambda: timezone.now() + timedelta(days=3))
    ends_at = factory.LazyAttribute(lambda o: o.starts_at + timedelta(hours=1))
    time_zone = "Europe/Dublin"
    join_url = "https://meet.example.com/webhooks"
    instructor = factory.SubFactory(UserFactory)
    capacity = 3


def path_with(slug: str, *courses, certification: str | None = None, title: str | None = None):
    """The authored learning path `slug` (created when missing) with `courses`
    appended in the order given."""
    from courses.models import LearningPath, LearningPathCourse

    path, _ = LearningPath.objects.get_or_create(
        slug=slug,
        defaults={
            "title": title or slug.replace("-", " ").title(),
            "certification": certification
            or (slug if slug in ("developer", "architect") else "none"),
        },
    )
    start = path.path_courses.count()
    for index, course in enumerate(courses):
        LearningPathCourse.objects.create(path=path, course=course, sort_order=start + index)
    return path
