"""Repeat views of a lesson page, answered from a copy rendered for the same session.

A learner reading a course opens the same lesson again and again (back from
the next lesson, a reload, a tab restored). Rendering one costs routing,
the view-restriction check, the progress reads and the template; answering a
repeat view from the copy rendered for this session costs the session read
and one cache read.

Contract:
- `LearnerPageCacheMiddleware` (after the message middleware): a GET of a
  lesson-shaped URL (`/courses/<course>/<lesson>/`, no query string) by a
  signed-in session that carries a CSRF cookie and has no pending messages is
  answered from the cache when a copy stored for this session key, CSRF
  cookie and path is there and none of the generations it was rendered under
  has moved since. Anything else goes through untouched; the response is
  stored when serving the lesson marked it (`mark_cacheable`, called from
  courses.wagtail_hooks): a 200 of a published lesson for a signed-in
  learner, never a preview.
- The copy is per session and per CSRF cookie, so it never reaches another
  person, the forms in it carry tokens valid for this cookie, and signing in
  again (a new session key and CSRF secret) renders afresh.
- Generations (cache counters; a missing one is a miss):
  - content: any page published, unpublished, moved or deleted, any view
    restriction or group permission change (`content_changed`), plus the
    media generation of `courses.lesson_body_cache` (images and documents in bodies);
  - learner, per person: their enrolments, lesson progress, resume bookmark,
    user row (name, password, active flag) and groups (`learner_changed`).
  Generations are read before the page is rendered and stored with it, so a
  change during the render leaves a copy no later request accepts.
- Copies live PAGE_TTL seconds at most; a repeat view within it does not move
  the resume bookmark's time, which `courses.services.enrolment_touch` only
  refreshes every TOUCH_INTERVAL (the same five minutes) anyway.
- `LEARNER_PAGE_CACHE = False` (environment `LEARNER_PAGE_CACHE=0`) turns it off.
"""

from __future__ import annotations

import hashlib
import re
import time

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.http import HttpResponse
from wagtail.models import Page

from .lesson_body_cache import media_generation_key

PAGE_TTL = 300  # seconds
_LESSON_PATH = re.compile(r"^/courses/[^/]+/[^/]+/$")
_CONTENT_GENERATION = "courses:content-generation"
_MEDIA_GENERATION = media_generation_key()
_STORED_HEADERS = ("Content-Type", "Cache-Control", "Content-Language")
_CACHEABLE = "_learner_page_cacheable"
_KEYS = "_learner_page_keys"


def _learner_key(user_id) -> str:
    return f"courses:learner-generation:{user_id}"


def _bump(key: str) -> None:
    # A fresh value never used before (time_ns): correct with any backend,
    # including per-process LocMemCache where increments would diverge.
    cache.set(key, time.time_ns(), None)


def _bump_now_and_on_commit(key: str) -> None:
    # Now, and again once the change is committed: a page rendered from the
    # data before the commit but after the first bump is stored under a
    # generation the second bump retires.
    _bump(key)
    transaction.on_commit(lambda: _bump(key))


def content_changed(**kwargs) -> None:
    """Signal receiver: some page, restriction or permission changed."""
    _bump_now_and_on_commit(_CONTENT_GENERATION)


def learner_changed(user_id) -> None:
    """This person's learning records, account or groups changed."""
    if user_id is not None:
        _bump_now_and_on_commit(_learner_key(user_id))


def _person_record_changed(sender, instance, **kwargs) -> None:
    learner_changed(instance.person_id)


def _user_changed(sender, instance, **kwargs) -> None:
    learner_changed(instance.pk)


def _user_relations_changed(sender, instance, action, reverse, **kwargs) -> None:
    if not action.startswith("post_"):
        return
    if reverse:  # changed from the group's (or permission's) side: many people
        content_changed()
    else:
        learner_changed(instance.pk)


def _page_deleted(sender, instance, **kwargs) -> None:
    if isinstance(instance, Page):
        content_changed()


def connect_signals() -> None:
    """Called once from CoursesConfig.ready."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group
    from django.db.models.signals import m2m_changed, post_delete, post_save
    from wagtail.models import PageViewRestriction, Site
    from wagtail.signals import page_published, page_unpublished, post_page_move

    from .models import Enrolment, LessonProgress

    def connect(signal, receiver, sender, name):
        signal.connect(receiver, sender=sender, dispatch_uid=f"courses-page-cache-{name}")

    for signal, name in ((page_published, "published"), (page_unpublished, "unpublished")):
        connect(signal, content_changed, None, name)
    connect(post_page_move, content_changed, None, "moved")
    connect(post_delete, _page_deleted, None, "page-deleted")
    for model in (PageViewRestriction, Group, Site):
        connect(post_save, content_changed, model, f"{model._meta.label}-save")
        connect(post_delete, content_changed, model, f"{model._meta.label}-delete")
    connect(m2m_changed, content_changed, PageViewRestriction.groups.through, "restriction-groups")
    connect(m2m_changed, content_changed, Group.permissions.through, "group-permissions")
    user_model = get_user_model()
    connect(post_save, _user_changed, user_model, "user-save")
    connect(m2m_changed, _user_relations_changed, user_model.groups.through, "user-groups")
    connect(
        m2m_changed,
        _user_relations_changed,
        user_model.user_permissions.through,
        "user-permissions",
    )
    for model in (Enrolment, LessonProgress):
        connect(post_save, _person_record_changed, model, f"{model._meta.label}-save")
        connect(post_delete, _person_record_changed, model, f"{model._meta.label}-delete")


def mark_cacheable(request) -> None:
    setattr(request, _CACHEABLE, True)


def _enabled() -> bool:
    return getattr(settings, "LEARNER_PAGE_CACHE", True)


def _candidate_keys(request) -> tuple[str, str] | None:
    """(page key, learner generation key) for a request that may be answered
    from a copy, or None."""
    if request.method != "GET" or request.META.get("QUERY_STRING"):
        return None
    if not _LESSON_PATH.match(request.path_info):
        return None
    csrf_cookie = request.COOKIES.get(settings.CSRF_COOKIE_NAME)
    if not csrf_cookie or settings.CSRF_USE_SESSIONS:
        return None
    if "messages" in request.COOKIES:
        return None
    session = request.session
    user_id = session.get("_auth_user_id")  # reads the session (one query)
    if user_id is None or "_messages" in session:
        return None
    digest = hashlib.blake2b(
        f"{session.session_key}\0{csrf_cookie}\0{request.path_info}".encode(), digest_size=20
    ).hexdigest()
    return f"courses:page:{digest}", _learner_key(user_id)


def _generations(values: dict, learner_key: str):
    gens = (
        values.get(_CONTENT_GENERATION),
        values.get(_MEDIA_GENERATION),
        values.get(learner_key),
    )
    return None if None in gens else gens


def _ensure_generations(learner_key: str):
    for key in (_CONTENT_GENERATION, _MEDIA_GENERATION, learner_key):
        cache.add(key, time.time_ns(), None)
    return _generations(
        cache.get_many([_CONTENT_GENERATION, _MEDIA_GENERATION, learner_key]), learner_key
    )


class LearnerPageCacheMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        keys = _candidate_keys(request) if _enabled() else None
        if keys is None:
            return self.get_response(request)
        page_key, learner_key = keys
        values = cache.get_many([page_key, _CONTENT_GENERATION, _MEDIA_GENERATION, learner_key])
        gens = _generations(values, learner_key)
        stored = values.get(page_key)
        if gens is not None and stored is not None and stored["gens"] == gens:
            response = HttpResponse(stored["content"])
            for name, value in stored["headers"]:
                response[name] = value
            return response
        if gens is None:
            gens = _ensure_generations(learner_key)
        response = self.get_response(request)
        if (
            gens is not None
            and getattr(request, _CACHEABLE, False)
            and response.status_code == 200
            and not response.streaming
            and not response.cookies  # nothing else set on the way in
        ):
            headers = [(h, response[h]) for h in _STORED_HEADERS if h in response]
            cache.set(
                page_key,
                {"gens": gens, "content": response.content, "headers": headers},
                PAGE_TTL,
            )
        return response
