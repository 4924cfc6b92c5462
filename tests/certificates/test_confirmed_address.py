"""A certificate is only issued to a confirmed e-mail address."""

import pytest

from certificates.models import Credential
from certificates.services import credential_issue_if_eligible
from lms import confirmation
from tests.certificates.factories import meet_requirements
from tests.lms.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_an_unconfirmed_person_is_issued_nothing_until_they_confirm(
    certification, no_render, django_capture_on_commit_callbacks
):
    person = UserFactory(email="new@example.com", email_confirmed_at=None)
    meet_requirements(person=person, certification=certification)

    assert credential_issue_if_eligible(person=person, certification=certification) == (
        None,
        False,
    )
    assert not Credential.objects.filter(person=person).exists()

    with django_capture_on_commit_callbacks(execute=True):
        confirmation.email_confirm(token=confirmation.confirmation_token(person))

    credential = Credential.objects.get(person=person)
    assert credential.certification == certification


def test_confirming_without_earned_certificates_issues_nothing(
    certification, no_render, django_capture_on_commit_callbacks
):
    person = UserFactory(email="new@example.com", email_confirmed_at=None)
    with django_capture_on_commit_callbacks(execute=True):
        confirmation.email_confirm(token=confirmation.confirmation_token(person))
    assert not Credential.objects.exists()
