# ruff: noqa: E501 - literal XML documents read best on one line
"""Moodle XML: a file shaped like a Moodle 4.x export (tests/testdata/moodle),
the round trip, refused types by line, and XML we never resolve."""

from pathlib import Path

import pytest

from exams.gift import MULTIPLE, SINGLE
from exams.moodle_xml import MoodleXMLRefused, parse_moodle_xml, to_moodle_xml

EXPORT = Path(__file__).resolve().parents[1] / "testdata" / "moodle" / "moodle4-export.xml"
DATA = EXPORT.read_bytes()


def test_a_moodle_export_reads_into_questions_with_topics_feedback_and_weights():
    result = parse_moodle_xml(DATA)
    assert result.errors == ()
    retry, robust, ordering, refund = result.questions
    assert (retry.topic, retry.title, retry.kind) == ("Webhooks", "Retry header", SINGLE)
    assert retry.stem == "<p>Which header makes a retried POST safe?</p>"
    assert retry.choices == (("Idempotency-Key", True), ("If-Match", False), ("Accept", False))
    assert retry.feedback == ("The server replays the first answer.", "", "")
    assert retry.explanation == "<p>Send the same key with every retry.</p>"
    assert robust.kind == MULTIPLE
    assert [right for _, right in robust.choices] == [True, True, False]
    assert ordering.choices == (("True", False), ("False", True))
    assert ordering.feedback == ("They can arrive out of order.", "")
    assert refund.topic == "Refunds"
    assert [q.line for q in result.questions] == [15, 64, 102, 138]


def test_export_import_export_gives_the_same_file():
    first = to_moodle_xml(parse_moodle_xml(DATA).questions)
    again = parse_moodle_xml(first.encode())
    assert again.errors == ()
    second = to_moodle_xml(again.questions)
    assert first == second
    assert [
        q.same_content(o)
        for q, o in zip(again.questions, parse_moodle_xml(DATA).questions, strict=True)
    ] == [True] * 4


@pytest.mark.parametrize("kind", ["shortanswer", "numerical", "matching", "essay", "cloze"])
def test_other_types_are_errors_with_their_line(kind):
    data = DATA.replace(b'<question type="truefalse">', f'<question type="{kind}">'.encode())
    result = parse_moodle_xml(data)
    (error,) = result.errors
    assert error.line == 102 and "not supported" in error.message
    assert len(result.questions) == 3


def test_without_a_category_the_default_topic_is_used():
    data = b'<?xml version="1.0"?><quiz><question type="truefalse"><questiontext><text>Q?</text></questiontext><answer fraction="100"><text>true</text></answer><answer fraction="0"><text>false</text></answer></question></quiz>'
    assert parse_moodle_xml(data).errors[0].message.startswith("No topic")
    (question,) = parse_moodle_xml(data, default_topic="Basics").questions
    assert question.topic == "Basics"


@pytest.mark.parametrize(
    "data",
    [
        b'<?xml version="1.0"?><!DOCTYPE quiz [<!ENTITY x SYSTEM "file:///etc/passwd">]><quiz>&x;</quiz>',
        b'<?xml version="1.0"?><!DOCTYPE quiz [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;">]><quiz>&b;</quiz>',
        b'<?xml version="1.0"?><!DOCTYPE quiz SYSTEM "http://example.com/quiz.dtd"><quiz/>',
    ],
    ids=["external-entity", "entity-expansion", "external-dtd"],
)
def test_xml_with_entities_or_a_dtd_is_refused_never_resolved(data):
    with pytest.raises(MoodleXMLRefused, match="refused"):
        parse_moodle_xml(data)


@pytest.mark.parametrize(
    ("data", "message"),
    [(b"<quiz><question>", "Not well-formed"), (b"<html></html>", "root element")],
)
def test_not_a_moodle_file(data, message):
    with pytest.raises(MoodleXMLRefused, match=message):
        parse_moodle_xml(data)


@pytest.mark.parametrize(
    ("answers", "message"),
    [
        (
            '<answer fraction="0"><text>a</text></answer><answer fraction="0"><text>b</text></answer>',
            "positive fraction",
        ),
        ('<answer fraction="x"><text>a</text></answer>', "not a number"),
        ('<answer fraction="100"><text></text></answer>', "no text"),
    ],
)
def test_broken_answers_are_errors(answers, message):
    data = f'<quiz><question type="category"><category><text>T</text></category></question><question type="multichoice"><questiontext><text>Q?</text></questiontext><single>true</single>{answers}</question></quiz>'.encode()
    (error,) = parse_moodle_xml(data).errors
    assert message in error.message
