"""Wagtail admin for exam authors: permissions from the migration, question
forms through the services (versions), publishing refusals, import/export screens."""

import pytest
from django.contrib.auth.models import Group
from django.core.files.uploadedfile import SimpleUploadedFile

from exams import services
from exams.models import AttemptItem, Exam, Question
from tests.lms.factories import MODEL_BACKEND, UserFactory

from .factories import ExamFactory, QuestionBankFactory, TopicFactory, make_question

pytestmark = pytest.mark.django_db

BANKS = "/admin/exams/banks/"
TOPICS = "/admin/exams/topics/"
QUESTIONS = "/admin/exams/questions/"
EXAMS = "/admin/exams/exams/"


def _member(group_name):
    user = UserFactory()
    user.groups.add(Group.objects.get(name=group_name))
    return user


@pytest.fixture
def instructor_client(client):
    client.force_login(_member("Instructors"), backend=MODEL_BACKEND)
    return client


@pytest.mark.parametrize("group_name", ["Instructors", "Programme staff"])
@pytest.mark.parametrize("url", [BANKS, TOPICS, QUESTIONS, EXAMS])
def test_authors_see_the_exam_screens(client, group_name, url):
    client.force_login(_member(group_name), backend=MODEL_BACKEND)
    assert client.get(url).status_code == 200


def test_only_staff_may_delete_content():
    instructor, staff = _member("Instructors"), _member("Programme staff")
    assert instructor.has_perm("exams.change_question")
    assert not instructor.has_perm("exams.delete_question")
    assert staff.has_perm("exams.delete_exam")


@pytest.mark.parametrize("url", [BANKS, QUESTIONS, EXAMS])
def test_learners_are_kept_out(client, learner, url):
    client.force_login(learner, backend=MODEL_BACKEND)
    response = client.get(url)
    assert response.status_code in (302, 403)
    assert (
        "/admin/login/" in response.get("Location", "/admin/login/") or response.status_code == 403
    )


def _question_post(topic, *, kind="single", stem="Which call confirms a payment?", options, right):
    data = {
        "topic": topic.pk,
        "title": "",
        "kind": kind,
        "difficulty": "medium",
        "is_active": "on",
        "stem": stem,
        "explanation": "Because.",
    }
    for i, text in enumerate(options):
        data[f"choice_{i}_text"] = text
        if i in right:
            data[f"choice_{i}_correct"] = "on"
    return data


def test_create_question_through_the_service(instructor_client):
    topic = TopicFactory()
    response = instructor_client.post(
        QUESTIONS + "new/", _question_post(topic, options=["Confirm", "Capture", "Void"], right={0})
    )
    assert response.status_code == 302, response.content.decode()[-3000:]
    question = Question.objects.get(topic=topic)
    assert question.current_version.number == 1
    assert [c.is_correct for c in question.current_version.choices.all()] == [True, False, False]


@pytest.mark.parametrize(
    ("kind", "right", "message"),
    [
        ("single", {0, 1}, "exactly one right option"),
        ("single", set(), "exactly one right option"),
        ("multiple", set(), "at least one right option"),
    ],
)
def test_question_form_refuses_wrong_keys(instructor_client, kind, right, message):
    topic = TopicFactory()
    response = instructor_client.post(
        QUESTIONS + "new/", _question_post(topic, kind=kind, options=["a", "b", "c"], right=right)
    )
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not Question.objects.filter(topic=topic).exists()


def test_question_needs_two_options(instructor_client):
    topic = TopicFactory()
    response = instructor_client.post(
        QUESTIONS + "new/", _question_post(topic, options=["only"], right={0})
    )
    assert response.status_code == 200
    assert not Question.objects.filter(topic=topic).exists()


def test_editing_a_used_question_makes_a_new_version(instructor_client, exam, learner):
    attempt, _ = services.attempt_start(person=learner, exam=exam)
    item = AttemptItem.objects.filter(attempt=attempt).first()
    question = item.question_version.question
    options = [c.text for c in item.question_version.choices.all()]
    right = {i for i, c in enumerate(item.question_version.choices.all()) if c.is_correct}
    data = _question_post(
        question.topic, kind=question.kind, stem="Reworded?", options=options, right=right
    )
    response = instructor_client.post(f"{QUESTIONS}edit/{question.pk}/", data)
    assert response.status_code == 302, response.content.decode()[-3000:]
    question.refresh_from_db()
    assert question.current_version.number == 2
    assert question.current_version.stem == "Reworded?"
    item.refresh_from_db()
    assert item.question_version.number == 1


def test_saving_an_unchanged_question_keeps_its_version(instructor_client):
    topic = TopicFactory()
    question = make_question(topic, options=3, right=(1,), explanation="E")
    version = question.current_version
    options = [c.text for c in version.choices.all()]
    data = _question_post(topic, stem=version.stem, options=options, right={1})
    data["explanation"] = "E"
    data["difficulty"] = "hard"
    assert instructor_client.post(f"{QUESTIONS}edit/{question.pk}/", data).status_code == 302
    question.refresh_from_db()
    assert question.current_version_id == version.pk
    assert question.difficulty == "hard"


def test_publish_refusal_is_shown_as_a_message(instructor_client):
    exam = ExamFactory()
    topic = TopicFactory()
    make_question(topic)
    services.blueprint_set(exam=exam, counts=[(topic, 3)])
    response = instructor_client.post(f"{EXAMS}publish/{exam.pk}/publish/", follow=True)
    assert "draws 3, 1 active" in response.content.decode()
    assert not Exam.objects.get(pk=exam.pk).is_published


def test_blueprint_screen_saves_and_publish_succeeds(instructor_client):
    exam = ExamFactory()
    topic = TopicFactory()
    for _ in range(3):
        make_question(topic)
    assert instructor_client.get(f"{EXAMS}blueprint/{exam.pk}/").status_code == 200
    data = {
        "form-TOTAL_FORMS": "2",
        "form-INITIAL_FORMS": "0",
        "form-0-topic": topic.pk,
        "form-0-count": "2",
        "form-1-topic": "",
        "form-1-count": "",
    }
    assert instructor_client.post(f"{EXAMS}blueprint/{exam.pk}/", data).status_code == 302
    assert [(r.topic_id, r.count) for r in exam.blueprint.all()] == [(topic.pk, 2)]
    instructor_client.post(f"{EXAMS}publish/{exam.pk}/publish/")
    assert Exam.objects.get(pk=exam.pk).is_published
    assert instructor_client.get(f"{EXAMS}edit/{exam.pk}/").status_code == 200


def test_blueprint_screen_refuses_bad_rows(instructor_client):
    exam = ExamFactory()
    topic = TopicFactory()
    data = {
        "form-TOTAL_FORMS": "2",
        "form-INITIAL_FORMS": "0",
        "form-0-topic": topic.pk,
        "form-0-count": "0",
        "form-1-topic": topic.pk,
        "form-1-count": "",
    }
    assert instructor_client.post(f"{EXAMS}blueprint/{exam.pk}/", data).status_code == 422
    assert not exam.blueprint.exists()


GIFT = b"""$CATEGORY: Webhooks

Which header carries the signature? {=Signature ~Host ~Accept}
"""


def test_import_screen_imports_a_gift_file(instructor_client):
    bank = QuestionBankFactory()
    assert instructor_client.get(f"{BANKS}import/{bank.pk}/").status_code == 200
    upload = SimpleUploadedFile("bank.gift", GIFT, content_type="text/plain")
    response = instructor_client.post(
        f"{BANKS}import/{bank.pk}/", {"file": upload, "format": "auto"}
    )
    assert response.status_code == 302
    assert Question.objects.filter(topic__bank=bank).count() == 1


def test_import_screen_puts_a_file_without_category_in_the_chosen_topic(instructor_client):
    bank = QuestionBankFactory()
    text = b"Is a webhook body signed? {T#It is signed.}\n"
    upload = SimpleUploadedFile("moodle.gift", text, content_type="text/plain")
    response = instructor_client.post(
        f"{BANKS}import/{bank.pk}/", {"file": upload, "format": "gift", "topic": "Signing"}
    )
    assert response.status_code == 302
    question = Question.objects.get(topic__bank=bank)
    assert question.topic.name == "Signing"
    choices = list(question.current_version.choices.order_by("position"))
    assert [(c.text, c.is_correct, c.feedback) for c in choices] == [
        ("True", True, ""),
        ("False", False, "It is signed."),
    ]


def test_import_screen_without_a_topic_names_the_lines(instructor_client):
    bank = QuestionBankFactory()
    upload = SimpleUploadedFile("moodle.gift", b"Q? {T}\n", content_type="text/plain")
    response = instructor_client.post(
        f"{BANKS}import/{bank.pk}/", {"file": upload, "format": "gift"}
    )
    assert response.status_code == 422
    assert "choose a topic" in response.content.decode()
    assert not Question.objects.filter(topic__bank=bank).exists()


def test_import_screen_lists_bad_lines_and_imports_nothing(instructor_client):
    bank = QuestionBankFactory()
    upload = SimpleUploadedFile("bank.txt", GIFT + b"\nBroken {~a ~b}\n")
    response = instructor_client.post(
        f"{BANKS}import/{bank.pk}/", {"file": upload, "format": "gift"}
    )
    assert response.status_code == 422
    page = response.content.decode()
    assert "<td>5</td>" in page and "No right option" in page
    assert not Question.objects.filter(topic__bank=bank).exists()


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00", "binary file"),
        (b"a" * (services.MAX_IMPORT_BYTES + 10), "larger than"),
    ],
)
def test_import_screen_refuses_binary_and_huge_files(instructor_client, content, message):
    bank = QuestionBankFactory()
    upload = SimpleUploadedFile("bank.csv", content)
    response = instructor_client.post(
        f"{BANKS}import/{bank.pk}/", {"file": upload, "format": "auto"}
    )
    assert response.status_code == 422
    assert message in response.content.decode()


@pytest.mark.parametrize(("fmt", "needle"), [("gift", "$CATEGORY"), ("csv", "question_id")])
def test_export_downloads(instructor_client, fmt, needle):
    topic = TopicFactory()
    make_question(topic)
    response = instructor_client.get(f"{BANKS}export/{topic.bank.pk}/{fmt}/")
    assert response.status_code == 200
    assert "attachment" in response["Content-Disposition"]
    assert needle in response.content.decode()


def test_export_in_an_unknown_format_redirects_with_a_message(instructor_client):
    bank = QuestionBankFactory()
    response = instructor_client.get(f"{BANKS}export/{bank.pk}/xml/", follow=True)
    assert "must be gift, csv or moodlexml" in response.content.decode()


def test_bank_list_shows_import_and_export_actions(instructor_client):
    bank = QuestionBankFactory()
    page = instructor_client.get(BANKS).content.decode()
    assert f"{BANKS}import/{bank.pk}/" in page
    assert f"{BANKS}export/{bank.pk}/csv/" in page
