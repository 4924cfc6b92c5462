"""Every list of the API is paginated the same way (lms.pagination).

For each list: walking it page by page, forwards and backwards, gives the
list's own order, each object once; the query count is the same for every
page size and at two data sizes; bad `limit` is 422 `validation_error`; both
cursors, a cursor from another list and another caller's object are 400
`invalid_cursor`.
"""

from dataclasses import dataclass, field
from datetime import timedelta
from itertools import count

import pytest
from django.contrib.auth.models import Group
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from exams.projects import services as project_services
from lms.permissions import INSTRUCTORS
from lms.tokens import token_create
from partners.api_keys.services import api_key_create
from tests.certificates.factories import CertificationFactory, CredentialFactory
from tests.courses.factories import CoursePageFactory, EventFactory
from tests.exams.factories import make_exam
from tests.exams.project_factories import make_brief
from tests.lms.api.helpers import assert_error
from tests.lms.factories import UserFactory
from tests.partners.factories import MembershipFactory, PartnerFactory
from tests.partners.portal_factories import partner_with_admin

pytestmark = pytest.mark.django_db

_serial = count()
SAME_TIME = timezone.now() + timedelta(days=5)


@dataclass
class Ctx:
    user: object
    url: str
    extra: dict = field(default_factory=dict)


def _bearer(user) -> dict:
    return {"Authorization": f"Bearer {token_create(user=user, name='lists')[1]}"}


# --- one setup per list: the viewer, n more visible objects, one object it does not see ---


def courses_setup():
    return Ctx(UserFactory(), "/api/v1/courses")


def courses_add(ctx, n):
    for _ in range(n):
        CoursePageFactory(title=f"Course {next(_serial)}")


def courses_foreign(ctx):
    return CoursePageFactory(title=f"Draft {next(_serial)}", live=False).pk


def events_setup():
    return Ctx(UserFactory(), "/api/v1/events")


def events_add(ctx, n):
    for _ in range(n):  # the same start: the id breaks the tie
        EventFactory(starts_at=SAME_TIME)


def events_foreign(ctx):
    return EventFactory(cancelled_at=timezone.now()).pk


def exams_setup():
    return Ctx(UserFactory(), "/api/v1/exams")


def exams_add(ctx, n):
    for _ in range(n):
        make_exam(topics=1, draw=1, pool=1, title="Same title")


def exams_foreign(ctx):
    return make_exam(topics=1, draw=1, pool=1, publish=False).pk


def projects_setup():
    return Ctx(UserFactory(), "/api/v1/projects")


def projects_add(ctx, n):
    for _ in range(n):
        make_brief(criteria=1, title="Same title", slug=f"brief-{next(_serial)}")


def projects_foreign(ctx):
    return make_brief(criteria=1, is_published=False, slug=f"draft-{next(_serial)}").pk


def queue_setup():
    grader = UserFactory()
    grader.groups.add(Group.objects.get(name=INSTRUCTORS))
    return Ctx(grader, "/api/v1/review-queue", {"brief": make_brief(criteria=1)})


def queue_add(ctx, n):
    for _ in range(n):
        project_services.submission_create(
            person=UserFactory(), brief=ctx.extra["brief"], repository_url="https://example.com/r"
        )


def queue_foreign(ctx):
    own = project_services.submission_create(
        person=ctx.user, brief=ctx.extra["brief"], repository_url="https://example.com/mine"
    )
    return own.pk


def credentials_setup():
    return Ctx(UserFactory(), "/api/v1/me/credentials")


def credentials_add(ctx, n):
    issued = timezone.now() - timedelta(days=3)
    for _ in range(n):
        CredentialFactory(person=ctx.user, certification=CertificationFactory(), issued_at=issued)


def credentials_foreign(ctx):
    return CredentialFactory().public_id


def tokens_setup():
    return Ctx(UserFactory(), "/api/v1/auth/tokens")


def tokens_add(ctx, n):
    for _ in range(n):
        token_create(user=ctx.user, name="more")


def tokens_foreign(ctx):
    return token_create(user=UserFactory(), name="theirs")[0].pk


def members_setup():
    partner, admin = partner_with_admin(slug="northwind")
    return Ctx(admin, "/api/v1/partners/northwind/members", {"partner": partner})


def members_add(ctx, n):
    for _ in range(n):
        MembershipFactory(partner=ctx.extra["partner"], person=UserFactory(legal_name="Same"))


def members_foreign(ctx):
    return MembershipFactory(partner=PartnerFactory()).pk


def keys_setup():
    partner, admin = partner_with_admin(slug="northwind")
    return Ctx(admin, "/api/v1/partners/northwind/api-keys", {"partner": partner})


def keys_add(ctx, n):
    for _ in range(n):
        api_key_create(
            partner=ctx.extra["partner"], name="k", scopes=["partner:read"], created_by=ctx.user
        )


def keys_foreign(ctx):
    key, _ = api_key_create(
        partner=PartnerFactory(), name="k", scopes=["partner:read"], created_by=UserFactory()
    )
    return key.pk


LISTS = {
    "courses": (courses_setup, courses_add, courses_foreign),
    "events": (events_setup, events_add, events_foreign),
    "exams": (exams_setup, exams_add, exams_foreign),
    "projects": (projects_setup, projects_add, projects_foreign),
    "review-queue": (queue_setup, queue_add, queue_foreign),
    "me-credentials": (credentials_setup, credentials_add, credentials_foreign),
    "tokens": (tokens_setup, tokens_add, tokens_foreign),
    "members": (members_setup, members_add, members_foreign),
    "api-keys": (keys_setup, keys_add, keys_foreign),
}


def _get(client, ctx, headers, **params):
    return client.get(ctx.url, params, headers=headers)


def _ids(response) -> list[str]:
    assert response.status_code == 200, response.content
    body = response.json()
    assert set(body) == {"object", "data", "has_more"} and body["object"] == "list"
    return [str(item["id"]) for item in body["data"]]


@pytest.fixture(params=list(LISTS))
def listed(request):
    setup, add, foreign = LISTS[request.param]
    ctx = setup()
    add(ctx, 5)
    return ctx, add, foreign, _bearer(ctx.user)


def test_walking_pages_forward_and_back_gives_the_whole_list_in_order(listed):
    ctx, _, _, headers = listed
    client = Client()
    everything = _ids(_get(client, ctx, headers, limit=100))
    assert len(everything) >= 5 and len(set(everything)) == len(everything)
    assert client.get(ctx.url, headers=headers).json()["has_more"] is False  # default 20

    forward, cursor = [], None
    while True:
        params = {"limit": 2, **({"starting_after": cursor} if cursor else {})}
        response = _get(client, ctx, headers, **params)
        page = _ids(response)
        forward += page
        if not response.json()["has_more"]:
            break
        cursor = page[-1]
    assert forward == everything

    backward, cursor = [], everything[-1]
    backward = [everything[-1]]
    while True:
        response = _get(client, ctx, headers, limit=2, ending_before=cursor)
        page = _ids(response)
        backward = page + backward
        if not response.json()["has_more"]:
            break
        cursor = page[0]
    assert backward == everything


def _count(client, ctx, headers, **params) -> int:
    cache.clear()  # cold page-URL cache: the worst case
    with CaptureQueriesContext(connection) as queries:
        assert _get(client, ctx, headers, **params).status_code == 200
    return len(queries)


def test_query_count_is_the_same_for_every_page_size_and_data_size(listed):
    ctx, add, _, headers = listed
    client = Client()
    _get(client, ctx, headers)  # the token's first use is recorded once
    first = _ids(_get(client, ctx, headers, limit=100))[0]
    small = {limit: _count(client, ctx, headers, limit=limit) for limit in (1, 3, 100)} | {
        f"after-{limit}": _count(client, ctx, headers, limit=limit, starting_after=first)
        for limit in (1, 100)
    }
    assert len({small[1], small[3], small[100]}) == 1, small
    assert small["after-1"] == small["after-100"] == small[1] + 1, small
    add(ctx, 12)
    large = {limit: _count(client, ctx, headers, limit=limit) for limit in (1, 3, 100)} | {
        f"after-{limit}": _count(client, ctx, headers, limit=limit, starting_after=first)
        for limit in (1, 100)
    }
    assert large == small


@pytest.mark.parametrize("limit", ["0", "101", "-1", "abc", "1.5", ""])
def test_a_limit_outside_1_to_100_is_422(listed, limit):
    ctx, _, _, headers = listed
    assert_error(Client().get(ctx.url, {"limit": limit}, headers=headers), 422, "validation_error")


def test_bad_cursors_are_400_invalid_cursor(listed):
    ctx, _, foreign, headers = listed
    client = Client()
    first, second = _ids(_get(client, ctx, headers, limit=2))
    assert_error(
        _get(client, ctx, headers, starting_after=first, ending_before=second),
        400,
        "invalid_cursor",
    )
    for cursor in (str(foreign(ctx)), "abc", str(2**70), "0", "-1"):
        for key in ("starting_after", "ending_before"):
            response = _get(client, ctx, headers, **{key: cursor})
            assert_error(response, 400, "invalid_cursor")
    assert_error(_get(client, ctx, headers, starting_after="x" * 65), 422, "validation_error")


def test_a_cursor_from_another_list_is_400(listed):
    ctx, _, _, headers = listed
    client = Client()
    mine = set(_ids(_get(client, ctx, headers, limit=100)))
    if "auth/tokens" in ctx.url:
        other_list = "/api/v1/events"
        for _ in range(len(mine) + 2):
            EventFactory()
    else:
        other_list = "/api/v1/auth/tokens"
        for _ in range(len(mine) + 2):
            token_create(user=ctx.user, name="other list")
    other_ids = _ids(client.get(other_list, {"limit": 100}, headers=headers))
    foreign = [i for i in other_ids if i not in mine]
    assert foreign
    for cursor in foreign[:3]:
        response = _get(client, ctx, headers, starting_after=cursor)
        assert_error(response, 400, "invalid_cursor")
