"""Replaying an attempt's draw: staff see the same form again, or each difference.

A hundred attempts are started through `attempt_start` while the bank changes
between them (new versions, questions added, retired and moved, the blueprint
and the shuffle settings changed); each replay is identical. A tampered stored
form is reported difference by difference. The replay is 4 queries at 10 and
60 questions. The staff API and the admin screens are for programme staff only.
"""

import pytest
from django.contrib.auth.models import Group
from django.db import connection
from django.test import Client

from exams import draw, selectors, services
from exams.models import Attempt, AttemptItem, DrawSnapshot, Question, QuestionKind
from exams.services import ChoiceSpec
from exams.services import attempts as attempts_services
from lms.tokens import token_create
from tests.exams.factories import ExamFactory, make_exam, make_question
from tests.exams.test_concurrency import no_errors, run_together
from tests.lms.api.helpers import assert_error
from tests.lms.factories import MODEL_BACKEND, UserFactory

pytestmark = pytest.mark.django_db

REPLAY_QUERIES = 4  # the attempt with its snapshot, its items, the versions, their options


def member(group_name):
    user = UserFactory()
    user.groups.add(Group.objects.get(name=group_name))
    return user


@pytest.fixture
def staff(db):
    return member("Programme staff")


def stored_form(attempt):
    return [
        draw.FormItem(
            item.topic_id,
            item.question_version.question_id,
            item.question_version_id,
            tuple(item.choice_order),
        )
        for item in attempt.items.select_related("question_version").order_by("position")
    ]


def revise(question, n):
    right = (0,) if question.kind == QuestionKind.SINGLE else (0, 1)
    return services.question_revise(
        question=question,
        stem=f"Edited {n}: {question.pk}?",
        choices=[ChoiceSpec(f"Edited option {n}.{i}", i in right) for i in range(4)],
    )


def active_in(topic):
    return list(Question.objects.filter(topic=topic, is_active=True).order_by("pk"))


def change_the_bank(step, *, exam, topics, last_attempt):
    """One change per step, cycling through every kind of change the draw depends on."""
    topic = topics[step % len(topics)]
    kind = step % 6
    if kind == 0:  # a question just given gets a new version
        revise(last_attempt.items.order_by("position")[0].question_version.question, step)
    elif kind == 1:
        make_question(topic)
    elif kind == 2 and len(active_in(topic)) > 5:
        services.question_set_active(question=active_in(topic)[step % 3], active=False)
    elif kind == 3:
        exam.shuffle_choices = not exam.shuffle_choices
        exam.shuffle_questions = step % 4 != 3
        exam.save(update_fields=["shuffle_choices", "shuffle_questions"])
    elif kind == 4 and len(active_in(topic)) > 5:
        moved = active_in(topic)[-1]
        moved.topic = topics[(step + 1) % len(topics)]
        moved.save(update_fields=["topic"])
    elif kind == 5:
        counts = [(t, 2 + (step + i) % 2) for i, t in enumerate(topics)]
        services.blueprint_set(exam=exam, counts=counts[step % 3 :] + counts[: step % 3])


def test_a_hundred_replays_are_identical_although_the_bank_changed_meanwhile():
    exam = make_exam(topics=3, draw=3, pool=7)
    topics = [rule.topic for rule in exam.blueprint.select_related("topic")]
    # A second exam on the same topics: its attempts rank what the person saw first.
    sequel = ExamFactory()
    services.blueprint_set(exam=sequel, counts=[(t, 2) for t in topics])
    services.exam_publish(exam=sequel)
    people = [UserFactory() for _ in range(50)]
    attempts = []
    for step in range(100):
        attempt, created = services.attempt_start(
            person=people[step % 50], exam=exam if step < 50 else sequel
        )
        assert created
        attempts.append(attempt)
        change_the_bank(step, exam=exam, topics=topics, last_attempt=attempt)

    assert DrawSnapshot.objects.count() > 20  # the inputs really changed between attempts
    assert any(a.draw_seen for a in Attempt.objects.filter(exam=sequel))
    for attempt in attempts:
        replay = selectors.attempt_replay(attempt_id=attempt.pk)
        assert replay.identical, (attempt.pk, [d.text for d in replay.differences])
        assert replay.verdict == "Identical"
        assert len(replay.rows) == attempt.items.count() > 0
        assert all(row.same for row in replay.rows)

    # Today's pool would not give the first attempt its form: the question it
    # was given first has had a new version since.
    first = attempts[0]
    today = draw.draw_form(
        seed=first.seed,
        inputs=attempts_services._draw_inputs(exam),
        seen=first.draw_seen,
        choices_of=selectors.choice_ids_of,
    )
    assert draw.compare_forms(stored_form(first), today)


@pytest.fixture
def attempt(learner):
    exam = make_exam(topics=2, draw=3, pool=5, multiple_every=0)
    started, _ = services.attempt_start(person=learner, exam=exam)
    return started


def items_of(attempt):
    return list(attempt.items.select_related("question_version").order_by("position"))


def test_an_untouched_attempt_replays_identically(attempt):
    replay = selectors.attempt_replay(attempt_id=attempt.pk)
    assert (replay.replayable, replay.identical, replay.verdict) == (True, True, "Identical")
    assert replay.pool_size == 10
    first = replay.rows[0]
    assert first.stored == first.replayed
    assert sorted(first.stored.option_numbers) == [1, 2, 3, 4]


def test_a_changed_option_order_is_one_difference(attempt):
    item = items_of(attempt)[1]
    AttemptItem.objects.filter(pk=item.pk).update(choice_order=list(reversed(item.choice_order)))
    replay = selectors.attempt_replay(attempt_id=attempt.pk)
    assert replay.verdict == "1 difference"
    [difference] = replay.differences
    assert (difference.kind, difference.question_id) == (
        "option_order",
        item.question_version.question_id,
    )
    assert "options in the order" in difference.text
    assert [row.same for row in replay.rows] == [True, False, True, True, True, True]


def test_two_swapped_items_are_two_position_differences(attempt):
    first, second = items_of(attempt)[:2]
    AttemptItem.objects.filter(pk=first.pk).update(position=99)
    AttemptItem.objects.filter(pk=second.pk).update(position=0)
    AttemptItem.objects.filter(pk=first.pk).update(position=1)
    replay = selectors.attempt_replay(attempt_id=attempt.pk)
    assert replay.verdict == "2 differences"
    assert sorted((d.kind, d.stored_position, d.replayed_position) for d in replay.differences) == [
        ("position", 1, 2),
        ("position", 2, 1),
    ]


def test_an_item_swapped_for_another_question_is_extra_and_missing(attempt):
    item = items_of(attempt)[0]
    drawn = {i.question_version.question_id for i in items_of(attempt)}
    other = Question.objects.filter(topic_id=item.topic_id).exclude(pk__in=drawn).first()
    AttemptItem.objects.filter(pk=item.pk).update(question_version=other.current_version)
    replay = selectors.attempt_replay(attempt_id=attempt.pk)
    assert replay.verdict == "2 differences"
    assert {(d.kind, d.question_id) for d in replay.differences} == {
        ("extra", other.pk),
        ("missing", item.question_version.question_id),
    }


def test_an_item_given_another_version_is_a_version_difference(attempt):
    item = items_of(attempt)[2]
    newer = revise(item.question_version.question, 1)
    AttemptItem.objects.filter(pk=item.pk).update(question_version=newer)
    replay = selectors.attempt_replay(attempt_id=attempt.pk)
    [difference] = replay.differences
    assert difference.kind == "version"
    assert difference.text.endswith("v2 stored, v1 replayed.")


def test_an_attempt_from_before_snapshots_says_it_cannot_be_replayed(attempt):
    Attempt.objects.filter(pk=attempt.pk).update(draw_snapshot=None, draw_seen=None)
    replay = selectors.attempt_replay(attempt_id=attempt.pk)
    assert (replay.replayable, replay.verdict, replay.differences) == (False, "Cannot replay", [])
    assert "cannot be replayed" in replay.reason
    assert len(replay.rows) == 6
    assert all(row.stored is not None and row.replayed is None for row in replay.rows)


@pytest.mark.parametrize("size", [10, 60])
def test_the_replay_query_count_does_not_grow(size, learner, django_assert_num_queries):
    exam = make_exam(topics=2, draw=size // 2, pool=size // 2 + 3)
    started, _ = services.attempt_start(person=learner, exam=exam)
    with django_assert_num_queries(REPLAY_QUERIES):
        replay = selectors.attempt_replay(attempt_id=started.pk)
    assert replay.identical and len(replay.rows) == size


# --- the staff API -------------------------------------------------------------------


def api_get(person, attempt_id):
    token = token_create(user=person, name="t")[1]
    return Client().get(
        f"/api/v1/staff/attempts/{attempt_id}/replay", HTTP_AUTHORIZATION=f"Bearer {token}"
    )


def test_staff_get_the_replay_from_the_api(attempt, staff):
    response = api_get(staff, attempt.pk)
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["attempt_id"], body["verdict"], body["identical"]) == (
        attempt.pk,
        "Identical",
        True,
    )
    assert body["seed"] == attempt.seed and body["pool_size"] == 10
    assert len(body["rows"]) == 6 and all(row["same"] for row in body["rows"])
    row = body["rows"][0]
    assert row["stored"] == row["replayed"]
    assert row["stored"]["choice_ids"] == items_of(attempt)[0].choice_order


def test_the_api_reports_a_tampered_form(attempt, staff):
    item = items_of(attempt)[0]
    AttemptItem.objects.filter(pk=item.pk).update(
        choice_order=item.choice_order[1:] + item.choice_order[:1]
    )
    body = api_get(staff, attempt.pk).json()
    assert (body["verdict"], body["identical"]) == ("1 difference", False)
    assert body["differences"][0]["kind"] == "option_order"
    assert body["rows"][0]["same"] is False


@pytest.mark.parametrize("who", ["owner", "instructor", "learner"])
def test_only_programme_staff_may_replay(attempt, learner, who):
    person = {
        "owner": learner,
        "instructor": member("Instructors"),
        "learner": UserFactory(),
    }[who]
    assert_error(api_get(person, attempt.pk), 403, "permission_denied")
    assert_error(api_get(person, 10**9), 403, "permission_denied")  # existence not revealed


def test_anonymous_callers_are_asked_to_sign_in(attempt):
    response = Client().get(f"/api/v1/staff/attempts/{attempt.pk}/replay")
    assert_error(response, 401, "not_authenticated")


@pytest.mark.parametrize(
    ("attempt_id", "status", "code"),
    [
        ("999999999", 404, "attempt_not_found"),
        ("0", 422, "validation_error"),
        ("abc", 422, "validation_error"),
        (str(2**70), 422, "validation_error"),
    ],
)
def test_bad_attempt_ids_are_refused_clearly(staff, attempt_id, status, code):
    assert_error(api_get(staff, attempt_id), status, code)


def test_the_api_says_when_an_attempt_cannot_be_replayed(attempt, staff):
    Attempt.objects.filter(pk=attempt.pk).update(draw_snapshot=None, draw_seen=None)
    body = api_get(staff, attempt.pk).json()
    assert (body["replayable"], body["verdict"]) == (False, "Cannot replay")
    assert "cannot be replayed" in body["reason"]
    assert all(row["replayed"] is None for row in body["rows"])


# --- the admin screens -----------------------------------------------------------------


def admin_client(person):
    client = Client()
    client.force_login(person, backend=MODEL_BACKEND)
    return client


def test_staff_list_attempts_and_replay_one(attempt, staff, learner):
    client = admin_client(staff)
    edit = client.get(f"/admin/exams/exams/edit/{attempt.exam_id}/")
    assert f"/admin/exams/exams/attempts/{attempt.exam_id}/" in edit.content.decode()
    listing = client.get(f"/admin/exams/exams/attempts/{attempt.exam_id}/")
    html = listing.content.decode()
    assert listing.status_code == 200
    assert learner.email in html and "Replay draw" in html
    replay_url = f"/admin/exams/exams/attempts/replay/{attempt.pk}/"
    assert replay_url in html
    page = client.get(replay_url).content.decode()
    assert "Verdict: Identical" in page
    assert page.count("<td>Same</td>") == 6

    item = items_of(attempt)[3]
    AttemptItem.objects.filter(pk=item.pk).update(choice_order=list(reversed(item.choice_order)))
    page = client.get(replay_url).content.decode()
    assert "Verdict: 1 difference" in page
    assert f"Question {item.question_version.question_id}: options in the order" in page
    assert page.count("<strong>Different</strong>") == 1


def test_the_admin_page_says_when_an_attempt_cannot_be_replayed(attempt, staff):
    Attempt.objects.filter(pk=attempt.pk).update(draw_snapshot=None, draw_seen=None)
    page = admin_client(staff).get(f"/admin/exams/exams/attempts/replay/{attempt.pk}/")
    html = page.content.decode()
    assert "Verdict: Cannot replay" in html and "cannot be replayed" in html


def test_unknown_attempts_are_404_in_the_admin(staff):
    assert admin_client(staff).get("/admin/exams/exams/attempts/replay/999999/").status_code == 404


def test_instructors_do_not_see_attempts_in_the_admin(attempt):
    client = admin_client(member("Instructors"))
    edit = client.get(f"/admin/exams/exams/edit/{attempt.exam_id}/")
    assert edit.status_code == 200
    assert "/admin/exams/exams/attempts/" not in edit.content.decode()
    for url in (
        f"/admin/exams/exams/attempts/{attempt.exam_id}/",
        f"/admin/exams/exams/attempts/replay/{attempt.pk}/",
    ):
        response = client.get(url)
        assert response.status_code == 302 and "/attempts/" not in response["Location"]


# --- parallel first starts (PostgreSQL) --------------------------------------------------


@pytest.mark.postgres
@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL")
@pytest.mark.django_db(transaction=True)
def test_parallel_first_starts_record_one_snapshot_and_all_replay():
    exam = make_exam(topics=2, draw=3, pool=6)
    people = [UserFactory() for _ in range(20)]
    outcomes = run_together(
        lambda person: services.attempt_start(person=person, exam=exam), [(p,) for p in people]
    )
    no_errors(outcomes)
    assert all(created for _, created in outcomes)
    assert DrawSnapshot.objects.count() == 1
    for started, _ in outcomes:
        assert selectors.attempt_replay(attempt_id=started.pk).identical
