"""Real parallel claims, submissions and reviews against PostgreSQL."""

import json
from collections import Counter
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test import Client
from django.utils import timezone

from exams.models import Review, Submission
from exams.projects import services as project_services
from lms.errors import DomainError
from lms.tokens import token_create
from tests.exams.project_factories import make_brief, make_instructor, make_staff, scores_for
from tests.exams.test_concurrency import run_together
from tests.lms.factories import UserFactory

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL"),
]


@pytest.mark.django_db(transaction=True)
def test_ten_graders_claiming_at_once_get_one_claim():
    brief = make_brief()
    submission = project_services.submission_create(
        person=UserFactory(), brief=brief, repository_url="https://example.com/repo"
    )
    graders = [make_instructor() for _ in range(10)]

    def claim(grader):
        return project_services.submission_claim(grader=grader, submission_id=submission.pk)

    outcomes = run_together(claim, [(g,) for g in graders])
    won = [o for o in outcomes if isinstance(o, Submission)]
    lost = [o for o in outcomes if isinstance(o, DomainError)]
    assert len(won) == 1, outcomes
    assert len(lost) == 9 and {e.code for e in lost} == {"already_claimed"}
    submission.refresh_from_db()
    assert submission.claimed_by_id == won[0].claimed_by_id


@pytest.mark.django_db(transaction=True)
def test_parallel_submissions_leave_one_open():
    brief = make_brief()
    person = UserFactory()

    def submit(n):
        return project_services.submission_create(
            person=person, brief=brief, repository_url=f"https://example.com/{n}"
        )

    outcomes = run_together(submit, [(n,) for n in range(10)])
    assert sum(isinstance(o, Submission) for o in outcomes) == 1, outcomes
    assert {o.code for o in outcomes if isinstance(o, DomainError)} == {"submission_open"}
    assert Submission.objects.filter(person=person, brief=brief).count() == 1


# --- second and third rounds, through the API -------------------------------------------


def _bearer(user):
    return {"HTTP_AUTHORIZATION": f"Bearer {token_create(user=user, name='t')[1]}"}


def _post(headers, path, body=None):
    response = Client().post(
        f"/api/v1{path}",
        json.dumps(body) if body is not None else "",
        content_type="application/json",
        **headers,
    )
    return response.status_code, response.json()


def _borderline(brief):
    """A submission whose first review (6 of 9, threshold 6) waits for a second grader."""
    submission = project_services.submission_create(
        person=UserFactory(), brief=brief, repository_url="https://example.com/repo"
    )
    first = make_instructor()
    project_services.submission_claim(grader=first, submission_id=submission.pk)
    project_services.submission_review(
        grader=first, submission_id=submission.pk, scores=scores_for(brief, [2, 2, 2])
    )
    return submission


@pytest.mark.django_db(transaction=True)
def test_graders_claiming_the_second_round_at_once_get_one_claim():
    brief = make_brief(second_grader_margin=1)
    submission = _borderline(brief)
    headers = [_bearer(make_instructor()) for _ in range(8)]
    outcomes = run_together(
        lambda h: _post(h, f"/submissions/{submission.pk}/claim"), [(h,) for h in headers]
    )
    statuses = Counter(status for status, _ in outcomes)
    assert statuses == {200: 1, 409: 7}, outcomes
    assert {body["code"] for status, body in outcomes if status == 409} == {"already_claimed"}


@pytest.mark.django_db(transaction=True)
def test_two_graders_sending_the_second_review_at_once_store_one():
    brief = make_brief(second_grader_margin=1)
    submission = _borderline(brief)
    lapsed, current = make_instructor(), make_instructor()
    project_services.submission_claim(grader=lapsed, submission_id=submission.pk)
    Submission.objects.filter(pk=submission.pk).update(
        claim_expires_at=timezone.now() - timedelta(minutes=1)
    )
    project_services.submission_claim(grader=current, submission_id=submission.pk)
    body = {"scores": scores_for(brief, [2, 2, 2]), "round": 2}
    path = f"/submissions/{submission.pk}/reviews"
    # The lapsed claimant, and the current one twice (a double click).
    senders = [_bearer(lapsed), _bearer(current), _bearer(current)]
    outcomes = run_together(lambda h: _post(h, path, body), [(h,) for h in senders])
    statuses = Counter(status for status, _ in outcomes)
    assert statuses == {201: 1, 409: 2}, outcomes
    assert {body["code"] for status, body in outcomes if status == 409} <= {
        "not_claimed",
        "already_decided",
        "round_taken",
    }
    assert list(Review.objects.filter(submission=submission).values_list("round", "grader")) == [
        (1, Review.objects.get(submission=submission, round=1).grader_id),
        (2, current.pk),
    ]
    submission.refresh_from_db()
    assert submission.status == "passed" and submission.score == Decimal("6.00")


@pytest.mark.django_db(transaction=True)
def test_staff_claiming_and_sending_the_third_review_at_once_decide_once():
    brief = make_brief(second_grader_margin=1)
    submission = _borderline(brief)
    second = make_instructor()
    project_services.submission_claim(grader=second, submission_id=submission.pk)
    project_services.submission_review(
        grader=second, submission_id=submission.pk, scores=scores_for(brief, [2, 2, 1])
    )  # 5: revise against a pass: disagreement
    staff = [make_staff() for _ in range(5)]
    headers = [_bearer(user) for user in staff]

    def claim_and_review(h):
        status, body = _post(h, f"/submissions/{submission.pk}/claim")
        if status != 200:
            return status, body
        return _post(
            h,
            f"/submissions/{submission.pk}/reviews",
            {"scores": scores_for(brief, [3, 3, 3]), "round": 3},
        )

    outcomes = run_together(claim_and_review, [(h,) for h in headers])
    statuses = Counter(status for status, _ in outcomes)
    assert statuses[201] == 1 and statuses[409] == 4, outcomes
    assert Review.objects.filter(submission=submission, round=3).count() == 1
    submission.refresh_from_db()
    assert submission.status == "passed" and submission.score == Decimal("9.00")
