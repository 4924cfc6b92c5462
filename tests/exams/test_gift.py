"""GIFT: pure parser/serializer round trips, escapes, weights, and the all-or-nothing import."""

import pytest

from exams import selectors, services
from exams.gift import GiftQuestion, parse_gift, to_gift
from exams.models import Question, Topic
from lms.errors import DomainError
from tests.exams.factories import QuestionBankFactory, TopicFactory, make_question

SAMPLE = r"""// Exported by hand
$CATEGORY: $course$/top/Webhooks

::Retries:: How long does the platform retry a failed webhook delivery? {
    =Up to 3 days with exponential back-off #right
    ~Once
    ~Forever
    ####Deliveries are retried with back-off for up to three days.
}

::Idempotency:: Which two make a webhook handler safe to retry? {
    ~%50%Store the event id and skip events already processed
    ~%50%Return 2xx only after the work is committed
    ~%-100%Process the event twice to be sure
}
"""


def test_parse_single_and_multiple_answer_with_weights():
    result = parse_gift(SAMPLE)
    assert result.errors == ()
    single, multiple = result.questions
    assert single.topic == "Webhooks"
    assert single.title == "Retries"
    assert single.kind == "single"
    assert single.choices[0] == ("Up to 3 days with exponential back-off", True)
    assert [right for _, right in single.choices] == [True, False, False]
    assert single.explanation == "Deliveries are retried with back-off for up to three days."
    assert single.line == 4
    assert multiple.kind == "multiple"
    assert [right for _, right in multiple.choices] == [True, True, False]
    assert multiple.line == 11


@pytest.mark.parametrize("char", [":", "=", "~", "{", "}", "#", "\\"])
def test_escapes_round_trip(char):
    question = GiftQuestion(
        topic=f"Topic {char} x",
        title=f"Title {char}",
        kind="single",
        stem=f"Stem with {char} inside {char}{char}?",
        choices=((f"Right {char}", True), (f"Wrong{char}", False)),
        explanation=f"Because {char}.",
    )
    text = to_gift([question])
    parsed = parse_gift(text)
    assert parsed.errors == ()
    assert parsed.questions[0].same_content(question)


def test_escaped_specials_are_literal_text():
    text = r"""$CATEGORY: T
Is \{x\} \= 1 \~ 2 \# 3 \: 4? {=yes ~no}"""
    (question,) = parse_gift(text).questions
    assert question.stem == "Is {x} = 1 ~ 2 # 3 : 4?"


def test_multiline_text_and_newline_escape_round_trip():
    question = GiftQuestion(
        topic="T",
        title="",
        kind="multiple",
        stem="Line one\nLine two",
        choices=(("a", True), ("b", True), ("c", True), ("d", False)),
        explanation="",
    )
    text = to_gift([question])
    assert "~%33.33333%a" in text
    assert parse_gift(text).questions[0].same_content(question)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("Q? {=a =b}", "Several = options"),
        ("Q? {~a ~b}", "No right option"),
        ("Q? {~%50%a ~%-100%b}", "add up to 50"),
        ("Q? {=a ~%50%b ~%50%c}", "Mix of"),
        ("Q? {}", "Essay"),
        ("Q? {=a -> b}", "Matching"),
        ("Q? {#3:1}", "Numerical"),
        ("Q? {=a ~b", "not closed"),
        ("Q? no answers", "No answer block"),
        ("::T Q? {=a ~b}", "title is not closed"),
        ("Q {=a ~b} and {=c ~d}", "one answer block"),
        ("Q? {=a =b =c}", "Several = options"),
        ("{=a ~b}", "no text"),
    ],
)
def test_unsupported_or_broken_questions_are_errors(body, message):
    result = parse_gift(f"$CATEGORY: T\n\n{body}\n")
    assert result.questions == ()
    (error,) = result.errors
    assert error.line == 3
    assert message in error.message


def test_question_without_category_is_an_error():
    result = parse_gift("Q? {=a ~b}")
    assert result.errors[0].line == 1
    assert "$CATEGORY" in result.errors[0].message


def test_error_line_points_inside_a_multiline_question():
    text = "$CATEGORY: T\n\nQuestion?\n{\n  =a\n  ~\n  ~c\n}\n"
    (error,) = parse_gift(text).errors
    assert error.line == 6
    assert "no text" in error.message


# --- service ------------------------------------------------------------------------


@pytest.mark.django_db
def test_import_creates_topics_and_questions():
    bank = QuestionBankFactory()
    report = services.bank_import_gift(bank=bank, text=SAMPLE)
    assert report.ok, report.errors
    assert report.created == 2
    assert report.topics_created == ("Webhooks",)
    question = Question.objects.get(title="Idempotency")
    assert question.kind == "multiple"
    assert question.current_version.choices.filter(is_correct=True).count() == 2


@pytest.mark.django_db
def test_import_twice_does_not_duplicate():
    bank = QuestionBankFactory()
    services.bank_import_gift(bank=bank, text=SAMPLE)
    report = services.bank_import_gift(bank=bank, text=SAMPLE)
    assert (report.created, report.unchanged) == (0, 2)
    assert Question.objects.filter(topic__bank=bank).count() == 2


@pytest.mark.django_db
def test_file_with_errors_imports_nothing_and_reports_every_line():
    bank = QuestionBankFactory()
    text = SAMPLE + "\n\nBroken {~a ~b}\n\nOnly one option? {=a}\n"
    report = services.bank_import_gift(bank=bank, text=text)
    assert not report.ok
    assert [e.line for e in report.errors] == [18, 20]
    assert "No right option" in report.errors[0].message
    assert "2 to 8 options" in report.errors[1].message
    assert Question.objects.filter(topic__bank=bank).count() == 0
    assert Topic.objects.filter(bank=bank).count() == 0
    assert report.summary.startswith("Nothing was imported")


@pytest.mark.django_db
def test_bank_round_trip_through_gift():
    source = QuestionBankFactory()
    topic = TopicFactory(bank=source, name="Payment flows: intents {and} #confirmations")
    make_question(topic, stem="Which = call ~ confirms?", explanation="Because: reasons")
    make_question(topic, kind="multiple", options=5, right=(0, 2, 4), explanation="")
    text, content_type, filename = selectors.bank_export(bank=source, format="gift")
    assert filename == f"{source.slug}.txt"
    target = QuestionBankFactory()
    report = services.bank_import_gift(bank=target, text=text)
    assert report.ok, report.errors
    again, _, _ = selectors.bank_export(bank=target, format="gift")
    assert again.replace(target.slug, "X").replace(target.title, "Y") == text.replace(
        source.slug, "X"
    ).replace(source.title, "Y")


@pytest.mark.parametrize(
    ("data", "code"),
    [
        (b"\x00\x01\x02binary", "invalid_import_file"),
        (b"\xff\xfe not utf8 \xc3\x28", "invalid_import_file"),
        (b"   ", "invalid_import_file"),
        (b"x" * (services.MAX_IMPORT_BYTES + 1), "import_too_large"),
    ],
)
def test_bad_files_are_refused_with_a_clear_message(data, code):
    with pytest.raises(DomainError) as caught:
        services.import_text_from_bytes(data)
    assert caught.value.code == code
    assert caught.value.status in (413, 422)
