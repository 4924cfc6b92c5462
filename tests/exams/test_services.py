from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction
from django.db.models import ProtectedError
from django.utils import timezone

from exams import selectors, services, tasks
from exams.models import (
    Attempt,
    AttemptItem,
    AttemptStatus,
    Choice,
    Question,
    QuestionKind,
    QuestionVersion,
)
from exams.services import ChoiceSpec
from exams.signals import attempt_passed
from lms.errors import DomainError
from tests.exams.factories import ExamFactory, TopicFactory, make_exam, make_question

pytestmark = pytest.mark.django_db


def answer_all(attempt, person, *, right=True, now=None):
    """Answer every item right (or wrong) through the service."""
    for item in attempt.items.select_related("question_version__question"):
        version = item.question_version
        correct = list(version.choices.filter(is_correct=True).values_list("id", flat=True))
        wrong = list(version.choices.filter(is_correct=False).values_list("id", flat=True))
        services.attempt_answer(
            person=person,
            attempt_id=attempt.pk,
            item_id=item.pk,
            choice_ids=correct if right else wrong[:1],
            now=now,
        )


# --- authoring ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "choices", "message"),
    [
        ("single", [ChoiceSpec("a", True)], "2 to 8"),
        ("single", [ChoiceSpec(str(i), i == 0) for i in range(9)], "2 to 8"),
        ("single", [ChoiceSpec("a", True), ChoiceSpec("b", True)], "exactly one"),
        ("single", [ChoiceSpec("a"), ChoiceSpec("b")], "exactly one"),
        ("multiple", [ChoiceSpec("a"), ChoiceSpec("b")], "at least one"),
        ("single", [ChoiceSpec("a", True), ChoiceSpec("  ")], "needs a text"),
        ("single", [ChoiceSpec("a", True), ChoiceSpec("a")], "same text"),
        ("essay", [ChoiceSpec("a", True), ChoiceSpec("b")], "Unknown question kind"),
    ],
)
def test_question_create_validates_options(kind, choices, message):
    topic = TopicFactory()
    with pytest.raises(services.InvalidQuestion, match=message) as error:
        services.question_create(topic=topic, kind=kind, stem="Why?", choices=choices)
    assert error.value.code == "invalid_question" and error.value.status == 422
    assert not Question.objects.exists()


def test_question_create_accepts_two_and_eight_options():
    topic = TopicFactory()
    for n in (2, 8):
        question = make_question(topic, options=n)
        assert question.current_version.choices.count() == n


def test_revising_an_unused_question_edits_in_place():
    question = make_question(TopicFactory())
    version = services.question_revise(
        question=question, stem="New?", choices=[ChoiceSpec("x", True), ChoiceSpec("y")]
    )
    assert version.number == 1 and QuestionVersion.objects.count() == 1
    assert list(version.choices.values_list("text", flat=True)) == ["x", "y"]


def test_revising_a_question_a_published_exam_can_draw_makes_a_new_version():
    # No attempt holds it yet, but a start could be drawing it at this moment:
    # its option ids must stay as they are.
    exam = make_exam(topics=1, draw=1, pool=1)
    question = Question.objects.get(topic__blueprint_rules__exam=exam)
    old_version = question.current_version
    old_choices = list(old_version.choices.values_list("id", "text"))
    new = services.question_revise(
        question=question, stem="Reworded?", choices=[ChoiceSpec("p", True), ChoiceSpec("q")]
    )
    assert new.number == 2 and new.pk != old_version.pk
    assert list(old_version.choices.values_list("id", "text")) == old_choices
    # Retired, it can no longer be drawn: edits go in place again.
    services.question_set_active(question=question, active=False)
    again = services.question_revise(
        question=question, stem="Reworded again?", choices=[ChoiceSpec("p", True), ChoiceSpec("q")]
    )
    assert again.pk == new.pk and again.stem == "Reworded again?"


def test_revising_a_used_question_makes_a_new_version_and_attempts_keep_theirs(learner):
    exam = make_exam(topics=1, draw=1, pool=1)
    attempt, _ = services.attempt_start(person=learner, exam=exam)
    item = attempt.items.get()
    old_version = item.question_version
    old_choices = list(old_version.choices.values_list("id", "text"))
    question = old_version.question
    new = services.question_revise(
        question=question, stem="Reworded?", choices=[ChoiceSpec("p", True), ChoiceSpec("q")]
    )
    assert new.number == 2 and new.pk != old_version.pk
    question.refresh_from_db()
    assert question.current_version == new
    item.refresh_from_db()
    assert item.question_version == old_version
    assert list(old_version.choices.values_list("id", "text")) == old_choices
    assert QuestionVersion.objects.get(pk=old_version.pk).stem == old_version.stem


def test_content_used_by_an_attempt_cannot_be_deleted(learner):
    exam = make_exam(topics=1, draw=1, pool=1)
    services.attempt_start(person=learner, exam=exam)
    with pytest.raises(ProtectedError):
        Question.objects.all().delete()
    with pytest.raises(ProtectedError):
        exam.delete()
    with pytest.raises(ProtectedError):
        learner.delete()


def test_publish_refused_when_a_pool_is_too_small():
    exam = make_exam(topics=2, draw=3, pool=3, publish=False)
    question = Question.objects.filter(topic__name__startswith="Topic 1").first()
    services.question_set_active(question=question, active=False)
    with pytest.raises(DomainError) as error:
        services.exam_publish(exam=exam)
    assert error.value.code == "pool_too_small" and error.value.status == 409
    assert error.value.extra["topics"] == [
        {"topic": question.topic.name, "needed": 3, "available": 2}
    ]
    exam.refresh_from_db()
    assert not exam.is_published


def test_publish_refused_for_an_empty_blueprint():
    exam = ExamFactory()
    with pytest.raises(DomainError) as error:
        services.exam_publish(exam=exam)
    assert error.value.code == "empty_blueprint"


def test_publish_sets_published():
    exam = make_exam(publish=False)
    services.exam_publish(exam=exam)
    exam.refresh_from_db()
    assert exam.is_published and exam.published_at is not None


# --- starting -----------------------------------------------------------------


def test_start_draws_per_blueprint_and_fixes_the_form(learner):
    exam = make_exam(topics=3, draw=4, pool=10)
    attempt, created = services.attempt_start(person=learner, exam=exam)
    assert created and attempt.status == AttemptStatus.IN_PROGRESS
    items = list(attempt.items.select_related("question_version"))
    assert len(items) == 12
    assert sorted(i.position for i in items) == list(range(12))
    per_topic = {}
    for item in items:
        per_topic[item.topic_id] = per_topic.get(item.topic_id, 0) + 1
        version_choices = set(item.question_version.choices.values_list("id", flat=True))
        assert set(item.choice_order) == version_choices
    assert sorted(per_topic.values()) == [4, 4, 4]
    assert attempt.deadline == attempt.started_at + timedelta(minutes=exam.time_limit_minutes)
    assert attempt.pass_mark_percent == Decimal(80)

    again, created_again = services.attempt_start(person=learner, exam=exam)
    assert not created_again and again.pk == attempt.pk
    assert Attempt.objects.count() == 1


def test_start_prefers_questions_the_learner_has_not_seen(learner):
    exam = make_exam(topics=1, draw=3, pool=6, retake_first_wait_hours=0, retake_later_wait_days=0)
    first, _ = services.attempt_start(person=learner, exam=exam)
    services.attempt_submit(person=learner, attempt_id=first.pk)
    second, _ = services.attempt_start(person=learner, exam=exam)
    seen = set(first.items.values_list("question_version__question_id", flat=True))
    fresh = set(second.items.values_list("question_version__question_id", flat=True))
    assert not seen & fresh
    services.attempt_submit(person=learner, attempt_id=second.pk)
    third, _ = services.attempt_start(person=learner, exam=exam)
    assert third.items.count() == 3  # everything seen: falls back to seen ones


def test_start_without_shuffles_keeps_author_order(learner):
    exam = make_exam(topics=2, draw=2, pool=2, shuffle_questions=False, shuffle_choices=False)
    attempt, _ = services.attempt_start(person=learner, exam=exam)
    for item in attempt.items.all():
        ids = list(
            Choice.objects.filter(version=item.question_version)
            .order_by("position")
            .values_list("id", flat=True)
        )
        assert item.choice_order == ids
    topics = list(attempt.items.order_by("position").values_list("topic__name", flat=True))
    assert topics == sorted(topics)


def test_start_refused_when_unpublished(learner):
    exam = make_exam(publish=False)
    with pytest.raises(DomainError) as error:
        services.attempt_start(person=learner, exam=exam)
    assert error.value.code == "exam_not_found" and error.value.status == 404


def test_retake_too_soon_then_allowed(learner):
    exam = make_exam()
    t0 = timezone.now()
    attempt, _ = services.attempt_start(person=learner, exam=exam, now=t0)
    services.attempt_submit(person=learner, attempt_id=attempt.pk, now=t0 + timedelta(minutes=5))
    with pytest.raises(DomainError) as error:
        services.attempt_start(person=learner, exam=exam, now=t0 + timedelta(hours=2))
    assert error.value.code == "retake_too_soon" and error.value.status == 409
    available = t0 + timedelta(minutes=5, hours=24)
    assert error.value.extra["available_at"] == available.isoformat()
    _, created = services.attempt_start(person=learner, exam=exam, now=available)
    assert created


def test_attempts_exhausted_after_five_in_a_year(learner):
    exam = make_exam(retake_first_wait_hours=0, retake_later_wait_days=0, topics=1, pool=3)
    now = timezone.now()
    for i in range(5):
        attempt, _ = services.attempt_start(person=learner, exam=exam, now=now + timedelta(hours=i))
        services.attempt_submit(person=learner, attempt_id=attempt.pk, now=now + timedelta(hours=i))
    with pytest.raises(DomainError) as error:
        services.attempt_start(person=learner, exam=exam, now=now + timedelta(hours=6))
    assert error.value.code == "attempts_exhausted"
    assert "available_at" in error.value.extra


def certified_always(*, person, exam):
    return True


def test_already_certified_via_registered_check(learner):
    from certificates.selectors import holds_current_certification_for_exam

    selectors.register_certified_check(certified_always)
    try:
        with pytest.raises(DomainError) as error:
            services.attempt_start(person=learner, exam=make_exam())
    finally:
        selectors.register_certified_check(holds_current_certification_for_exam)
    assert error.value.code == "already_certified"
    assert "available_at" not in error.value.extra


def test_one_in_progress_attempt_is_a_database_constraint(learner, exam):
    attempt, _ = services.attempt_start(person=learner, exam=exam)
    with pytest.raises(IntegrityError), transaction.atomic():
        Attempt.objects.create(
            person=learner,
            exam=exam,
            seed=1,
            started_at=attempt.started_at,
            deadline=attempt.deadline,
            pass_mark_percent=80,
        )


def test_start_that_loses_the_race_returns_the_winner(learner, exam, monkeypatch):
    winner, _ = services.attempt_start(person=learner, exam=exam)
    # Simulate the race: the check for an open attempt sees none, the insert collides.
    real_filter = Attempt.objects.filter
    calls = {"n": 0}

    def racing_filter(*args, **kwargs):
        queryset = real_filter(*args, **kwargs)
        if kwargs.get("status") == AttemptStatus.IN_PROGRESS and "person" in kwargs:
            calls["n"] += 1
            if calls["n"] == 1:
                return queryset.none()
        return queryset

    monkeypatch.setattr(Attempt.objects, "filter", racing_filter)
    attempt, created = services.attempt_start(person=learner, exam=exam)
    assert not created and attempt.pk == winner.pk
    assert Attempt.objects.count() == 1


# --- answering ----------------------------------------------------------------


@pytest.fixture
def attempt(learner, exam):
    return services.attempt_start(person=learner, exam=exam)[0]


def single_item(attempt):
    return attempt.items.filter(question_version__question__kind=QuestionKind.SINGLE).first()


def multiple_item(attempt):
    return attempt.items.filter(question_version__question__kind=QuestionKind.MULTIPLE).first()


def test_answer_saves_selection_in_display_order_and_flag(learner):
    # Every question drawn (pool == draw), so the form surely has a multiple-answer item.
    exam = make_exam(topics=1, draw=3, pool=3)
    attempt = services.attempt_start(person=learner, exam=exam)[0]
    item = multiple_item(attempt)
    order = item.choice_order
    saved = services.attempt_answer(
        person=learner, attempt_id=attempt.pk, item_id=item.pk, choice_ids=[order[2], order[0]]
    )
    assert saved.selected_choice_ids == [order[0], order[2]] and saved.answered_at
    services.attempt_flag(person=learner, attempt_id=attempt.pk, item_id=item.pk, flagged=True)
    item.refresh_from_db()
    assert item.flagged and item.selected_choice_ids == [order[0], order[2]]
    services.attempt_answer(person=learner, attempt_id=attempt.pk, item_id=item.pk, choice_ids=[])
    item.refresh_from_db()
    assert item.selected_choice_ids == [] and item.flagged


@pytest.mark.parametrize("bad", [[999_999], ["1"], [True], [1.5], [None]])
def test_answer_refuses_options_that_are_not_the_items(learner, attempt, bad):
    item = single_item(attempt)
    with pytest.raises(services.InvalidChoice) as error:
        services.attempt_answer(
            person=learner, attempt_id=attempt.pk, item_id=item.pk, choice_ids=bad
        )
    assert error.value.code == "invalid_choice" and error.value.status == 422


def test_answer_refuses_another_items_option(learner, attempt):
    first, second = attempt.items.order_by("position")[:2]
    with pytest.raises(services.InvalidChoice):
        services.attempt_answer(
            person=learner,
            attempt_id=attempt.pk,
            item_id=first.pk,
            choice_ids=[second.choice_order[0]],
        )


def test_single_answer_item_takes_one_option(learner, attempt):
    item = single_item(attempt)
    with pytest.raises(services.InvalidChoice):
        services.attempt_answer(
            person=learner, attempt_id=attempt.pk, item_id=item.pk, choice_ids=item.choice_order[:2]
        )
    item.refresh_from_db()
    assert item.selected_choice_ids == []


def test_answer_at_the_edges_of_the_deadline(learner, attempt):
    item = single_item(attempt)
    grace = timedelta(seconds=attempt.exam.grace_seconds)
    choice = [item.choice_order[0]]
    at_edge = attempt.deadline + grace
    services.attempt_answer(
        person=learner, attempt_id=attempt.pk, item_id=item.pk, choice_ids=choice, now=at_edge
    )
    with pytest.raises(services.AttemptClosed) as error:
        services.attempt_answer(
            person=learner,
            attempt_id=attempt.pk,
            item_id=item.pk,
            choice_ids=[item.choice_order[1]],
            now=at_edge + timedelta(microseconds=1),
        )
    assert error.value.code == "attempt_closed" and error.value.status == 409
    assert error.value.extra == {"closed_because": "deadline"}
    item.refresh_from_db()
    assert item.selected_choice_ids == choice


def test_answer_after_submit_is_refused(learner, attempt):
    services.attempt_submit(person=learner, attempt_id=attempt.pk)
    item = single_item(attempt)
    with pytest.raises(services.AttemptClosed) as error:
        services.attempt_answer(
            person=learner, attempt_id=attempt.pk, item_id=item.pk, choice_ids=[]
        )
    assert error.value.extra == {"closed_because": "submitted"}


def test_someone_elses_attempt_is_not_found(other, attempt):
    item = single_item(attempt)
    for call in (
        lambda: services.attempt_answer(
            person=other, attempt_id=attempt.pk, item_id=item.pk, choice_ids=[]
        ),
        lambda: services.attempt_submit(person=other, attempt_id=attempt.pk),
    ):
        with pytest.raises(DomainError) as error:
            call()
        assert error.value.status == 404


def test_unknown_item_is_not_found(learner, attempt):
    with pytest.raises(DomainError) as error:
        services.attempt_answer(person=learner, attempt_id=attempt.pk, item_id=10**9, choice_ids=[])
    assert error.value.code == "item_not_found"


# --- submitting ---------------------------------------------------------------


def test_submit_scores_once_and_signals_once(learner, attempt, django_capture_on_commit_callbacks):
    received = []

    def receiver(sender, attempt, **kwargs):
        received.append(attempt.pk)

    attempt_passed.connect(receiver)
    try:
        answer_all(attempt, learner, right=True)
        with django_capture_on_commit_callbacks(execute=True):
            first = services.attempt_submit(person=learner, attempt_id=attempt.pk)
        with django_capture_on_commit_callbacks(execute=True):
            second = services.attempt_submit(person=learner, attempt_id=attempt.pk)
    finally:
        attempt_passed.disconnect(receiver)
    assert first.status == second.status == AttemptStatus.SUBMITTED
    assert first.score_percent == second.score_percent == Decimal("100.00")
    assert first.passed and second.passed
    assert first.submitted_at == second.submitted_at
    assert received == [attempt.pk]
    assert [row["score_percent"] for row in first.topic_scores] == ["100.00", "100.00"]


def test_failing_attempt_sends_no_signal(learner, attempt, django_capture_on_commit_callbacks):
    received = []

    def receiver(sender, attempt, **kw):
        received.append(attempt)

    attempt_passed.connect(receiver)
    try:
        answer_all(attempt, learner, right=False)
        with django_capture_on_commit_callbacks(execute=True):
            result = services.attempt_submit(person=learner, attempt_id=attempt.pk)
    finally:
        # Only our own receiver: other apps' receivers (certificates) must stay connected.
        attempt_passed.disconnect(receiver)
    assert result.passed is False and result.score_percent == Decimal("0.00")
    assert received == []


def test_submit_after_deadline_finalises_as_expired_with_saved_answers(learner, attempt):
    item = single_item(attempt)
    right = list(item.question_version.choices.filter(is_correct=True).values_list("id", flat=True))
    services.attempt_answer(
        person=learner, attempt_id=attempt.pk, item_id=item.pk, choice_ids=right
    )
    late = attempt.deadline + timedelta(minutes=5)
    result = services.attempt_submit(person=learner, attempt_id=attempt.pk, now=late)
    assert result.status == AttemptStatus.EXPIRED
    assert result.submitted_at == attempt.deadline
    assert result.score_correct == 1 and result.score_total == 6


def test_finalise_overdue_job_is_idempotent(learner, other, exam):
    mine, _ = services.attempt_start(person=learner, exam=exam)
    theirs, _ = services.attempt_start(
        person=other, exam=exam, now=timezone.now() + timedelta(hours=1)
    )
    later = mine.deadline + timedelta(seconds=exam.grace_seconds + 1)
    assert services.attempt_finalise_overdue(now=later) == 1
    assert services.attempt_finalise_overdue(now=later) == 0
    mine.refresh_from_db()
    theirs.refresh_from_db()
    assert mine.status == AttemptStatus.EXPIRED and mine.score_percent == Decimal("0.00")
    assert theirs.status == AttemptStatus.IN_PROGRESS


def test_finalise_task_runs_the_service(learner, exam, monkeypatch):
    attempt, _ = services.attempt_start(
        person=learner, exam=exam, now=timezone.now() - timedelta(days=1)
    )
    assert tasks.finalise_overdue_attempts() == 1
    attempt.refresh_from_db()
    assert attempt.status == AttemptStatus.EXPIRED


def test_finalise_schedule_exists():
    from django_q.models import Schedule

    schedule = Schedule.objects.get(func="exams.tasks.finalise_overdue_attempts")
    assert schedule.schedule_type == Schedule.MINUTES and schedule.minutes == 5


def test_start_finalises_an_overdue_attempt_first(learner, exam):
    old, _ = services.attempt_start(
        person=learner, exam=exam, now=timezone.now() - timedelta(days=2)
    )
    new, created = services.attempt_start(person=learner, exam=exam)
    old.refresh_from_db()
    assert old.status == AttemptStatus.EXPIRED and created and new.pk != old.pk


def test_dropped_and_credited_items_are_scored_accordingly(learner, attempt):
    items = list(attempt.items.order_by("position"))
    AttemptItem.objects.filter(pk=items[0].pk).update(status="dropped")
    AttemptItem.objects.filter(pk=items[1].pk).update(status="credited")
    result = services.attempt_submit(person=learner, attempt_id=attempt.pk)
    assert result.score_total == 5 and result.score_correct == 1
