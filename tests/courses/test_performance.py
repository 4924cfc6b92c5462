"""The fast paths of the course pages keep Wagtail's behaviour.

Course and lesson pages are routed with one query below the catalogue, view
restrictions are read with one query, the lesson body is cached per content,
and opening a lesson does not write on every view. These tests check that
nothing a learner must not see slips through: drafts, unpublished, moved,
renamed and restricted pages, and media changes.
"""

from datetime import timedelta

import pytest
from django.contrib.auth.models import Group
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext, override_settings
from django.utils import timezone
from wagtail.models import PageViewRestriction

from courses import lesson_body_cache, services
from courses.models import CoursePage, Enrolment, LessonPage
from tests.lms.factories import MODEL_BACKEND

from .factories import CoursePageFactory, LessonPageFactory, course_with_lessons, paragraphs

pytestmark = pytest.mark.django_db


def publish(page, **changes):
    page = type(page).objects.get(pk=page.pk)
    for name, value in changes.items():
        setattr(page, name, value)
    page.save_revision().publish()
    return type(page).objects.get(pk=page.pk)


def html_of(client, url) -> str:
    response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    return response.content.decode()


# --- routing ------------------------------------------------------------------


def test_course_and_lesson_pages_route_to_the_right_pages(learner_client):
    course, lessons = course_with_lessons(2)
    other, _ = course_with_lessons(1, title="Other course")
    assert "Course" in html_of(learner_client, course.url)
    assert lessons[1].title in html_of(learner_client, lessons[1].url)
    # a lesson's slug under the wrong course is not found (Wagtail walks the tree)
    assert learner_client.get(f"{other.url}{lessons[0].slug}/").status_code == 404
    assert learner_client.get(f"{course.url}no-such-lesson/").status_code == 404
    assert learner_client.get("/courses/no-such-course/").status_code == 404
    assert learner_client.get(f"{lessons[0].url}deeper/").status_code == 404


def test_unpublished_lesson_is_404_and_published_again_is_served(learner_client):
    _, lessons = course_with_lessons(2)
    url = lessons[0].url
    assert learner_client.get(url).status_code == 200
    lessons[0].unpublish()
    assert learner_client.get(url).status_code == 404
    publish(lessons[0])
    assert learner_client.get(url).status_code == 200


def test_a_lesson_of_an_unpublished_course_is_404(learner_client):
    course, lessons = course_with_lessons(1)
    assert learner_client.get(lessons[0].url).status_code == 200
    CoursePage.objects.get(pk=course.pk).unpublish()
    assert LessonPage.objects.get(pk=lessons[0].pk).live
    assert learner_client.get(lessons[0].url).status_code == 404


def test_renaming_a_lesson_moves_its_url(learner_client):
    _, lessons = course_with_lessons(1)
    old_url = lessons[0].url
    assert learner_client.get(old_url).status_code == 200
    renamed = publish(lessons[0], slug="renamed-lesson")
    assert renamed.url.endswith("/renamed-lesson/")
    assert learner_client.get(old_url).status_code == 404
    assert learner_client.get(renamed.url).status_code == 200


def test_renaming_a_course_moves_its_lessons_urls(learner_client):
    course, lessons = course_with_lessons(1)
    old_lesson_url = lessons[0].url
    assert learner_client.get(old_lesson_url).status_code == 200
    publish(course, slug="renamed-course")
    new_lesson_url = LessonPage.objects.get(pk=lessons[0].pk).url
    assert new_lesson_url == f"/courses/renamed-course/{lessons[0].slug}/"
    assert learner_client.get(old_lesson_url).status_code == 404
    assert learner_client.get(new_lesson_url).status_code == 200
    assert learner_client.get("/courses/renamed-course/").status_code == 200


def test_moving_a_lesson_to_another_course_moves_its_url(learner_client):
    _, lessons = course_with_lessons(2)
    target = CoursePageFactory(title="Target course")
    old_url = lessons[1].url
    assert learner_client.get(old_url).status_code == 200
    LessonPage.objects.get(pk=lessons[1].pk).move(target, pos="last-child")
    moved = LessonPage.objects.get(pk=lessons[1].pk)
    assert moved.url == f"{target.url}{moved.slug}/"
    # the old URL is gone (Wagtail's redirects app may point it to the new one)
    response = learner_client.get(old_url)
    assert response.status_code in (301, 404)
    if response.status_code == 301:
        assert response["Location"] == moved.url
    html = html_of(learner_client, moved.url)
    assert "Target course" in html


def test_deleted_lesson_is_404(learner_client):
    _, lessons = course_with_lessons(2)
    url = lessons[1].url
    LessonPage.objects.get(pk=lessons[1].pk).delete()
    assert learner_client.get(url).status_code == 404


# --- drafts and the cached body -------------------------------------------------


def test_draft_changes_are_never_shown_and_publishing_shows_them(learner_client, learner):
    _, lessons = course_with_lessons(1)
    lesson = LessonPage.objects.get(pk=lessons[0].pk)
    url = lesson.url
    assert "Payments move money" in html_of(learner_client, url)

    lesson.title = "Draft title"
    lesson.body = paragraphs(1, text="Secret draft words")
    lesson.save_revision()  # a draft, not published
    html = html_of(learner_client, url)
    assert "Secret draft words" not in html and "Draft title" not in html
    assert "Payments move money" in html

    LessonPage.objects.get(pk=lesson.pk).get_latest_revision().publish()
    html = html_of(learner_client, url)
    assert "Secret draft words" in html and "Draft title" in html
    assert "Payments move money" not in html


def test_a_preview_of_a_draft_never_reaches_the_cache(learner):
    _, lessons = course_with_lessons(1)
    lesson = LessonPage.objects.get(pk=lessons[0].pk)
    live_html = str(lesson_body_cache.lazy_lesson_body_html(lesson, preview=False))
    lesson.body = paragraphs(1, text="Secret draft words")  # the draft, in memory
    preview_html = str(lesson_body_cache.lazy_lesson_body_html(lesson, preview=True))
    assert "Secret draft words" in preview_html
    fresh = LessonPage.objects.get(pk=lesson.pk)
    assert str(lesson_body_cache.lazy_lesson_body_html(fresh, preview=False)) == live_html
    assert "Secret draft words" not in live_html


def test_body_cache_follows_the_stored_body_even_without_a_revision(learner):
    _, lessons = course_with_lessons(1)
    lesson = LessonPage.objects.get(pk=lessons[0].pk)
    assert "Payments move money" in lesson_body_cache.lesson_body_html(lesson)
    lesson.body = paragraphs(1, text="Edited in place")
    lesson.save()  # e.g. a data migration: no revision, same live revision id
    html = lesson_body_cache.lesson_body_html(LessonPage.objects.get(pk=lesson.pk))
    assert "Edited in place" in html and "Payments move money" not in html


def test_body_cache_renders_like_the_block_templates(learner_client):
    _, lessons = course_with_lessons(1)
    lesson = LessonPage.objects.get(pk=lessons[0].pk)
    lesson.body = [
        {"type": "heading", "value": {"text": "Why <retries>", "level": "h2"}},
        {
            "type": "self_check",
            "value": {
                "question": "Which header?",
                "options": [
                    {"text": "Idempotency-Key", "correct": True, "feedback": "Yes."},
                    {"text": "Accept", "correct": False, "feedback": "No."},
                ],
                "explanation": "",
            },
        },
    ]
    lesson.save_revision().publish()
    lesson = LessonPage.objects.get(pk=lesson.pk)
    html = lesson_body_cache.lesson_body_html(lesson)
    assert "Why &lt;retries&gt;" in html  # escaped like the page
    block_id = lesson.body[1].id
    assert f'name="self-check-{block_id}"' in html  # ids as include_block passes them
    assert html == lesson_body_cache.lesson_body_html(lesson)  # second read: the cache


def test_media_changes_start_a_new_body_generation(learner):
    from wagtail.images.models import Image
    from wagtail.images.tests.utils import get_test_image_file

    cache.clear()
    _, lessons = course_with_lessons(1)
    lesson = LessonPage.objects.get(pk=lessons[0].pk)
    lesson_body_cache.lesson_body_html(lesson)
    before = cache.get("courses:media-generation")
    Image.objects.create(title="New", file=get_test_image_file())
    assert cache.get("courses:media-generation") != before


# --- view restrictions ----------------------------------------------------------


def test_group_restricted_course_and_its_lessons_are_refused_to_others(client, learner):
    course, lessons = course_with_lessons(1)
    group = Group.objects.create(name="Partner X")
    restriction = PageViewRestriction.objects.create(
        page=course, restriction_type=PageViewRestriction.GROUPS
    )
    restriction.groups.add(group)
    client.force_login(learner, backend=MODEL_BACKEND)
    assert client.get(course.url).status_code != 200
    assert client.get(lessons[0].url).status_code != 200
    learner.groups.add(group)
    assert client.get(course.url).status_code == 200
    assert client.get(lessons[0].url).status_code == 200


def test_an_alias_uses_its_source_pages_restrictions(client, learner):
    course, lessons = course_with_lessons(1, title="Source course")
    alias = course.create_alias(update_slug="alias-course", recursive=True)
    alias_lesson = LessonPage.objects.get(alias_of=lessons[0])
    client.force_login(learner, backend=MODEL_BACKEND)
    assert client.get(alias_lesson.url).status_code == 200
    group = Group.objects.create(name="Partner X")
    restriction = PageViewRestriction.objects.create(
        page=course, restriction_type=PageViewRestriction.GROUPS
    )
    restriction.groups.add(group)
    assert client.get(alias.url).status_code != 200
    assert client.get(alias_lesson.url).status_code != 200


def test_login_restriction_asks_anonymous_people_to_sign_in(client):
    course, _ = course_with_lessons(1)
    PageViewRestriction.objects.create(page=course, restriction_type=PageViewRestriction.LOGIN)
    response = client.get(course.url)
    assert response.status_code == 302 and "login" in response["Location"]


# --- no write per view ------------------------------------------------------------


def test_reopening_the_same_lesson_does_not_write(learner_client, learner):
    course, lessons = course_with_lessons(2)
    services.enrolment_create(person=learner, course=course)
    html_of(learner_client, lessons[0].url)
    first = Enrolment.objects.get()
    assert first.last_lesson_id == lessons[0].pk
    with CaptureQueriesContext(connection) as queries:
        html_of(learner_client, lessons[0].url)
    assert not [q for q in queries if q["sql"].startswith("UPDATE")]
    assert Enrolment.objects.get().last_activity_at == first.last_activity_at
    html_of(learner_client, lessons[1].url)  # another lesson: remembered at once
    assert Enrolment.objects.get().last_lesson_id == lessons[1].pk


def test_touch_refreshes_activity_after_the_interval(learner):
    course, lessons = course_with_lessons(1)
    enrolment, _ = services.enrolment_create(person=learner, course=course)
    now = timezone.now()
    assert services.enrolment_touch(person=learner, lesson=lessons[0], now=now)
    enrolment.refresh_from_db()
    soon = now + services.TOUCH_INTERVAL - timedelta(seconds=1)
    assert not services.enrolment_touch(person=learner, lesson=lessons[0], now=soon)
    assert not services.enrolment_touch(
        person=learner, lesson=lessons[0], enrolment=enrolment, now=soon
    )
    later = now + services.TOUCH_INTERVAL + timedelta(seconds=1)
    assert services.enrolment_touch(
        person=learner, lesson=lessons[0], enrolment=enrolment, now=later
    )
    assert Enrolment.objects.get().last_activity_at == later


def test_touch_without_enrolment_writes_nothing(learner):
    _, lessons = course_with_lessons(1)
    assert not services.enrolment_touch(person=learner, lesson=lessons[0], enrolment=None)
    assert not services.enrolment_touch(person=learner, lesson=lessons[0])
    assert not Enrolment.objects.exists()


# --- warm query counts ------------------------------------------------------------


def warm_queries(client, url) -> int:
    client.get(url)
    client.get(url)  # caches warm, lesson remembered: the usual case
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200, url
    return len(queries)


# Pinned: the same at both sizes (the cold-cache counts are in test_pages).
# "lesson" is a render (page cache off); "lesson, repeat view" is answered
# from the session's copy (courses.learner_page_cache): the session read only.
EXPECTED_WARM_QUERIES = {
    "catalogue": 12,
    "course": 12,
    "lesson": 12,
    "lesson, repeat view": 1,
    "dashboard": 10,  # with every published learning path: +3, whatever their number
}


@pytest.mark.parametrize("size", [(5, 5, 1), (50, 50, 20)])
def test_warm_query_counts_do_not_grow_with_the_data(learner_client, learner, catalogue, size):
    from wagtail.images.models import Image
    from wagtail.images.tests.utils import get_test_image_file

    lesson_count, blocks, images = size
    course, lessons = course_with_lessons(lesson_count)
    services.lesson_complete(person=learner, lesson_id=lessons[0].pk)
    pictures = [
        {
            "type": "image",
            "value": {
                "image": Image.objects.create(title=f"i{i}", file=get_test_image_file()).pk,
                "alt_text": "",
                "caption": "",
            },
        }
        for i in range(images)
    ]
    big = LessonPageFactory(parent=course, body=paragraphs(blocks) + pictures)
    counts = {
        "catalogue": warm_queries(learner_client, "/courses/"),
        "course": warm_queries(learner_client, course.url),
        "lesson, repeat view": warm_queries(learner_client, big.url),
        "dashboard": warm_queries(learner_client, "/dashboard/"),
    }
    with override_settings(LEARNER_PAGE_CACHE=False):
        counts["lesson"] = warm_queries(learner_client, big.url)
    assert counts == EXPECTED_WARM_QUERIES
