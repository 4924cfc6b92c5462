"""CSV import/export: one row per option, line numbers, all-or-nothing, revisions."""

import pytest

from exams import selectors, services
from exams.csv_io import COLUMNS, CsvQuestion, parse_csv, to_csv
from exams.models import AttemptItem, Choice, Question
from exams.services import ChoiceSpec
from lms.errors import DomainError
from tests.exams.factories import QuestionBankFactory, TopicFactory, make_question

HEADER = ",".join(COLUMNS)


def test_round_trip_with_commas_quotes_newlines_and_formula_cells():
    questions = [
        CsvQuestion(
            topic="Webhooks, retries",
            kind="single",
            stem='Which "status"\nmeans ok?',
            choices=(("=SUM(A1)", True), ("+1", False), ("'quoted'", False)),
            explanation="-because",
            question_id=7,
            version=2,
            feedback=("=it adds up", "", "@mention"),
        ),
        CsvQuestion(
            topic="Payouts",
            kind="multiple",
            stem="Pick two",
            choices=(("a", True), ("b", True), ("c", False)),
        ),
    ]
    text = to_csv(questions, bank_slug="bank")
    assert "=SUM" not in text.replace("'=SUM", "")  # never a live formula in the file
    parsed = parse_csv(text, bank_slug="bank")
    assert parsed.errors == ()
    assert [q.__class__(**{**q.__dict__, "line": 0}) for q in parsed.questions] == questions
    assert parsed.questions[1].line == 8  # each row of the first question spans two lines


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ("other,T,,,single,Q,a,true,", "bank 'other'"),
        ("bank,,,,single,Q,a,true,", "Topic is empty"),
        ("bank,T,,,essay,Q,a,true,", "kind must be single or multiple"),
        ("bank,T,,,single,,a,true,", "stem is empty"),
        ("bank,T,,,single,Q,,true,", "option is empty"),
        ("bank,T,,,single,Q,a,maybe,", "is_correct must be true or false"),
        ("bank,T,x1,,single,Q,a,true,", "question_id must be a whole number"),
        ("bank,T", "cells"),
    ],
)
def test_bad_rows_are_reported_with_their_line(row, message):
    text = f"{HEADER}\nbank,T,,,single,Good,a,true,\nbank,T,,,single,Good,b,false,\n{row}\n"
    parsed = parse_csv(text, bank_slug="bank")
    (error,) = parsed.errors
    assert error.line == 4
    assert message.lower() in error.message.lower()


def test_missing_columns_and_empty_files():
    assert (
        "missing: is_correct"
        in parse_csv("bank,topic,question_id,version,kind,stem,option,explanation\n", bank_slug="b")
        .errors[0]
        .message
    )
    assert parse_csv("", bank_slug="b").errors[0].message == "The file is empty."
    assert parse_csv(HEADER + "\n", bank_slug="b").errors[0].message == "The file has no questions."


def test_rows_of_one_question_must_agree():
    text = f"{HEADER}\nb,T,5,1,single,Q,a,true,\nb,T,5,1,multiple,Q,b,false,\n"
    (error,) = parse_csv(text, bank_slug="b").errors
    assert error.line == 3
    assert "Kind differ" in error.message


@pytest.mark.django_db
def test_bank_round_trip_through_csv():
    source = QuestionBankFactory()
    topic = TopicFactory(bank=source, name="Platforms")
    make_question(topic, explanation='x, y "z"')
    make_question(topic, kind="multiple", options=4, right=(1, 3))
    text, content_type, filename = selectors.bank_export(bank=source, format="csv")
    assert content_type.startswith("text/csv")
    target = QuestionBankFactory()
    report = services.bank_import_csv(bank=target, text=text.replace(source.slug, target.slug))
    assert report.ok, report.errors
    assert report.created == 2
    exported = [
        (q.topic, q.kind, q.stem, q.choices, q.explanation)
        for q in selectors.bank_questions_for_export(bank=target)
    ]
    assert exported == [
        (q.topic, q.kind, q.stem, q.choices, q.explanation)
        for q in selectors.bank_questions_for_export(bank=source)
    ]


@pytest.mark.django_db
def test_reimport_with_ids_revises_and_keeps_used_versions(exam, learner):
    from exams.services import attempt_start

    attempt, _ = attempt_start(person=learner, exam=exam)
    item = AttemptItem.objects.filter(attempt=attempt).select_related("question_version").first()
    question = item.question_version.question
    bank = question.topic.bank
    text, _, _ = selectors.bank_export(bank=bank, format="csv")
    old_stem = item.question_version.stem
    edited = text.replace(old_stem, old_stem + " (clarified)")
    report = services.bank_import_csv(bank=bank, text=edited)
    assert report.ok, report.errors
    assert (report.revised, report.created) == (1, 0)
    question.refresh_from_db()
    assert question.current_version.number == 2
    item.refresh_from_db()
    assert item.question_version.stem == old_stem  # the attempt keeps what it was given


@pytest.mark.django_db
def test_csv_with_a_bad_line_imports_nothing():
    bank = QuestionBankFactory()
    text = (
        f"{HEADER}\n"
        f"{bank.slug},T,,,single,Q1,a,true,\n{bank.slug},T,,,single,Q1,b,false,\n"
        f"{bank.slug},T,,,single,Q2,a,true,\n{bank.slug},T,,,single,Q2,b,true,\n"
    )
    report = services.bank_import_csv(bank=bank, text=text)
    assert [(e.line, "exactly one right option" in e.message) for e in report.errors] == [(4, True)]
    assert not Question.objects.filter(topic__bank=bank).exists()


@pytest.mark.django_db
def test_export_is_two_queries_at_any_size(django_assert_num_queries):
    bank = QuestionBankFactory()
    topic = TopicFactory(bank=bank)
    for size in (2, 12):
        while Question.objects.filter(topic=topic).count() < size:
            make_question(topic)
        with django_assert_num_queries(2):
            selectors.bank_export(bank=bank, format="csv")


def test_unknown_export_format_is_refused():
    with pytest.raises(DomainError) as caught:
        selectors.bank_export(bank=None, format="xml")
    assert caught.value.code == "invalid_format"


def test_a_file_without_the_feedback_column_still_reads():
    parsed = parse_csv(
        f"{HEADER}\nb,T,,,single,Q,a,true,\nb,T,,,single,Q,b,false,\n", bank_slug="b"
    )
    assert parsed.errors == () and not parsed.has_feedback
    assert parsed.questions[0].feedback == ()


def _bank_with_feedback():
    bank = QuestionBankFactory()
    topic = TopicFactory(bank=bank, name="Webhooks")
    question = services.question_create(
        topic=topic,
        kind="single",
        stem="Which status acknowledges a webhook?",
        choices=[
            ChoiceSpec("2xx", True, "Any 2xx counts."),
            ChoiceSpec("302", False, "Redirects are not followed."),
        ],
        explanation="",
    )
    return bank, question


def _feedback(question):
    question.refresh_from_db()
    return list(
        Choice.objects.filter(version=question.current_version).values_list("feedback", flat=True)
    )


@pytest.mark.django_db
def test_option_feedback_survives_export_and_reimport_through_csv():
    source, _ = _bank_with_feedback()
    text, _, _ = selectors.bank_export(bank=source, format="csv")
    assert "Redirects are not followed." in text
    target = QuestionBankFactory()
    report = services.bank_import_csv(bank=target, text=text.replace(source.slug, target.slug))
    assert report.created == 1, report.errors
    (copied,) = Question.objects.filter(topic__bank=target)
    assert _feedback(copied) == ["Any 2xx counts.", "Redirects are not followed."]
    # Importing the export into its own bank again changes nothing.
    again = services.bank_import_csv(bank=source, text=text)
    assert (again.unchanged, again.revised, again.created) == (1, 0, 0)


@pytest.mark.django_db
def test_editing_only_the_feedback_in_the_csv_revises_the_question():
    bank, question = _bank_with_feedback()
    text, _, _ = selectors.bank_export(bank=bank, format="csv")
    report = services.bank_import_csv(
        bank=bank, text=text.replace("Any 2xx counts.", "Any 2xx status counts.")
    )
    assert report.revised == 1, report.errors
    assert _feedback(question) == ["Any 2xx status counts.", "Redirects are not followed."]


@pytest.mark.django_db
def test_a_csv_without_the_feedback_column_keeps_the_bank_feedback():
    bank, question = _bank_with_feedback()
    text, _, _ = selectors.bank_export(bank=bank, format="csv")
    # A spreadsheet kept only the required columns, and the stem was edited.
    rows = [line.rsplit(",", 1)[0] for line in text.strip().split("\r\n")]
    edited = "\n".join(rows).replace("acknowledges", "confirms")
    report = services.bank_import_csv(bank=bank, text=edited)
    assert report.revised == 1, report.errors
    question.refresh_from_db()
    assert question.current_version.stem == "Which status confirms a webhook?"
    assert _feedback(question) == ["Any 2xx counts.", "Redirects are not followed."]
    # Unedited, the same file is unchanged, not a revision wiping the feedback.
    again = services.bank_import_csv(bank=bank, text=edited)
    assert (again.unchanged, again.revised) == (1, 0)
