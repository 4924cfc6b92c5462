from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from exams.models import Review, Submission, SubmissionFile, SubmissionStatus
from exams.projects import rules as project_rules
from exams.projects import selectors as project_selectors
from exams.projects import services as project_services
from exams.signals import submission_passed
from lms.errors import DomainError
from tests.exams.project_factories import (
    PDF,
    make_brief,
    make_instructor,
    scores_for,
    upload,
    zip_bytes,
)
from tests.lms.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def brief():
    return make_brief()


@pytest.fixture
def grader():
    return make_instructor(email="grader@example.com")


def submit(person, brief, **kwargs):
    kwargs.setdefault("files", [upload()])
    return project_services.submission_create(person=person, brief=brief, **kwargs)


def private_files(settings):
    root = settings.PRIVATE_ROOT / "submissions"
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


# --- pure rules -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("total", "threshold", "outcome"),
    [
        (6, 6, "passed"),
        (9, 6, "passed"),
        (5, 6, "revise"),
        (3, 6, "revise"),
        (2, 6, "failed"),
        (0, 0, "passed"),
        (Decimal("5.5"), 6, "revise"),
    ],
)
def test_review_outcome(total, threshold, outcome):
    assert project_rules.review_outcome(total, threshold) == outcome


@pytest.mark.parametrize(
    ("total", "margin", "second"),
    [(6, 0, False), (5, 1, True), (7, 1, True), (8, 1, False), (4, 1, False)],
)
def test_needs_second_review(total, margin, second):
    assert project_rules.needs_second_review(total, 6, margin) is second


# --- submitting -------------------------------------------------------------------------


def test_submission_stores_file_privately(brief, settings):
    person = UserFactory()
    submission = submit(
        person, brief, repository_url="https://git.example.com/me/shop", notes="See README"
    )
    assert submission.status == SubmissionStatus.SUBMITTED
    file = submission.files.get()
    assert file.original_name == "report.pdf"
    assert file.content_type == "application/pdf"
    assert file.size == len(PDF)
    stored = settings.PRIVATE_ROOT / "submissions" / file.file.name
    assert stored.read_bytes() == PDF
    assert "report" not in file.file.name and not file.file.name.endswith(".pdf")
    assert not (settings.MEDIA_ROOT).exists() or not any(settings.MEDIA_ROOT.rglob("*"))


def test_repository_link_only(brief):
    submission = submit(UserFactory(), brief, files=[], repository_url="http://example.com/r")
    assert submission.files.count() == 0


def test_one_open_submission(brief):
    person = UserFactory()
    submit(person, brief)
    with pytest.raises(DomainError) as error:
        submit(person, brief)
    assert (error.value.status, error.value.code) == (409, "submission_open")
    assert Submission.objects.count() == 1


def test_open_submission_constraint_holds_without_the_check(brief):
    person = UserFactory()
    Submission.objects.create(person=person, brief=brief, created_at=timezone.now())
    with pytest.raises(IntegrityError), transaction.atomic():
        Submission.objects.create(
            person=person,
            brief=brief,
            status=SubmissionStatus.IN_REVIEW,
            created_at=timezone.now(),
        )


@pytest.mark.parametrize(
    ("kwargs", "status", "code"),
    [
        ({"files": [upload(content=PDF * 40000)]}, 413, "file_too_large"),
        ({"files": [upload("tool.exe", b"MZ\x90\x00")]}, 415, "unsupported_file_type"),
        ({"files": [upload("report.pdf", b"MZ\x90\x00binary")]}, 415, "unsupported_file_type"),
        ({"files": [upload("notes.md", b"\xff\xfe\x00bad")]}, 415, "unsupported_file_type"),
        ({"files": [upload("pic.png", PDF)]}, 415, "unsupported_file_type"),
        (
            {"files": [upload("a.zip", zip_bytes({"../../etc/cron.d/x": b"x"}))]},
            422,
            "unsafe_archive",
        ),
        ({"files": [upload("a.zip", zip_bytes({"/etc/passwd": b"x"}))]}, 422, "unsafe_archive"),
        (
            {"files": [upload("a.zip", zip_bytes({"ok.txt": b"x"}, symlink="link"))]},
            422,
            "unsafe_archive",
        ),
        (
            {"files": [upload("a.zip", zip_bytes({"bomb.txt": b"\0" * (20 * 1024 * 1024)}))]},
            422,
            "unsafe_archive",
        ),
        ({"files": [upload("a.zip", b"PK\x03\x04 not really a zip")]}, 422, "unsafe_archive"),
        ({"files": [], "repository_url": "ftp://example.com/repo"}, 422, "invalid_repository_url"),
        ({"files": [], "repository_url": "javascript:alert(1)"}, 422, "invalid_repository_url"),
        (
            {"files": [], "repository_url": "https://user:pw@example.com/r"},
            422,
            "invalid_repository_url",
        ),
        ({"files": [], "repository_url": "https:///nohost"}, 422, "invalid_repository_url"),
        ({"files": []}, 422, "empty_submission"),
        ({"notes": "x" * 10_001}, 422, "notes_too_long"),
    ],
)
def test_bad_submissions_store_nothing(brief, settings, kwargs, status, code):
    with pytest.raises(DomainError) as error:
        submit(UserFactory(), brief, **kwargs)
    assert (error.value.status, error.value.code) == (status, code)
    assert Submission.objects.count() == 0
    assert SubmissionFile.objects.count() == 0
    assert private_files(settings) == []


def test_zip_with_lying_sizes_is_refused(brief):
    """A member whose header claims less than it expands to is caught while streaming."""
    import io
    import zipfile

    data = zip_bytes({"big.txt": b"a" * 200_000})
    # Rewrite the declared uncompressed sizes (local + central headers) to 10 bytes.
    archive = zipfile.ZipFile(io.BytesIO(data))
    info = archive.infolist()[0]
    patched = data.replace(info.file_size.to_bytes(4, "little"), (10).to_bytes(4, "little"))
    with pytest.raises(DomainError) as error:
        submit(UserFactory(), brief, files=[upload("a.zip", patched)])
    assert error.value.code == "unsafe_archive"


def test_safe_zip_accepted(brief):
    data = zip_bytes({"src/app.py": b"print('hi')\n", "README.md": b"# Shop\n"})
    submission = submit(UserFactory(), brief, files=[upload("code.zip", data)])
    assert submission.files.get().content_type == "application/zip"


def test_failed_db_write_removes_files(brief, settings, monkeypatch):
    def broken_save(self, *args, **kwargs):
        raise IntegrityError("boom")

    monkeypatch.setattr(SubmissionFile, "save", broken_save)
    with pytest.raises(IntegrityError):
        submit(UserFactory(), brief)
    assert private_files(settings) == []
    assert Submission.objects.count() == 0


# --- claiming and grading -------------------------------------------------------------------


def test_queue_is_oldest_first_and_claim_locks(brief, grader):
    now = timezone.now()
    old = submit(UserFactory(), brief, now=now - timedelta(days=2))
    new = submit(UserFactory(), brief, now=now - timedelta(days=1))
    assert project_selectors.review_queue_for(grader=grader, now=now) == [old, new]
    project_services.submission_claim(grader=grader, submission_id=old.pk, now=now)
    other = make_instructor()
    assert project_selectors.review_queue_for(grader=other, now=now) == [new]
    with pytest.raises(DomainError) as error:
        project_services.submission_claim(grader=other, submission_id=old.pk, now=now)
    assert (error.value.status, error.value.code) == (409, "already_claimed")
    # The claim lapses after 8 hours.
    later = now + timedelta(hours=8, seconds=1)
    assert project_selectors.review_queue_for(grader=other, now=later) == [old, new]
    claimed = project_services.submission_claim(grader=other, submission_id=old.pk, now=later)
    assert claimed.claimed_by == other
    with pytest.raises(DomainError) as error:
        project_services.submission_review(
            grader=grader, submission_id=old.pk, scores=scores_for(brief, [3, 3, 3]), now=later
        )
    assert error.value.code == "not_claimed"


def test_learner_cannot_claim(brief):
    submission = submit(UserFactory(), brief)
    with pytest.raises(DomainError) as error:
        project_services.submission_claim(grader=UserFactory(), submission_id=submission.pk)
    assert error.value.status == 404


def test_own_submission_cannot_be_claimed(brief, grader):
    submission = submit(grader, brief)
    with pytest.raises(DomainError) as error:
        project_services.submission_claim(grader=grader, submission_id=submission.pk)
    assert error.value.code == "own_submission"


def grade(grader, submission, points, **kwargs):
    project_services.submission_claim(grader=grader, submission_id=submission.pk)
    return project_services.submission_review(
        grader=grader,
        submission_id=submission.pk,
        scores=scores_for(submission.brief, points),
        **kwargs,
    )


def test_pass_sends_signal_once_on_commit(brief, grader, django_capture_on_commit_callbacks):
    received = []
    submission_passed.connect(
        lambda sender, submission, **kw: received.append(submission.pk),
        weak=False,
        dispatch_uid="t-pass",
    )
    try:
        submission = submit(UserFactory(), brief)
        with django_capture_on_commit_callbacks(execute=True):
            review = grade(grader, submission, [3, 2, 2], comment="Good work")
    finally:
        submission_passed.disconnect(dispatch_uid="t-pass")
    submission.refresh_from_db()
    assert review.total == 7 and review.outcome == "passed"
    assert submission.status == "passed" and submission.score == Decimal("7.00")
    assert submission.decided_at is not None and submission.claimed_by is None
    assert received == [submission.pk]
    assert project_selectors.passed_submission_for(person=submission.person, brief=brief) == (
        submission
    )
    with pytest.raises(DomainError) as error:
        project_services.submission_review(
            grader=grader, submission_id=submission.pk, scores=scores_for(brief, [3, 3, 3])
        )
    assert (error.value.status, error.value.code) == (409, "already_decided")
    with pytest.raises(DomainError) as error:
        submit(submission.person, brief)
    assert error.value.code == "already_passed"


@pytest.mark.parametrize(("points", "status"), [([1, 1, 1], "revise"), ([1, 0, 1], "failed")])
def test_revise_and_fail(brief, grader, points, status):
    submission = submit(UserFactory(), brief)
    grade(grader, submission, points)
    submission.refresh_from_db()
    assert submission.status == status


def test_resubmission_after_revise(brief, grader):
    person = UserFactory()
    first = submit(person, brief)
    grade(grader, first, [1, 1, 1])
    second = submit(person, brief)
    assert second.previous == first and second.status == "submitted"


def test_level_from_another_criterion(brief, grader):
    submission = submit(UserFactory(), brief)
    project_services.submission_claim(grader=grader, submission_id=submission.pk)
    scores = scores_for(brief, [3, 3, 3])
    ids = list(scores)
    scores[ids[0]], scores[ids[1]] = scores[ids[1]], scores[ids[0]]
    with pytest.raises(DomainError) as error:
        project_services.submission_review(
            grader=grader, submission_id=submission.pk, scores=scores
        )
    assert (error.value.status, error.value.code) == (422, "invalid_level")
    assert Review.objects.count() == 0


@pytest.mark.parametrize(
    "mutate",
    [
        lambda s: s.popitem(),
        lambda s: s.update({"999999": 1}),
        lambda s: s.update({"abc": 1}),
    ],
)
def test_incomplete_scores(brief, grader, mutate):
    submission = submit(UserFactory(), brief)
    project_services.submission_claim(grader=grader, submission_id=submission.pk)
    scores = scores_for(brief, [3, 3, 3])
    mutate(scores)
    with pytest.raises(DomainError) as error:
        project_services.submission_review(
            grader=grader, submission_id=submission.pk, scores=scores
        )
    assert error.value.status == 422
    assert Review.objects.count() == 0


def test_grading_unclaimed(brief, grader):
    submission = submit(UserFactory(), brief)
    with pytest.raises(DomainError) as error:
        project_services.submission_review(
            grader=grader, submission_id=submission.pk, scores=scores_for(brief, [3, 3, 3])
        )
    assert (error.value.status, error.value.code) == (409, "not_claimed")


def test_borderline_goes_to_second_grader(grader, django_capture_on_commit_callbacks):
    brief = make_brief(second_grader_margin=1)
    submission = submit(UserFactory(), brief)
    first = grade(grader, submission, [2, 2, 1])  # 5: one below the threshold
    submission.refresh_from_db()
    assert first.outcome == "revise" and first.round == 1 and not first.is_second
    assert submission.status == "in_review" and submission.needs_second_review
    assert submission.claimed_by is None
    # The first grader may not take it again; somebody else does.
    assert project_selectors.review_queue_for(grader=grader, now=timezone.now()) == []
    with pytest.raises(DomainError) as error:
        project_services.submission_claim(grader=grader, submission_id=submission.pk)
    assert error.value.code == "already_reviewed"
    second_grader = make_instructor()
    second = grade(second_grader, submission, [2, 1, 1])  # 4: revise too, one point apart
    submission.refresh_from_db()
    assert second.is_second and second.round == 2
    assert submission.score == Decimal("4.50") and submission.status == "revise"
    assert [r.total for r in project_selectors.reviews_for(submission)] == [5, 4]


def test_brief_without_rubric_cannot_be_graded(grader):
    brief = make_brief(criteria=0)
    submission = submit(UserFactory(), brief)
    project_services.submission_claim(grader=grader, submission_id=submission.pk)
    with pytest.raises(DomainError) as error:
        project_services.submission_review(grader=grader, submission_id=submission.pk, scores={})
    assert (error.value.status, error.value.code) == (409, "empty_rubric")
