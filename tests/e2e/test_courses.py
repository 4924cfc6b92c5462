"""Courses in the browser: an instructor writes a lesson and submits it, programme
staff approve it, a learner finds the course, enrols, completes it and sees the
dashboard change; a learner registers for a session and is waitlisted on a full one.

Every page a learner sees is checked with axe-core and shot at 1280 and 390 wide.
Transactional tests flush the database after each test, so `course_section`
replays the data migrations (groups, catalogue, "Course review" workflow) when
their rows are gone. (`serialized_rollback` cannot help here: once Playwright's
event loop runs, Django hands this thread a new connection object, which lacks
the serialized copy made at set-up.)
"""

import re
from importlib import import_module

import pytest
from django.apps import apps
from django.contrib.auth.models import Group
from playwright.sync_api import expect

from courses.demo import seed_courses, seed_events
from courses.models import CourseIndexPage, CoursePage, Event, LessonPage
from lms.permissions import INSTRUCTORS, PROGRAMME_STAFF
from tests.e2e.conftest import AXE_PATH, MOBILE, _format_violations, no_sideways_scroll
from tests.lms.factories import UserFactory

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.django_db(transaction=True),
]

COURSE_SLUG = "payment-flows-and-webhooks"
COURSE_TITLE = "Payment flows and webhooks"
NEW_LESSON = "Testing webhooks locally"
SEARCH_WORD = "replay"  # only the new lesson uses it
LESSON_TEXT = "Run the CLI's listen command, trigger a test event, and replay it after each change."


def _person(email, first, last, group=None):
    person = UserFactory(email=email, first_name=first, last_name=last)
    if group:
        person.groups.add(Group.objects.get(name=group))
    return person


# The data migrations this section needs, in order: (module, function); all idempotent.
DATA_MIGRATIONS = [
    ("partners.migrations.0002_create_instructor_and_staff_groups", "create_roles"),
    ("courses.migrations.0002_course_catalogue_and_instructor_permissions", "create_catalogue"),
    ("courses.migrations.0004_event_permissions_and_reminder_schedule", "forwards"),
    ("courses.migrations.0005_course_review_workflow", "create_workflow"),
]


@pytest.fixture
def course_section(home_page):
    """The catalogue, roles and moderation workflow, as the migrations made them."""
    from wagtail.models import Collection

    if not Collection.objects.exists():
        Collection.add_root(name="Root")
    if not CourseIndexPage.objects.exists():
        home_page.add_child(instance=CourseIndexPage(title="Courses", slug="courses"))
    for module, function in DATA_MIGRATIONS:
        getattr(import_module(module), function)(apps, None)
    return CourseIndexPage.objects.get()


@pytest.fixture
def people(course_section):
    return {
        "instructor": _person("ines@example.com", "Ines", "Instructor", INSTRUCTORS),
        "staff": _person("sam@example.com", "Sam", "Staff", PROGRAMME_STAFF),
        "learner": _person("lena@example.com", "Lena", "Learner"),
    }


def _check_admin_a11y(page):
    """axe-core on a Wagtail admin page: no serious or critical violations, except
    Draftail's editable area, which has no accessible name upstream (Wagtail's
    markup, not ours; its field label is next to it)."""
    page.add_script_tag(path=str(AXE_PATH))
    result = page.evaluate(
        """async () => await axe.run(
            {exclude: [[".Draftail-Editor [contenteditable]"]]},
            {resultTypes: ["violations"]}
        )"""
    )
    bad = [v for v in result["violations"] if v.get("impact") in {"serious", "critical"}]
    assert not bad, f"{page.url}\n{_format_violations(bad)}"


def _learner_view(page, shoot, check_a11y, name):
    check_a11y(page)
    no_sideways_scroll(page)
    shoot(page, name)


def test_instructor_submits_staff_approve_learner_completes(
    live_server, home_page, people, sign_in, shoot, check_a11y
):
    seed_courses()
    url = live_server.url

    # A learner looks for the topic before the lesson exists: nothing yet.
    learner = sign_in(people["learner"])
    learner.goto(f"{url}/courses/?q={SEARCH_WORD}")
    expect(learner.get_by_role("heading", name=re.compile(r"^0 courses"))).to_be_visible()

    # --- instructor: write the lesson in the admin and submit it --------------
    instructor = sign_in(people["instructor"])
    course = CoursePage.objects.get(slug=COURSE_SLUG)
    instructor.goto(f"{url}/admin/pages/add/courses/lessonpage/{course.pk}/")
    instructor.get_by_role("textbox", name=re.compile(r"^Title")).fill(NEW_LESSON)
    instructor.get_by_role("textbox", name="Summary").fill(
        "Forward events to your laptop with the CLI and replay them until your handler is right."
    )
    instructor.get_by_role("button", name="Insert a block").first.click()
    instructor.get_by_role("option", name="Paragraph").click()
    instructor.locator(".Draftail-Editor [contenteditable='true']").first.click()
    instructor.keyboard.type(LESSON_TEXT)
    # Draftail writes the editor's content to its hidden input a moment later.
    expect(instructor.locator("input[name='body-0-value']")).to_have_value(
        re.compile("listen command")
    )
    shoot(instructor, "01-instructor-writes-lesson")
    _check_admin_a11y(instructor)
    instructor.get_by_role("button", name="More actions").click()
    instructor.get_by_role("button", name=re.compile(r"Submit to Course review")).click()
    expect(instructor.get_by_text("submitted for moderation")).to_be_visible()
    shoot(instructor, "02-instructor-submitted")

    lesson = LessonPage.objects.get(title=NEW_LESSON)
    assert not lesson.live
    assert lesson.current_workflow_state.workflow.name == "Course review"
    # Instructors have no publish button anywhere in the course section.
    instructor.goto(f"{url}/admin/pages/{lesson.pk}/edit/")
    expect(instructor.get_by_role("button", name=re.compile(r"^Publish"))).to_have_count(0)

    # Still a draft: learners do not see it.
    learner.goto(f"{url}/courses/?q={SEARCH_WORD}")
    expect(learner.get_by_role("heading", name=re.compile(r"^0 courses"))).to_be_visible()

    # --- programme staff: approve from the review queue ----------------------
    staff = sign_in(people["staff"])
    staff.goto(f"{url}/admin/")
    expect(staff.get_by_text(NEW_LESSON).first).to_be_visible()
    shoot(staff, "03-staff-review-queue")
    _check_admin_a11y(staff)
    staff.goto(f"{url}/admin/pages/{lesson.pk}/edit/")
    staff.get_by_role("button", name="More actions").click()
    staff.get_by_role("button", name="Approve and Publish", exact=True).click()
    expect(staff.get_by_role("status")).to_contain_text(f"Page '{NEW_LESSON}' has been updated")
    expect(staff.get_by_role("row", name=re.compile(NEW_LESSON))).to_contain_text("live")
    shoot(staff, "04-staff-approved")
    lesson.refresh_from_db()
    assert lesson.live

    # --- learner: find, enrol, complete, dashboard ---------------------------
    learner.goto(f"{url}/courses/")
    _learner_view(learner, shoot, check_a11y, "05-catalogue")
    learner.get_by_label("Search courses and lessons").fill(SEARCH_WORD)
    learner.get_by_label("Kind").select_option("technical")
    learner.get_by_role("button", name="Show courses").click()
    expect(learner.get_by_role("heading", name=re.compile(r"^1 course"))).to_be_visible()
    _learner_view(learner, shoot, check_a11y, "06-catalogue-search")

    learner.get_by_role("link", name=COURSE_TITLE).click()
    expect(learner.get_by_role("heading", level=1)).to_have_text(COURSE_TITLE)
    _learner_view(learner, shoot, check_a11y, "07-course")
    learner.get_by_role("button", name="Enrol in this course").click()
    # Enrolling opens the first lesson.
    expect(learner.get_by_role("status")).to_contain_text(f"You are enrolled in {COURSE_TITLE}")
    expect(learner.get_by_text("Lesson 1 of 4")).to_be_visible()
    expect(learner.get_by_text("0 of 4 lessons")).to_be_visible()
    expect(learner.get_by_text("You completed this lesson.")).to_be_hidden()
    _learner_view(learner, shoot, check_a11y, "08-first-lesson")

    learner.get_by_role("navigation", name="Breadcrumb").get_by_role("link").click()
    expect(learner.get_by_role("heading", level=1)).to_have_text(COURSE_TITLE)
    _learner_view(learner, shoot, check_a11y, "09-course-enrolled")
    learner.get_by_role("link", name=NEW_LESSON).click()
    expect(learner.get_by_role("heading", level=1)).to_have_text(NEW_LESSON)
    expect(learner.get_by_text("Lesson 4 of 4")).to_be_visible()
    expect(learner.get_by_role("article")).to_contain_text(LESSON_TEXT)
    _learner_view(learner, shoot, check_a11y, "10-new-lesson")
    learner.get_by_role("button", name="Mark complete").click()
    # The last lesson: back to the course, which shows the progress.
    expect(learner.get_by_role("heading", level=1)).to_have_text(COURSE_TITLE)
    expect(learner.get_by_text("1 of 4 lessons")).to_be_visible()
    new_lesson_row = learner.get_by_role("listitem").filter(has_text=NEW_LESSON)
    expect(new_lesson_row.get_by_text("Completed")).to_be_visible()
    _learner_view(learner, shoot, check_a11y, "11-course-progress")

    learner.goto(f"{url}/dashboard/")
    continue_card = learner.get_by_role("region", name=COURSE_TITLE)
    expect(continue_card.get_by_text("1 of 4 lessons")).to_be_visible()
    expect(learner.get_by_role("link", name=re.compile(r"^Continue: "))).to_have_count(2)
    _learner_view(learner, shoot, check_a11y, "12-dashboard-in-progress")

    # Finish the course from "continue where you left off".
    learner.get_by_role("link", name=re.compile(r"^Continue: ")).first.click()
    for _ in range(3):
        learner.get_by_role("button", name=re.compile(r"^Mark complete")).click()
    expect(learner).to_have_url(re.compile(r"/dashboard/$"))
    expect(learner.get_by_role("status")).to_contain_text(f"You completed {COURSE_TITLE}")
    completed = learner.get_by_role("region", name="Completed")
    expect(completed.get_by_role("link", name=COURSE_TITLE)).to_be_visible()
    expect(learner.get_by_role("region", name="In progress")).to_contain_text("Nothing in progress")
    _learner_view(learner, shoot, check_a11y, "13-dashboard-completed")


def test_learner_registers_and_is_waitlisted_on_a_full_session(
    live_server, home_page, people, sign_in, shoot, check_a11y
):
    seed_courses()
    others = [_person(f"seat{i}@example.com", "Seat", f"Holder {i}") for i in range(3)]
    open_event, full_event = seed_events(instructor=people["instructor"], learners=others)
    assert full_event.capacity == 2  # two seats taken, one person already waiting

    learner = sign_in(people["learner"])
    learner.goto(f"{live_server.url}/events/")
    _learner_view(learner, shoot, check_a11y, "01-events")
    open_card = learner.get_by_role("listitem").filter(has_text=open_event.title)
    full_card = learner.get_by_role("listitem").filter(has_text=full_event.title)
    expect(full_card.get_by_text("Full: waitlist open")).to_be_visible()
    expect(open_card.get_by_role("link", name="Join the session")).to_have_count(0)

    open_card.get_by_role("button", name="Register").click()
    open_card = learner.get_by_role("listitem").filter(has_text=open_event.title)
    expect(open_card.get_by_text("You have a seat")).to_be_visible()
    expect(open_card.get_by_role("link", name="Join the session")).to_be_visible()
    expect(open_card.get_by_role("link", name=re.compile(r"Add to calendar"))).to_be_visible()
    _learner_view(learner, shoot, check_a11y, "02-events-registered")

    full_card = learner.get_by_role("listitem").filter(has_text=full_event.title)
    full_card.get_by_role("button", name="Join the waitlist").click()
    full_card = learner.get_by_role("listitem").filter(has_text=full_event.title)
    expect(full_card.get_by_text("Waitlist #2")).to_be_visible()
    expect(full_card.get_by_role("link", name="Join the session")).to_have_count(0)
    expect(full_card.get_by_role("button", name="Cancel my waitlist place")).to_be_visible()
    _learner_view(learner, shoot, check_a11y, "03-events-waitlisted")

    statuses = dict(
        Event.objects.get(pk=full_event.pk)
        .registrations.filter(person=people["learner"])
        .values_list("person__email", "status")
    )
    assert statuses == {"lena@example.com": "waitlisted"}


def test_course_pages_on_a_phone(live_server, home_page, people, sign_in, shoot, check_a11y):
    from courses import services

    courses = {course.slug: course for course in seed_courses()}
    course = courses[COURSE_SLUG]
    lessons = list(LessonPage.objects.child_of(course).live().order_by("path"))
    services.enrolment_create(person=people["learner"], course=course)
    services.lesson_complete(person=people["learner"], lesson_id=lessons[0].pk)
    seed_events(instructor=people["instructor"], learners=[people["staff"]])

    phone = sign_in(people["learner"], viewport=MOBILE)
    for name, path in [
        ("catalogue", "/courses/"),
        ("course", course.url),
        ("lesson", lessons[1].url),
        ("dashboard", "/dashboard/"),
        ("events", "/events/"),
        ("path", "/paths/developer/"),
    ]:
        phone.goto(live_server.url + path)
        expect(phone.get_by_role("heading", level=1)).to_be_visible()
        _learner_view(phone, shoot, check_a11y, name)
