"""The whole path through the exams services: pass the exam, then the project (or the
other way round) and the credential is issued by the signals, once; the holder is then
`already_certified` for the exam."""

import pytest

from certificates.models import Credential
from exams import selectors as exam_selectors
from exams import services as exam_services
from exams.models import Choice, Submission, SubmissionStatus
from exams.signals import submission_passed
from tests.certificates.factories import CertificationFactory, passed_submission
from tests.exams.factories import make_exam


def pass_exam(person, exam):
    attempt, _ = exam_services.attempt_start(person=person, exam=exam)
    for item in attempt.items.all():
        right = list(
            Choice.objects.filter(version=item.question_version, is_correct=True).values_list(
                "pk", flat=True
            )
        )
        exam_services.attempt_item_save(
            person=person, attempt_id=attempt.pk, item_id=item.pk, choice_ids=right
        )
    return exam_services.attempt_submit(person=person, attempt_id=attempt.pk)


@pytest.mark.django_db(transaction=True)
def test_project_then_exam_through_the_services(learner, monkeypatch):
    monkeypatch.setattr("certificates.services._queue_render", lambda credential_id: None)
    certification = CertificationFactory(exam=make_exam(topics=1, draw=2, pool=2))
    submission = passed_submission(person=learner, brief=certification.project_brief)
    submission_passed.send(sender=Submission, submission=submission)
    assert not Credential.objects.exists()
    attempt = pass_exam(learner, certification.exam)
    assert attempt.passed
    credential = Credential.objects.get(person=learner)
    assert credential.exam_attempt_id == attempt.pk
    assert credential.submission_id == submission.pk
    assert submission.status == SubmissionStatus.PASSED
    decision = exam_selectors.retake_decision_for(
        person=type(learner).objects.get(pk=learner.pk),
        exam=certification.exam,
        now=attempt.submitted_at,
    )
    assert decision.code == "already_certified"
