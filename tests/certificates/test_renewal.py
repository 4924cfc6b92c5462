"""Renewal: the renewal exam opens only inside the holder's window, the window
is decided when the attempt starts, and a renewal keeps the credential id."""

from datetime import timedelta

import pytest
from django.utils import timezone

from certificates import rules, services
from certificates.models import Credential, CredentialStatus, EventKind
from exams.models import Attempt, AttemptStatus
from exams.services import attempt_start
from exams.signals import attempt_passed
from lms.errors import DomainError
from lms.tokens import token_create
from tests.certificates.factories import CredentialFactory, passed_attempt
from tests.exams.factories import make_exam
from tests.lms.api.helpers import assert_error

pytestmark = pytest.mark.django_db


@pytest.fixture
def renewal_exam(certification):
    exam = make_exam(title="Developer renewal exam")
    certification.renewal_exam = exam
    certification.save()
    return exam


def _credential(learner, certification, days_left):
    return CredentialFactory(
        person=learner,
        certification=certification,
        expires_at=timezone.now() + timedelta(days=days_left),
    )


@pytest.mark.parametrize(
    ("days_left", "refusal"),
    [
        (180.01, "already_certified"),  # a current holder before the window opens
        (179.99, None),
        (1, None),
        (-0.01, "renewal_not_open"),  # expired: the full path applies again
    ],
)
def test_the_renewal_exam_starts_only_inside_the_window(
    learner, certification, renewal_exam, days_left, refusal
):
    _credential(learner, certification, days_left)
    if refusal is None:
        attempt, created = attempt_start(person=learner, exam=renewal_exam)
        assert created and attempt.exam == renewal_exam
    else:
        with pytest.raises(DomainError) as error:
            attempt_start(person=learner, exam=renewal_exam)
        assert (error.value.status, error.value.code) == (409, refusal)
        assert not Attempt.objects.filter(person=learner).exists()


def test_a_person_without_the_credential_cannot_start_the_renewal_exam(learner, renewal_exam):
    with pytest.raises(DomainError) as error:
        attempt_start(person=learner, exam=renewal_exam)
    assert error.value.code == "renewal_not_open"


def test_a_revoked_credential_does_not_open_the_renewal_exam(learner, certification, renewal_exam):
    credential = _credential(learner, certification, 30)
    Credential.objects.filter(pk=credential.pk).update(
        status=CredentialStatus.REVOKED, revoked_at=timezone.now()
    )
    with pytest.raises(DomainError):
        attempt_start(person=learner, exam=renewal_exam)


def test_the_api_refuses_a_renewal_start_outside_the_window(client, learner, renewal_exam):
    bearer = {"Authorization": f"Bearer {token_create(user=learner, name='ci')[1]}"}
    response = client.post(f"/api/v1/exams/{renewal_exam.slug}/attempts", headers=bearer)
    assert_error(response, 409, "renewal_not_open")
    assert not Attempt.objects.exists()


def test_an_attempt_started_in_the_window_renews_after_the_expiry(
    learner, certification, renewal_exam, no_render
):
    expires = timezone.now() - timedelta(minutes=5)
    credential = CredentialFactory(person=learner, certification=certification, expires_at=expires)
    # The expiry job ran while the attempt was open.
    Credential.objects.filter(pk=credential.pk).update(status=CredentialStatus.EXPIRED)
    attempt = passed_attempt(person=learner, exam=renewal_exam, at=timezone.now())
    Attempt.objects.filter(pk=attempt.pk).update(started_at=expires - timedelta(minutes=15))
    attempt.refresh_from_db()
    attempt_passed.send(sender=Attempt, attempt=attempt)
    credential.refresh_from_db()
    assert credential.status == CredentialStatus.ACTIVE
    assert credential.expires_at == rules.add_months(expires, 24)
    assert credential.events.filter(kind=EventKind.RENEWED, attempt=attempt).count() == 1
    assert Credential.objects.filter(person=learner).count() == 1


def test_an_attempt_started_after_the_expiry_does_not_renew(
    learner, certification, renewal_exam, no_render
):
    expires = timezone.now() - timedelta(days=2)
    credential = CredentialFactory(person=learner, certification=certification, expires_at=expires)
    attempt = passed_attempt(person=learner, exam=renewal_exam)
    attempt_passed.send(sender=Attempt, attempt=attempt)
    credential.refresh_from_db()
    assert credential.expires_at == expires
    with pytest.raises(services.RenewalNotOpen):
        services.credential_renew(credential=credential, attempt=attempt)


def test_the_renewal_exam_has_its_own_retake_counter(learner, certification, renewal_exam):
    _credential(learner, certification, 60)
    # Failed attempts of the full exam do not count against the renewal exam.
    for days in (40, 20):
        passed_attempt(
            person=learner,
            exam=certification.exam,
            passed=False,
            at=timezone.now() - timedelta(days=days),
        )
    failed = passed_attempt(person=learner, exam=renewal_exam, passed=False)
    with pytest.raises(DomainError) as error:
        attempt_start(person=learner, exam=renewal_exam)
    assert error.value.code == "retake_too_soon"
    assert (
        error.value.extra["available_at"] == (failed.submitted_at + timedelta(hours=24)).isoformat()
    )
    assert Attempt.objects.filter(exam=renewal_exam, status=AttemptStatus.IN_PROGRESS).count() == 0


def test_the_certificates_page_offers_renew_inside_the_window(
    client, learner, certification, renewal_exam
):
    _credential(learner, certification, 90)
    client.force_login(learner)
    html = client.get("/certificates/").content.decode()
    assert "Renewal is open" in html
    assert f"/exams/{renewal_exam.slug}/start/" in html


@pytest.mark.parametrize(
    ("days_left", "offered"),
    [
        (None, False),  # holds nothing: the card says who may take it
        (179.99, True),
        (-0.01, False),  # expired: the full path applies again
    ],
)
def test_the_exam_list_offers_the_renewal_exam_only_to_whom_the_start_allows(
    client, learner, certification, renewal_exam, days_left, offered
):
    if days_left is not None:
        _credential(learner, certification, days_left)
    bearer = {"Authorization": f"Bearer {token_create(user=learner, name='ci')[1]}"}
    card = client.get(f"/api/v1/exams/{renewal_exam.slug}", headers=bearer).json()
    assert card["can_start"] is offered
    assert card["code"] == (None if offered else "renewal_not_open")
    client.force_login(learner)
    html = client.get("/exams/").content.decode()
    start = f'action="/exams/{renewal_exam.slug}/start/"'
    assert (start in html) is offered
    if not offered:
        assert 'data-code="renewal_not_open"' in html
        assert "open to holders in the last 180 days" in html
    # The start agrees with the card.
    response = client.post(f"/api/v1/exams/{renewal_exam.slug}/attempts", headers=bearer)
    assert response.status_code == (201 if offered else 409)
