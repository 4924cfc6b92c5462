"""Independent second grading, the third grader and what each person sees meanwhile."""

import json
from decimal import Decimal

import pytest
from django.contrib.auth.models import Group
from django.db import IntegrityError, transaction
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from exams.models import Review, SubmissionStatus
from exams.projects import rules as project_rules
from exams.projects import selectors as project_selectors
from exams.projects import services as project_services
from exams.signals import submission_passed
from lms.errors import DomainError
from lms.permissions import INSTRUCTORS, forget_roles
from lms.tokens import token_create
from tests.exams.project_factories import (
    make_brief,
    make_instructor,
    make_staff,
    scores_for,
    upload,
)
from tests.lms.api.helpers import assert_error
from tests.lms.factories import UserFactory

pytestmark = pytest.mark.django_db

BACKEND = "django.contrib.auth.backends.ModelBackend"
FIRST_SECRET = "first-grader-private-remark"
FIRST_CRITERION_SECRET = "first-grader-criterion-note"


# --- pure rules -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("threshold", "margin"),
    [(7, 1), (10, 1), (70, 7), (6, 1), (11, 2), (100, 10), (101, 11), (1, 1), (0, 0)],
)
def test_default_margin_is_ten_percent_of_the_threshold_rounded_up(threshold, margin):
    assert project_rules.default_margin(threshold) == margin
    assert project_rules.margin_for(threshold, None) == margin


def test_a_brief_s_own_margin_overrides_the_default():
    assert project_rules.margin_for(70, 3) == 3
    assert project_rules.margin_for(70, 0) == 0  # second grading off


@pytest.mark.parametrize(
    ("first", "second", "margin", "disagree"),
    [
        (6, 5, 1, True),  # pass vs revise, although one point apart
        (7, 9, 1, True),  # both pass, two points apart
        (6, 7, 1, False),  # both pass, one point apart
        (5, 4, 1, False),  # both revise, one point apart
        (7, 9, 2, False),
    ],
)
def test_graders_disagree(first, second, margin, disagree):
    assert project_rules.graders_disagree(first, second, 6, margin) is disagree


def test_decide_by_round():
    assert project_rules.decide([8], 6, 1) == project_rules.Decision(
        True, Decimal("8.00"), "passed", None
    )
    assert project_rules.decide([6], 6, 1).next_round == 2
    assert project_rules.decide([6, 5], 6, 1).next_round == 3
    assert project_rules.decide([6, 7], 6, 1).score == Decimal("6.50")
    third = project_rules.decide([6, 5, 2], 6, 1)
    assert (third.final, third.score, third.outcome) == (True, Decimal("2.00"), "failed")
    with pytest.raises(ValueError):
        project_rules.decide([], 6, 1)


# --- helpers ----------------------------------------------------------------------------


@pytest.fixture
def brief():
    # 3 criteria x levels 0-3 (9 points), threshold 6, margin 1.
    return make_brief(second_grader_margin=1, title="Build a payment flow", slug="payment-flow")


@pytest.fixture
def learner():
    return UserFactory(email="learner@example.com", legal_name="Lee Learner")


@pytest.fixture
def submission(brief, learner):
    return project_services.submission_create(person=learner, brief=brief, files=[upload()])


def grade(grader, submission, points, **kwargs):
    project_services.submission_claim(grader=grader, submission_id=submission.pk)
    return project_services.submission_review(
        grader=grader,
        submission_id=submission.pk,
        scores=scores_for(submission.brief, points),
        **kwargs,
    )


def first_review(submission, points=(2, 2, 2)):
    """A borderline first review with comments only its grader may read meanwhile."""
    grader = make_instructor(email="first@example.com")
    criterion = str(submission.brief.criteria.order_by("position").first().pk)
    grade(
        grader,
        submission,
        list(points),
        comment=FIRST_SECRET,
        criterion_comments={criterion: FIRST_CRITERION_SECRET},
    )
    submission.refresh_from_db()
    return grader


def api_for(user):
    client = Client()
    headers = {"HTTP_AUTHORIZATION": f"Bearer {token_create(user=user, name='t')[1]}"}

    def call(method, path, body=None):
        if method == "get":
            return client.get(f"/api/v1{path}", **headers)
        return client.post(
            f"/api/v1{path}",
            json.dumps(body) if body is not None else "",
            content_type="application/json",
            **headers,
        )

    return call


def login(client, user):
    client.force_login(user, backend=BACKEND)
    return client


# --- the default margin on a brief ------------------------------------------------------


def test_a_brief_without_its_own_margin_uses_the_default(learner):
    brief = make_brief(second_grader_margin=None)  # threshold 6: margin 1
    near = project_services.submission_create(person=learner, brief=brief, files=[upload()])
    grade(make_instructor(), near, [3, 2, 2])  # 7: one above
    near.refresh_from_db()
    assert near.needs_second_review and near.is_open
    far = project_services.submission_create(person=UserFactory(), brief=brief, files=[upload()])
    grade(make_instructor(), far, [3, 3, 2])  # 8: two above
    far.refresh_from_db()
    assert far.status == "passed" and not far.needs_second_review


# --- the second grader sees nothing of the first review ---------------------------------


def test_second_grader_grading_page_hides_the_first_review(client, submission):
    first_review(submission)  # 6 points: passed, within the margin
    second = make_instructor(email="second@example.com")
    login(client, second)
    queue = client.get(reverse("exams:review_queue"))
    assert b"Second review needed" in queue.content
    assert FIRST_SECRET.encode() not in queue.content
    client.post(reverse("exams:review_claim", args=[submission.pk]))
    page = client.get(reverse("exams:review_grade", args=[submission.pk]))
    assert page.status_code == 200
    body = page.content.decode()
    assert "data-independent-review" in body
    for leaked in (FIRST_SECRET, FIRST_CRITERION_SECRET, "6 points", "First review"):
        assert leaked not in body, leaked
    assert 'name="round" value="2"' in body


def test_second_grader_api_hides_the_first_review(submission):
    first_review(submission)
    second = make_instructor()
    call = api_for(second)
    queue = call("get", "/review-queue")
    assert queue.status_code == 200
    [item] = queue.json()["data"]
    assert item["needs_second_review"] is True
    assert FIRST_SECRET not in queue.content.decode()
    assert set(item) == {
        "id",
        "project",
        "project_title",
        "status",
        "created_at",
        "needs_second_review",
        "needs_third_review",
        "claimed_by_me",
        "claimed_until",
        "learner",
    }
    assert call("post", f"/submissions/{submission.pk}/claim").status_code == 200
    detail = call("get", f"/submissions/{submission.pk}")
    assert detail.status_code == 200
    body = detail.json()
    assert body["reviews"] == [] and body["score"] is None and body["status"] == "in_review"
    assert FIRST_SECRET not in detail.content.decode()
    assert FIRST_CRITERION_SECRET not in detail.content.decode()


def test_nobody_else_sees_an_open_review_either(submission, learner):
    first = first_review(submission)
    for viewer in (learner, make_staff()):
        body = api_for(viewer)("get", f"/submissions/{submission.pk}").json()
        assert body["reviews"] == [] and body["score"] is None
    # The first grader sees their own review, and only theirs.
    mine = api_for(first)("get", f"/submissions/{submission.pk}").json()["reviews"]
    assert [(r["round"], r["total"], r["comment"]) for r in mine] == [(1, 6, FIRST_SECRET)]


def test_once_both_have_graded_each_sees_both(submission):
    first = first_review(submission)  # 6
    second = make_instructor()
    grade(second, submission, [3, 2, 2])  # 7: pass, one apart: agreed
    submission.refresh_from_db()
    assert submission.status == "passed" and submission.score == Decimal("6.50")
    for grader in (first, second):
        reviews = api_for(grader)("get", f"/submissions/{submission.pk}").json()["reviews"]
        assert [(r["round"], r["total"]) for r in reviews] == [(1, 6), (2, 7)]


# --- agreement and disagreement ---------------------------------------------------------


def test_agreement_within_the_margin_is_final(submission, learner):
    first_review(submission, (2, 2, 1))  # 5: revise
    result = api_for(make_instructor())
    result("post", f"/submissions/{submission.pk}/claim")
    response = result(
        "post",
        f"/submissions/{submission.pk}/reviews",
        {"scores": scores_for(submission.brief, [2, 1, 1]), "round": 2},  # 4: revise
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["round"], body["is_second"], body["decided"]) == (2, True, True)
    assert (body["status"], body["score"], body["needs_third_review"]) == ("revise", 4.5, False)
    learner_view = api_for(learner)("get", f"/submissions/{submission.pk}").json()
    assert learner_view["status"] == "revise" and learner_view["score"] == 4.5
    assert [r["total"] for r in learner_view["reviews"]] == [5, 4]


def test_disagreement_by_outcome_goes_to_a_third_grader(submission, learner):
    first_review(submission)  # 6: passed
    grade(make_instructor(), submission, [2, 2, 1])  # 5: revise, one point apart only
    submission.refresh_from_db()
    assert submission.is_open and submission.needs_third_review
    assert not submission.needs_second_review and submission.score is None
    assert submission.claimed_by is None
    # The learner still sees nothing: grading is not complete.
    body = api_for(learner)("get", f"/submissions/{submission.pk}").json()
    assert (body["status"], body["score"], body["reviews"]) == ("in_review", None, [])


def test_disagreement_by_margin_goes_to_a_third_grader(submission):
    first_review(submission, (3, 2, 2))  # 7: passed, within the margin
    grade(make_instructor(), submission, [3, 3, 3])  # 9: passed too, but 2 points apart
    submission.refresh_from_db()
    assert submission.is_open and submission.needs_third_review


def test_the_third_grader_sees_both_reviews_and_decides(
    client, submission, learner, django_capture_on_commit_callbacks
):
    first_review(submission)  # 6
    second = make_instructor()
    grade(second, submission, [2, 2, 1], comment="second-grader-remark")  # 5
    staff = make_staff(email="staff@example.com")
    queue = project_selectors.review_queue_for(grader=staff, now=timezone.now())
    assert [s.pk for s in queue] == [submission.pk]
    login(client, staff)
    listing = client.get(reverse("exams:review_queue"))
    assert b"Third review needed" in listing.content
    client.post(reverse("exams:review_claim", args=[submission.pk]))
    page = client.get(reverse("exams:review_grade", args=[submission.pk]))
    body = page.content.decode()
    assert "data-third-review" in body
    assert FIRST_SECRET in body and FIRST_CRITERION_SECRET in body
    assert "second-grader-remark" in body
    assert "First review: 6 points" in body and "Second review: 5 points" in body
    received = []
    submission_passed.connect(
        lambda sender, submission, **kw: received.append(submission.pk),
        weak=False,
        dispatch_uid="t-third",
    )
    try:
        data = {
            f"criterion-{key}": value
            for key, value in scores_for(submission.brief, [3, 3, 2]).items()
        }
        with django_capture_on_commit_callbacks(execute=True):
            saved = client.post(
                reverse("exams:review_grade", args=[submission.pk]), {**data, "round": "3"}
            )
    finally:
        submission_passed.disconnect(dispatch_uid="t-third")
    assert saved.status_code == 302
    submission.refresh_from_db()
    # The third review alone decides: 8 points, not a mean of 6, 5 and 8.
    assert submission.status == "passed" and submission.score == Decimal("8.00")
    assert received == [submission.pk]
    assert list(submission.reviews.values_list("round", "total")) == [(1, 6), (2, 5), (3, 8)]
    learner_view = api_for(learner)("get", f"/submissions/{submission.pk}").json()
    assert learner_view["status"] == "passed" and learner_view["score"] == 8.0
    assert [r["round"] for r in learner_view["reviews"]] == [1, 2, 3]


def test_third_grader_must_be_staff(submission):
    first_review(submission)
    grade(make_instructor(), submission, [2, 2, 1])
    instructor = make_instructor()
    assert project_selectors.review_queue_for(grader=instructor, now=timezone.now()) == []
    call = api_for(instructor)
    assert call("get", "/review-queue").json()["data"] == []
    assert_error(
        call("post", f"/submissions/{submission.pk}/claim"), 403, "third_grader_staff_only"
    )
    # Nor can an instructor see the two reviews meanwhile.
    submission.refresh_from_db()
    assert project_selectors.reviews_visible_to(instructor, submission) == []


def test_third_grader_is_not_one_of_the_first_two(submission, brief):
    staff_first = make_staff()
    grade(staff_first, submission, [2, 2, 2])  # 6
    grade(make_instructor(), submission, [2, 2, 1])  # 5
    assert_error(
        api_for(staff_first)("post", f"/submissions/{submission.pk}/claim"),
        409,
        "already_reviewed",
    )
    assert project_selectors.review_queue_for(grader=staff_first, now=timezone.now()) == []


def test_a_third_review_by_a_grader_no_longer_staff_is_refused(submission):
    first_review(submission)
    grade(make_instructor(), submission, [2, 2, 1])
    staff = make_staff()
    project_services.submission_claim(grader=staff, submission_id=submission.pk)
    staff.groups.set([Group.objects.get_or_create(name=INSTRUCTORS)[0]])  # left staff
    forget_roles(staff)
    with pytest.raises(DomainError) as error:
        project_services.submission_review(
            grader=staff, submission_id=submission.pk, scores=scores_for(submission.brief, [3] * 3)
        )
    assert (error.value.status, error.value.code) == (403, "third_grader_staff_only")
    assert Review.objects.filter(submission=submission).count() == 2


# --- bad inputs -------------------------------------------------------------------------


def test_grading_a_round_that_is_not_yours(submission):
    first_review(submission)
    holder, other = make_instructor(), make_instructor()
    project_services.submission_claim(grader=holder, submission_id=submission.pk)
    call = api_for(other)
    assert_error(call("post", f"/submissions/{submission.pk}/claim"), 409, "already_claimed")
    response = call(
        "post",
        f"/submissions/{submission.pk}/reviews",
        {"scores": scores_for(submission.brief, [3, 3, 3])},
    )
    assert_error(response, 409, "not_claimed")
    assert Review.objects.filter(submission=submission).count() == 1


@pytest.mark.parametrize("stated", [1, 3])
def test_review_for_another_round_is_refused(submission, stated):
    first_review(submission)
    call = api_for(make_instructor())
    call("post", f"/submissions/{submission.pk}/claim")
    response = call(
        "post",
        f"/submissions/{submission.pk}/reviews",
        {"scores": scores_for(submission.brief, [3, 3, 3]), "round": stated},
    )
    body = assert_error(response, 409, "wrong_round")
    assert body["round"] == 2
    assert Review.objects.filter(submission=submission).count() == 1


@pytest.mark.parametrize("stated", [0, 4, "two"])
def test_review_round_out_of_range_is_a_validation_error(submission, stated):
    call = api_for(make_instructor())
    call("post", f"/submissions/{submission.pk}/claim")
    response = call(
        "post",
        f"/submissions/{submission.pk}/reviews",
        {"scores": scores_for(submission.brief, [3, 3, 3]), "round": stated},
    )
    assert_error(response, 422, "validation_error")


def test_tampered_round_on_the_grading_page_is_refused(client, submission):
    first_review(submission)
    second = make_instructor()
    login(client, second)
    client.post(reverse("exams:review_claim", args=[submission.pk]))
    data = {
        f"criterion-{key}": value for key, value in scores_for(submission.brief, [3] * 3).items()
    }
    response = client.post(
        reverse("exams:review_grade", args=[submission.pk]), {**data, "round": "x9"}
    )
    assert response.status_code == 409 and b'data-code="wrong_round"' in response.content
    assert FIRST_SECRET.encode() not in response.content


@pytest.mark.parametrize(
    ("mutate", "code"),
    [
        ("missing", "incomplete_scores"),
        ("other_criterion", "invalid_level"),
        ("unknown_level", "invalid_level"),
    ],
)
def test_second_review_bad_levels(submission, mutate, code):
    first_review(submission)
    call = api_for(make_instructor())
    call("post", f"/submissions/{submission.pk}/claim")
    scores = scores_for(submission.brief, [3, 3, 3])
    keys = list(scores)
    if mutate == "missing":
        del scores[keys[0]]
    elif mutate == "other_criterion":
        scores[keys[0]] = scores[keys[1]]
    else:
        scores[keys[0]] = 987654321
    response = call("post", f"/submissions/{submission.pk}/reviews", {"scores": scores})
    assert_error(response, 422, code)
    submission.refresh_from_db()
    assert submission.needs_second_review and submission.reviews.count() == 1


def test_round_constraint_holds_without_the_checks(submission):
    first_review(submission)
    with pytest.raises(IntegrityError), transaction.atomic():
        Review.objects.create(
            submission=submission,
            grader=make_instructor(),
            scores={},
            total=0,
            outcome="failed",
            round=1,
            created_at=timezone.now(),
        )
    with pytest.raises(IntegrityError), transaction.atomic():
        Review.objects.create(
            submission=submission,
            grader=make_instructor(),
            scores={},
            total=0,
            outcome="failed",
            round=4,
            created_at=timezone.now(),
        )


def test_learner_page_shows_no_outcome_before_grading_is_complete(client, submission, learner):
    first_review(submission)
    grade(make_instructor(), submission, [2, 2, 1])
    login(client, learner)
    page = client.get(reverse("exams:project_detail", args=["payment-flow"]))
    body = page.content.decode()
    assert 'data-status="in_review"' in body
    assert FIRST_SECRET not in body and "First review" not in body
    assert "Second review" not in body
    submission.refresh_from_db()
    assert submission.status == SubmissionStatus.IN_REVIEW and submission.score is None
