"""Course content (Wagtail pages) and the learner records that refer to it.

Pages describe and render content; what a learner has done comes from
courses.selectors and changes only through courses.services. This module
imports neither (they import it):
- what a page shows besides its own fields (the learner's progress, the
  filtered catalogue, the rendered lesson body) comes from the reader that
  courses.page_context registers for its page type (`register_context_reader`,
  at app ready); `get_context` calls it;
- the enrol and "mark complete" forms post to plain views (courses.urls);
  course and lesson pages answer GET (and HEAD, OPTIONS) only, other methods
  405 with an Allow header (Wagtail's `allowed_http_methods`);
- serving a lesson to a learner (sign-in first, the resume bookmark, the
  learner's page-cache copy) is a Wagtail `on_serve_page` hook in
  courses.wagtail_hooks.

Learner records never cascade-delete with content: their page foreign keys are
PROTECT, and the admin refuses to delete such pages (courses.wagtail_hooks)
with a message to unpublish instead.
"""

from collections.abc import Callable
from http import HTTPMethod

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from wagtail.admin.panels import FieldPanel, MultiFieldPanel
from wagtail.fields import StreamField
from wagtail.models import Page
from wagtail.search import index

from lms.timezones import format_event_span, zone_of

from .blocks import lesson_body_blocks
from .routing import OneQueryViewRestrictions, never_shared, route_below_catalogue


class CourseKind(models.TextChoices):
    SALES = "sales", "Sales"
    TECHNICAL = "technical", "Technical"


class CourseLevel(models.TextChoices):
    BEGINNER = "beginner", "Beginner"
    INTERMEDIATE = "intermediate", "Intermediate"
    ADVANCED = "advanced", "Advanced"


class Certification(models.TextChoices):
    """The certification a course prepares for. The certificates app owns the
    certifications themselves; these keys are the stable link to them."""

    NONE = "none", "None"
    DEVELOPER = "developer", "Developer"
    ARCHITECT = "architect", "Architect"


# --- what pages show besides their own fields ----------------------------------

ContextReader = Callable[..., dict]  # (request, page, *, preview: bool) -> context entries
_context_readers: dict[type[Page], ContextReader] = {}


def register_context_reader(page_type: type[Page], reader: ContextReader) -> None:
    """`reader(request, page, *, preview)` returns the entries to add to the
    template context of every page of `page_type`."""
    _context_readers[page_type] = reader


def _read_context(page: Page, request) -> dict:
    reader = _context_readers[type(page)]
    return reader(request, page, preview=getattr(request, "is_preview", False))


# Course and lesson pages change nothing: their forms post to courses.urls.
_READ_ONLY_METHODS = [HTTPMethod.GET, HTTPMethod.HEAD, HTTPMethod.OPTIONS]


# --- pages ----------------------------------------------------------------------


class CourseIndexPage(OneQueryViewRestrictions, Page):
    """The catalogue: every published course, filterable and searchable."""

    intro = models.TextField(blank=True, max_length=600)

    content_panels = [*Page.content_panels, FieldPanel("intro")]

    parent_page_types = ["cms.HomePage"]
    subpage_types = ["courses.CoursePage"]
    max_count = 1

    class Meta:
        verbose_name = "course catalogue"

    def get_context(self, request, *args, **kwargs):
        context = super().get_context(request, *args, **kwargs)
        context.update(
            _read_context(self, request),
            kinds=CourseKind.choices,
            levels=CourseLevel.choices,
            certifications=Certification.choices,
        )
        return context

    def route(self, request, path_components):
        page = route_below_catalogue(self, path_components)
        if page is None:
            return super().route(request, path_components)
        return page.route(request, [])

    def serve(self, request, *args, **kwargs):
        return never_shared(super().serve(request, *args, **kwargs))


class CoursePage(OneQueryViewRestrictions, Page):
    """A course: ordered lessons (its child pages) plus what it is about."""

    kind = models.CharField(max_length=20, choices=CourseKind.choices)
    level = models.CharField(
        max_length=20, choices=CourseLevel.choices, default=CourseLevel.BEGINNER
    )
    certification = models.CharField(
        "prepares for",
        max_length=20,
        choices=Certification.choices,
        default=Certification.NONE,
        help_text="Sales courses never count toward a certification.",
    )
    summary = models.TextField(max_length=600, help_text="One or two sentences for the catalogue.")
    outcomes = models.TextField(
        blank=True,
        max_length=2000,
        help_text="What learners will be able to do, one outcome per line.",
    )
    estimated_duration_minutes = models.PositiveIntegerField(
        "estimated duration (minutes)",
        default=60,
        validators=[MinValueValidator(1), MaxValueValidator(100_000)],
    )

    content_panels = [
        *Page.content_panels,
        FieldPanel("summary"),
        MultiFieldPanel(
            [
                FieldPanel("kind"),
                FieldPanel("level"),
                FieldPanel("certification"),
                FieldPanel("estimated_duration_minutes"),
            ],
            heading="Course facts",
        ),
        FieldPanel("outcomes"),
    ]

    search_fields = [
        *Page.search_fields,
        index.SearchField("summary"),
        index.SearchField("outcomes"),
        index.FilterField("kind"),
        index.FilterField("level"),
        index.FilterField("certification"),
    ]

    parent_page_types = ["courses.CourseIndexPage"]
    subpage_types = ["courses.LessonPage"]

    class Meta:
        verbose_name = "course"

    @property
    def outcome_list(self) -> list[str]:
        return [line.strip() for line in self.outcomes.splitlines() if line.strip()]

    allowed_http_methods = _READ_ONLY_METHODS

    def get_context(self, request, *args, **kwargs):
        context = super().get_context(request, *args, **kwargs)
        context.update(_read_context(self, request))
        return context

    def serve(self, request, *args, **kwargs):
        return never_shared(super().serve(request, *args, **kwargs))


class LessonPage(OneQueryViewRestrictions, Page):
    """One lesson of a course; its position among its siblings is its order."""

    summary = models.TextField(blank=True, max_length=600)
    estimated_minutes = models.PositiveIntegerField(
        default=10, validators=[MinValueValidator(1), MaxValueValidator(10_000)]
    )
    body = StreamField(lesson_body_blocks(), blank=True)

    content_panels = [
        *Page.content_panels,
        FieldPanel("summary"),
        FieldPanel("estimated_minutes"),
        FieldPanel("body"),
    ]

    search_fields = [
        *Page.search_fields,
        index.SearchField("summary"),
        index.SearchField("body"),
    ]

    parent_page_types = ["courses.CoursePage"]
    subpage_types: list[str] = []

    class Meta:
        verbose_name = "lesson"

    allowed_http_methods = _READ_ONLY_METHODS

    def get_context(self, request, *args, **kwargs):
        context = super().get_context(request, *args, **kwargs)
        context.update(_read_context(self, request))
        return context

    def serve(self, request, *args, **kwargs):
        return never_shared(super().serve(request, *args, **kwargs))


# --- learner records ----------------------------------------------------------


class Enrolment(models.Model):
    """A person taking a course. Completion is recorded once and kept, even when
    lessons are added to the course later (selectors then flag new content)."""

    person = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="enrolments"
    )
    course = models.ForeignKey(CoursePage, on_delete=models.PROTECT, related_name="enrolments")
    enrolled_at = models.DateTimeField()
    completed_at = models.DateTimeField(null=True, blank=True)
    last_lesson = models.ForeignKey(
        LessonPage, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    last_activity_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["person", "course"], name="courses_enrolment_unique_person_course"
            ),
        ]
        indexes = [models.Index(fields=["person", "-last_activity_at"])]

    def __str__(self):
        return f"{self.person} in {self.course}"


class LessonProgress(models.Model):
    """A lesson a person completed (one row per person and lesson)."""

    person = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="lesson_progress"
    )
    lesson = models.ForeignKey(LessonPage, on_delete=models.PROTECT, related_name="progress")
    completed_at = models.DateTimeField()

    class Meta:
        verbose_name_plural = "lesson progress"
        constraints = [
            models.UniqueConstraint(
                fields=["person", "lesson"], name="courses_lessonprogress_unique_person_lesson"
            ),
        ]

    def __str__(self):
        return f"{self.person} completed {self.lesson}"


# --- instructor-led events ------------------------------------------------------


def validate_time_zone(value: str) -> None:
    """A session's zone: one of the IANA names people choose from (lms.timezones)."""
    from lms.timezones import is_time_zone

    if not is_time_zone(value):
        raise ValidationError(f"“{value}” is not a known time zone (e.g. Europe/Dublin).")


class Event(models.Model):
    """A scheduled online session or workshop with limited seats.

    `seats_taken` is changed only by courses.services with conditional updates
    (`seats_taken < capacity`), which is what makes seat allocation safe when
    many people register at once; it always equals the number of registrations
    with status "registered" (a test checks it after races).
    """

    title = models.CharField(max_length=200)
    description = models.TextField(blank=True, max_length=2000)
    course = models.ForeignKey(
        CoursePage,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="events",
        help_text="The course this session belongs to, if any.",
    )
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    time_zone = models.CharField(
        max_length=64,
        default="UTC",
        validators=[validate_time_zone],
        help_text="The time zone the session is announced in (e.g. Europe/Dublin).",
    )
    join_url = models.URLField(
        "join link", max_length=500, help_text="Shown only to people with a seat."
    )
    instructor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="events_taught"
    )
    capacity = models.PositiveIntegerField(validators=[MinValueValidator(1)])
    seats_taken = models.PositiveIntegerField(default=0, editable=False)
    cancelled_at = models.DateTimeField(null=True, blank=True, editable=False)
    cancellation_emailed_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["starts_at", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(ends_at__gt=models.F("starts_at")),
                name="courses_event_ends_after_start",
                violation_error_message="The session must end after it starts.",
            ),
            models.CheckConstraint(
                condition=models.Q(capacity__gte=1), name="courses_event_capacity_positive"
            ),
            models.CheckConstraint(
                condition=models.Q(seats_taken__lte=models.F("capacity"))
                | models.Q(cancelled_at__isnull=False),
                name="courses_event_seats_within_capacity",
            ),
        ]

    def __str__(self):
        return self.title

    def when_for(self, person) -> str:
        """The session's time in its own zone and in `person`'s (for their e-mails)."""
        return format_event_span(self.starts_at, self.ends_at, self.time_zone, zone_of(person))

    def clean(self):
        super().clean()
        if self.starts_at and self.ends_at and self.ends_at <= self.starts_at:
            raise ValidationError({"ends_at": "The session must end after it starts."})
        if self.pk and self.capacity is not None and self.capacity < self.seats_taken:
            raise ValidationError(
                {"capacity": f"{self.seats_taken} people already hold a seat; keep at least that."}
            )


class RegistrationStatus(models.TextChoices):
    REGISTERED = "registered", "Registered"
    WAITLISTED = "waitlisted", "Waitlisted"
    CANCELLED = "cancelled", "Cancelled"


class EventRegistration(models.Model):
    """A person's seat (or place on the waitlist) for an event. Cancelled rows
    are kept; the waitlist is served in order of `pk` (arrival order)."""

    event = models.ForeignKey(Event, on_delete=models.PROTECT, related_name="registrations")
    person = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="event_registrations"
    )
    status = models.CharField(max_length=20, choices=RegistrationStatus.choices)
    created_at = models.DateTimeField()
    promoted_at = models.DateTimeField(null=True, blank=True)
    promotion_emailed_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    attended = models.BooleanField(null=True, blank=True)
    reminded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["event", "person"],
                condition=~models.Q(status="cancelled"),
                name="courses_eventregistration_one_active_per_person",
            ),
        ]
        indexes = [models.Index(fields=["event", "status", "id"])]

    def __str__(self):
        return f"{self.person} for {self.event} ({self.status})"


# --- learning paths ---------------------------------------------------------------

from modelcluster.fields import ParentalKey  # noqa: E402
from modelcluster.models import ClusterableModel  # noqa: E402
from wagtail.admin.panels import InlinePanel, PageChooserPanel  # noqa: E402
from wagtail.models import Orderable  # noqa: E402


class LearningPath(ClusterableModel):
    """An ordered set of courses that instructors author in the admin.

    A path for a certification (developer, architect) continues after its
    courses with the certification's exam, project and certificate (steps the
    certificates app adds); a path for no certification (Business Foundations,
    the Fast Start series) ends in the completion record of its courses.
    """

    slug = models.SlugField(max_length=40, unique=True, help_text="Its address: /paths/<slug>/")
    title = models.CharField(max_length=200)
    intro = models.TextField(blank=True, help_text="One or two sentences on the path's page.")
    certification = models.CharField(
        max_length=20,
        choices=Certification.choices,
        default=Certification.NONE,
        help_text="The certification the path leads to; none for a sales path.",
    )
    sort_order = models.PositiveSmallIntegerField(
        default=0, help_text="Paths are listed in this order, smallest first."
    )
    is_published = models.BooleanField(default=True)

    panels = [
        FieldPanel("title"),
        FieldPanel("slug"),
        FieldPanel("intro"),
        FieldPanel("certification"),
        FieldPanel("sort_order"),
        FieldPanel("is_published"),
        InlinePanel("path_courses", label="Courses, in order", min_num=1),
    ]

    class Meta:
        ordering = ["sort_order", "title", "pk"]

    def __str__(self) -> str:
        return self.title


class LearningPathCourse(Orderable):
    path = ParentalKey(LearningPath, on_delete=models.CASCADE, related_name="path_courses")
    course = models.ForeignKey(CoursePage, on_delete=models.CASCADE, related_name="+")

    panels = [PageChooserPanel("course", page_type="courses.CoursePage")]

    class Meta(Orderable.Meta):
        constraints = [
            models.UniqueConstraint(fields=["path", "course"], name="courses_path_course_once")
        ]

    def __str__(self) -> str:
        return f"{self.path} · {self.course}"
