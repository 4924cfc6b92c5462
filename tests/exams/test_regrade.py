"""Drop/credit a question for everyone: dry run, regrade, history, signal."""

from decimal import Decimal

import pytest

from exams import selectors, services
from exams.models import AttemptItem, Choice, RegradeEvent
from exams.signals import attempt_passed
from lms.errors import DomainError, NotFound
from tests.lms.factories import UserFactory

from .factories import make_exam

pytestmark = pytest.mark.django_db


def take(exam, *, wrong=0, person=None):
    """Start, answer all but `wrong` items correctly, submit; returns the attempt."""
    person = person or UserFactory()
    attempt, _ = services.attempt_start(person=person, exam=exam)
    items = list(AttemptItem.objects.filter(attempt=attempt).order_by("position"))
    for n, item in enumerate(items):
        right = list(
            Choice.objects.filter(version=item.question_version, is_correct=True).values_list(
                "id", flat=True
            )
        )
        wrong_ids = [cid for cid in item.choice_order if cid not in right][:1]
        services.attempt_answer(
            person=person,
            attempt_id=attempt.pk,
            item_id=item.pk,
            choice_ids=wrong_ids if n < wrong else right,
        )
    return services.attempt_submit(person=person, attempt_id=attempt.pk)


@pytest.fixture
def fixed_exam():
    # Every attempt gets the same 5 questions (pool == draw), so they share item 0..4.
    return make_exam(topics=1, draw=5, pool=5, shuffle_questions=False, pass_mark_percent=80)


def _first_item_version(attempt):
    return AttemptItem.objects.filter(attempt=attempt).order_by("position").first().question_version


def test_dry_run_shows_whose_result_would_change_and_writes_nothing(fixed_exam):
    failing = take(fixed_exam, wrong=2)  # 3/5 = 60 % -> fail
    passing = take(fixed_exam, wrong=0)  # 5/5
    version = _first_item_version(failing)  # answered wrong by `failing`
    plan = services.exam_question_regrade_preview(
        exam=fixed_exam, question_version=version, action="credited"
    )
    assert plan.items == 2
    by_attempt = {c.attempt_id: c for c in plan.changes}
    assert by_attempt[failing.pk].after_percent == Decimal("80.00")
    assert [c.attempt_id for c in plan.pass_fail_changes] == [failing.pk]
    assert not by_attempt[passing.pk].pass_changed
    failing.refresh_from_db()
    assert failing.passed is False
    assert not RegradeEvent.objects.exists()
    assert not AttemptItem.objects.filter(status="credited").exists()


def test_credit_regrades_keeps_history_and_signals_new_passes(
    fixed_exam, django_capture_on_commit_callbacks
):
    failing = take(fixed_exam, wrong=2)
    version = _first_item_version(failing)
    instructor = UserFactory()
    received = []

    def receiver(sender, attempt, **kwargs):
        received.append(attempt.pk)

    attempt_passed.connect(receiver)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            event = services.exam_question_regrade(
                exam=fixed_exam,
                question_version=version,
                action="credited",
                actor=instructor,
                reason="Two options were right.",
            )
    finally:
        attempt_passed.disconnect(receiver)
    failing.refresh_from_db()
    assert (failing.score_percent, failing.passed) == (Decimal("80.00"), True)
    assert received == [failing.pk]
    assert event.actor == instructor and event.action == "credited"
    assert event.changes == [
        {
            "attempt": failing.pk,
            "person": failing.person_id,
            "before": {"score_percent": "60.00", "passed": False},
            "after": {"score_percent": "80.00", "passed": True},
        }
    ]
    assert selectors.regrade_events_for(exam=fixed_exam) == [event]


def test_drop_removes_the_question_from_the_denominator(fixed_exam):
    attempt = take(fixed_exam, wrong=1)  # 4/5 = 80 %
    version = _first_item_version(attempt)
    services.exam_question_regrade(exam=fixed_exam, question_version=version, action="dropped")
    attempt.refresh_from_db()
    assert (attempt.score_correct, attempt.score_total) == (4, 4)
    # And restoring it brings the original score back, as a second history row.
    services.exam_question_regrade(exam=fixed_exam, question_version=version, action="normal")
    attempt.refresh_from_db()
    assert (attempt.score_correct, attempt.score_total) == (4, 5)
    assert RegradeEvent.objects.filter(exam=fixed_exam).count() == 2


def test_open_attempts_are_scored_with_the_new_status_when_they_finish(fixed_exam):
    done = take(fixed_exam)
    version = _first_item_version(done)
    person = UserFactory()
    open_attempt, _ = services.attempt_start(person=person, exam=fixed_exam)
    services.exam_question_regrade(exam=fixed_exam, question_version=version, action="dropped")
    submitted = services.attempt_submit(person=person, attempt_id=open_attempt.pk)
    assert submitted.score_total == 4


def test_refusals(fixed_exam):
    attempt = take(fixed_exam)
    version = _first_item_version(attempt)
    with pytest.raises(services.RegradeRefused):
        services.exam_question_regrade(exam=fixed_exam, question_version=version, action="normal")
    with pytest.raises(DomainError) as caught:
        services.exam_question_regrade_preview(
            exam=fixed_exam, question_version=version, action="delete"
        )
    assert caught.value.code == "invalid_action"
    other = make_exam()
    with pytest.raises(NotFound):
        services.exam_question_regrade(exam=other, question_version=version, action="dropped")


def test_dropping_every_question_of_an_attempt_is_refused():
    exam = make_exam(topics=1, draw=1, pool=1)
    attempt = take(exam)
    version = _first_item_version(attempt)
    with pytest.raises(services.RegradeRefused):
        services.exam_question_regrade(exam=exam, question_version=version, action="dropped")
    attempt.refresh_from_db()
    assert attempt.score_total == 1
    assert not AttemptItem.objects.filter(status="dropped").exists()
