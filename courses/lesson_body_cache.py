"""The rendered HTML of lesson bodies, the same for every learner.

Contract:
- `lesson_body_html(lesson)` -> SafeString: the lesson's StreamField body
  rendered to HTML. The cache key is a digest of the body's stored JSON (as
  read from the page row in this request), so publishing a new revision, or
  any other change of the body, reads a different key at once, in every
  process, whatever the cache backend (per-process LocMemCache included):
  no invalidation is needed for the content itself. What the HTML also
  depends on outside the body (image renditions, document and link URLs) is
  refreshed after BODY_TTL at the latest, and at once in this process (and in
  every process with a shared cache) when an image, rendition or document
  is saved or deleted (`media_changed`, connected in courses.apps).
- `media_generation_key()` -> str: the cache key of the media generation (the
  counter `media_changed` moves). courses.learner_page_cache reads it in the
  same round trip as its own generations: a stored page shows the media too.
- `lazy_lesson_body_html(lesson, *, preview)` -> an object a template prints
  with `{{ body_html }}`; it renders (or reads the cache) only when printed.
  Previews render the draft and never read or write the cache: a draft must
  never reach a learner, and a draft shares the live page's id.
- Nothing here is per learner: the block templates use only the block's value
  and id (self-check answers are practice and never count).
"""

from __future__ import annotations

import hashlib
import json
import time

from django.core.cache import cache
from django.core.serializers.json import DjangoJSONEncoder
from django.utils.safestring import SafeString, mark_safe

from .selectors import prefetch_lesson_media

BODY_TTL = 300  # seconds
_MEDIA_GENERATION = "courses:media-generation"


def media_generation_key() -> str:
    return _MEDIA_GENERATION


def _body_digest(lesson) -> str:
    raw = lesson.body.raw_data
    data = json.dumps(list(raw), sort_keys=True, cls=DjangoJSONEncoder, separators=(",", ":"))
    return hashlib.blake2b(data.encode(), digest_size=16).hexdigest()


def _render_body(lesson) -> SafeString:
    prefetch_lesson_media(lesson=lesson)
    parts = [child.render_as_block(context={"block_id": child.id}) for child in lesson.body]
    return mark_safe("".join(parts))  # noqa: S308 - every block renders through an autoescaping template


def lesson_body_html(lesson) -> SafeString:
    generation = cache.get(_MEDIA_GENERATION)
    if generation is None:  # first use, or evicted: start a generation never used before
        cache.add(_MEDIA_GENERATION, time.time_ns(), None)
        generation = cache.get(_MEDIA_GENERATION)
    key = f"courses:lesson-body:{lesson.pk}:{generation}:{_body_digest(lesson)}"
    html = cache.get(key)
    if html is None:
        html = _render_body(lesson)
        cache.set(key, str(html), BODY_TTL)
    return mark_safe(html)  # noqa: S308 - rendered above by the block templates


class _LazyHtml:
    """Renders on first use in a template (`{{ body_html }}`), once."""

    def __init__(self, render):
        self._render = render
        self._html: SafeString | None = None

    def __html__(self) -> SafeString:
        if self._html is None:
            self._html = self._render()
        return self._html

    __str__ = __html__


def lazy_lesson_body_html(lesson, *, preview: bool) -> _LazyHtml:
    if preview:
        return _LazyHtml(lambda: _render_body(lesson))
    return _LazyHtml(lambda: lesson_body_html(lesson))


def media_changed(**kwargs) -> None:
    """Signal receiver: images, renditions or documents changed; rendered
    bodies that show them are stale."""
    try:
        cache.incr(_MEDIA_GENERATION)
    except ValueError:  # not set yet (or evicted)
        cache.set(_MEDIA_GENERATION, time.time_ns(), None)
