"""The GIFT conformance corpus (tests/testdata/gift): every feature we accept,
with its expected outcome, and the question types we refuse by line."""

import json
from pathlib import Path

import pytest

from exams.gift import GiftQuestion, parse_gift, to_gift

DATA = Path(__file__).resolve().parents[1] / "testdata" / "gift"
CORPUS = (DATA / "conformance.gift").read_text(encoding="utf-8")
EXPECTED = json.loads((DATA / "conformance.json").read_text(encoding="utf-8"))


def _as_dict(question: GiftQuestion) -> dict:
    return {
        "topic": question.topic,
        "title": question.title,
        "kind": question.kind,
        "stem": question.stem,
        "choices": [[text, right] for text, right in question.choices],
        "feedback": list(question.feedback),
        "explanation": question.explanation,
    }


def test_the_corpus_parses_without_errors_into_the_expected_questions():
    result = parse_gift(CORPUS, default_topic=EXPECTED["default_topic"])
    assert result.errors == ()
    assert [_as_dict(q) for q in result.questions] == EXPECTED["questions"]


@pytest.mark.parametrize("index", range(len(EXPECTED["questions"])))
def test_each_question_round_trips(index):
    question = parse_gift(CORPUS, default_topic=EXPECTED["default_topic"]).questions[index]
    again = parse_gift(to_gift([question])).questions
    assert len(again) == 1 and again[0].same_content(question)


def test_without_a_default_topic_the_leading_questions_are_errors_with_lines():
    result = parse_gift(CORPUS)
    assert [error.line for error in result.errors] == [6, 13]
    assert all("choose a topic" in error.message for error in result.errors)


@pytest.mark.parametrize("case", EXPECTED["refused"], ids=lambda case: case["message"])
def test_refused_types_are_reported_by_line_and_nothing_is_taken(case):
    text = CORPUS + "\n\n" + case["text"] + "\n"
    result = parse_gift(text, default_topic="T")
    (error,) = result.errors
    assert case["message"] in error.message
    assert error.line == text.count("\n") - 0  # the refused question's own line


@pytest.mark.django_db
def test_the_corpus_imports_into_a_chosen_topic_and_exports_the_same(instructor_bank):
    from exams import selectors, services
    from exams.models import Choice

    bank = instructor_bank
    report = services.bank_import_gift(
        bank=bank, text=CORPUS, default_topic=EXPECTED["default_topic"]
    )
    assert report.ok and report.created == len(EXPECTED["questions"])
    assert set(report.topics_created) == {"Fundamentals", "Webhooks"}
    assert Choice.objects.filter(feedback="Never follow them.").exists()
    exported, _, _ = selectors.bank_export(bank=bank, format="gift")
    again = parse_gift(exported)
    assert again.errors == ()
    assert [_as_dict(q) for q in again.questions] == EXPECTED["questions"]
    # Importing the export changes nothing.
    assert services.bank_import_gift(bank=bank, text=exported).unchanged == len(
        EXPECTED["questions"]
    )


@pytest.mark.django_db
def test_a_refused_question_imports_nothing(instructor_bank):
    from exams import services
    from exams.models import Question

    text = CORPUS + "\n\nHow many days in a week? {#7}\n"
    report = services.bank_import_gift(bank=instructor_bank, text=text, default_topic="T")
    assert not report.ok and "Numerical" in report.errors[0].message
    assert Question.objects.count() == 0


@pytest.fixture
def instructor_bank(db):
    from exams.models import QuestionBank

    return QuestionBank.objects.create(slug="conformance", title="Conformance")
