"""Moodle XML (the question format Moodle 4.x exports): a pure reader and writer.

Contract:
- No Django import, no database. `parse_moodle_xml(data, default_topic=)`
  returns a `gift.GiftParse`: the questions it understood and the errors it
  found, each with the 1-based line of its `<question>` element.
- Read: `multichoice` (single when `<single>true</single>`, else multiple:
  an answer with a positive `fraction` is right and the positive fractions
  add up to 100), `truefalse` (the options True and False), `category`
  questions (`$course$/top/a/b/c` sets the topic of the questions after it,
  like GIFT's `$CATEGORY`), per-answer `<feedback>`, `<generalfeedback>` (the
  explanation) and `<name>` (the title). Question text is kept as written, in
  whatever `format` it declares. Other types (shortanswer, numerical,
  matching, essay, cloze, description...) are errors with their line.
- Parsed with defusedxml: a document type declaration, an entity or an
  external reference is refused (`MoodleXMLRefused`), never resolved.
- `to_moodle_xml(questions)` writes the same subset in the layout Moodle
  exports (a category question whenever the topic changes); reading it back
  gives the same questions, and writing those again gives the same bytes.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from xml.etree.ElementTree import Element  # noqa: S405 - types only; parsing is defused
from xml.sax.saxutils import escape

import defusedxml.ElementTree as SafeET
from defusedxml import DefusedXmlException

from .gift import (
    FALSE_TEXT,
    MULTIPLE,
    SINGLE,
    TRUE_TEXT,
    GiftError,
    GiftParse,
    GiftQuestion,
    topic_from_category,
)

SUPPORTED = ("multichoice", "truefalse")
_QUESTION_TAG = re.compile(rb"<question\b")


class MoodleXMLRefused(ValueError):
    """The document cannot be read at all (not XML, or XML we never resolve)."""


def _text(element: Element | None, path: str = "text") -> str:
    if element is None:
        return ""
    found = element.find(path)
    return (found.text or "").strip() if found is not None else ""


def _question_lines(data: bytes) -> list[int]:
    """The line of each `<question` tag, in document order (comments hold none)."""
    return [data.count(b"\n", 0, match.start()) + 1 for match in _QUESTION_TAG.finditer(data)]


def _fraction(answer: Element) -> float:
    raw = answer.get("fraction", "0")
    try:
        return float(raw)
    except ValueError:
        raise _Problem(f"The answer fraction {raw!r} is not a number.") from None


class _Problem(Exception):
    pass


def _multichoice(question: Element) -> tuple[str, tuple[tuple[str, bool], ...], tuple[str, ...]]:
    single = _text(question, "single").lower() not in ("false", "0")
    answers = question.findall("answer")
    if not answers:
        raise _Problem("A multichoice question without answers.")
    choices, notes, positive = [], [], 0.0
    for answer in answers:
        fraction = _fraction(answer)
        text = _text(answer)
        if not text:
            raise _Problem("An answer has no text.")
        choices.append((text, fraction > 0))
        notes.append(_text(answer.find("feedback")))
        positive += max(fraction, 0)
    if not any(right for _, right in choices):
        raise _Problem("No answer has a positive fraction.")
    if single:
        if sum(1 for _, right in choices if right) != 1:
            raise _Problem("A single-answer question needs exactly one answer with fraction 100.")
        return SINGLE, tuple(choices), tuple(notes)
    if abs(positive - 100) > 1:
        raise _Problem(f"The positive fractions add up to {positive:g}, they must add up to 100.")
    return MULTIPLE, tuple(choices), tuple(notes)


def _truefalse(question: Element) -> tuple[str, tuple[tuple[str, bool], ...], tuple[str, ...]]:
    by_value: dict[bool, tuple[bool, str]] = {}
    for answer in question.findall("answer"):
        value = _text(answer).lower()
        if value not in ("true", "false"):
            raise _Problem(f"A true/false answer must be true or false, not {value!r}.")
        by_value[value == "true"] = (_fraction(answer) > 0, _text(answer.find("feedback")))
    if set(by_value) != {True, False} or by_value[True][0] == by_value[False][0]:
        raise _Problem("A true/false question needs a true and a false answer, one of them right.")
    choices = ((TRUE_TEXT, by_value[True][0]), (FALSE_TEXT, by_value[False][0]))
    return SINGLE, choices, (by_value[True][1], by_value[False][1])


def parse_moodle_xml(data: bytes, *, default_topic: str = "") -> GiftParse:
    """Every supported question of a Moodle XML export, and every error by line."""
    try:
        root = SafeET.fromstring(data, forbid_dtd=True)
    except DefusedXmlException as error:
        raise MoodleXMLRefused(
            "The file declares a document type or entities; they are refused, never read."
        ) from error
    except SafeET.ParseError as error:
        line = getattr(error, "position", (1, 0))[0]
        raise MoodleXMLRefused(f"Not well-formed XML (line {line}).") from error
    if root.tag != "quiz":
        raise MoodleXMLRefused("Not a Moodle XML question file: the root element must be <quiz>.")
    lines = _question_lines(data)
    questions: list[GiftQuestion] = []
    errors: list[GiftError] = []
    topic = default_topic.strip()
    for index, question in enumerate(root.findall("question")):
        line = lines[index] if index < len(lines) else 1
        kind = question.get("type", "")
        if kind == "category":
            topic = topic_from_category(_text(question.find("category")))
            if not topic:
                errors.append(GiftError(line, "The category names no topic."))
            continue
        if kind not in SUPPORTED:
            errors.append(
                GiftError(
                    line,
                    f"{kind or 'Untyped'} questions are not supported (only "
                    "multichoice and truefalse).",
                )
            )
            continue
        try:
            stem = _text(question.find("questiontext"))
            if not stem:
                raise _Problem("The question has no text.")
            if not topic:
                raise _Problem("No topic: add a category question, or choose a topic for the file.")
            answer_kind, choices, notes = (
                _truefalse(question) if kind == "truefalse" else _multichoice(question)
            )
        except _Problem as problem:
            errors.append(GiftError(line, str(problem)))
            continue
        questions.append(
            GiftQuestion(
                topic=topic,
                title=_text(question.find("name")),
                kind=answer_kind,
                stem=stem,
                choices=choices,
                explanation=_text(question.find("generalfeedback")),
                line=line,
                feedback=notes if any(notes) else (),
            )
        )
    return GiftParse(questions=tuple(questions), errors=tuple(errors))


# --- writing --------------------------------------------------------------------------


def _fraction_text(value: float) -> str:
    return f"{value:.7f}".rstrip("0").rstrip(".")


def _text_element(tag: str, text: str, indent: str, fmt: str | None = "html") -> list[str]:
    attribute = f' format="{fmt}"' if fmt else ""
    return [
        f"{indent}<{tag}{attribute}>",
        f"{indent}  <text>{escape(text)}</text>",
        f"{indent}</{tag}>",
    ]


def _answer(fraction: float, text: str, feedback: str) -> list[str]:
    return [
        f'    <answer fraction="{_fraction_text(fraction)}" format="html">',
        f"      <text>{escape(text)}</text>",
        *_text_element("feedback", feedback, "      "),
        "    </answer>",
    ]


def _question(question: GiftQuestion) -> list[str]:
    notes = question.option_feedback()
    texts = tuple(text for text, _ in question.choices)
    true_false = question.kind == SINGLE and texts == (TRUE_TEXT, FALSE_TEXT)
    kind = "truefalse" if true_false else "multichoice"
    lines = [
        f'  <question type="{kind}">',
        *_text_element("name", question.title, "    ", fmt=None),
        *_text_element("questiontext", question.stem, "    "),
        *_text_element("generalfeedback", question.explanation, "    "),
        "    <defaultgrade>1</defaultgrade>",
    ]
    if true_false:
        for (text, right), note in zip(question.choices, notes, strict=True):
            lines += _answer(100 if right else 0, text.lower(), note)
    else:
        right_count = sum(1 for _, right in question.choices if right)
        single = question.kind == SINGLE
        lines += [
            f"    <single>{'true' if single else 'false'}</single>",
            "    <shuffleanswers>true</shuffleanswers>",
            "    <answernumbering>abc</answernumbering>",
        ]
        for (text, right), note in zip(question.choices, notes, strict=True):
            if single:
                fraction = 100.0 if right else 0.0
            else:
                fraction = 100 / right_count if right else -100.0
            lines += _answer(fraction, text, note)
    lines.append("  </question>")
    return lines


def to_moodle_xml(questions: Iterable[GiftQuestion], *, comment: str = "") -> str:
    """The questions as a Moodle XML document, a category whenever the topic changes."""
    lines = ['<?xml version="1.0" encoding="UTF-8"?>', "<quiz>"]
    if comment:
        lines.append(f"  <!-- {escape(comment).replace('--', '- -')} -->")
    topic = None
    for question in questions:
        if question.topic != topic:
            topic = question.topic
            lines += [
                '  <question type="category">',
                "    <category>",
                f"      <text>$course$/top/{escape(topic.replace('/', '//'))}</text>",
                "    </category>",
                "  </question>",
            ]
        lines += _question(question)
    lines.append("</quiz>")
    return "\n".join(lines) + "\n"
