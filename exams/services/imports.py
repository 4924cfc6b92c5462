"""Question bank imports (GIFT and CSV): all or nothing, with a report of every bad line.

Part of exams.services; its contract is in that package's docstring.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

from django.core.files.uploadedfile import UploadedFile
from django.db import transaction

from lms.errors import DomainError

from .. import csv_io, gift, moodle_xml, selectors
from ..models import (
    Question,
    QuestionBank,
    Topic,
)
from .authoring import (
    ChoiceSpec,
    InvalidQuestion,
    check_choices,
    check_stem,
    question_create,
    question_revise,
)

# --- import ------------------------------------------------------------------------

MAX_IMPORT_BYTES = 2 * 1024 * 1024
MAX_IMPORT_QUESTIONS = 5000


class ImportRefused(DomainError):
    status = 422
    code = "invalid_import_file"


class ImportTooLarge(DomainError):
    status = 413
    code = "import_too_large"


def import_text_from_bytes(data: bytes, *, max_bytes: int = MAX_IMPORT_BYTES) -> str:
    """The uploaded file as text, or a clear refusal (too large, binary, not UTF-8)."""
    if len(data) > max_bytes:
        raise ImportTooLarge(
            f"The file is larger than {max_bytes // 1024} KiB; split the bank into smaller files."
        )
    if not data.strip():
        raise ImportRefused("The file is empty.")
    if b"\x00" in data:
        raise ImportRefused("This is a binary file, not a GIFT or CSV text file.")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise ImportRefused(
            f"The file is not UTF-8 text (byte {error.start + 1} cannot be read); "
            "save it as UTF-8 and try again."
        ) from None
    return text


def import_text_from_upload(
    upload: UploadedFile[bytes] | None, *, max_bytes: int = MAX_IMPORT_BYTES
) -> str:
    """Read at most `max_bytes` + 1 bytes of an uploaded file (never the whole of a huge one)."""
    if upload is None:
        raise ImportRefused("Choose a file to import.")
    size = getattr(upload, "size", None)
    if size is not None and size > max_bytes:
        raise ImportTooLarge(
            f"The file is larger than {max_bytes // 1024} KiB; split the bank into smaller files."
        )
    return import_text_from_bytes(upload.read(max_bytes + 1), max_bytes=max_bytes)


@dataclass(frozen=True)
class ImportLineError:
    line: int
    message: str


@dataclass(frozen=True)
class ImportReport:
    format: str
    created: int = 0
    revised: int = 0
    unchanged: int = 0
    topics_created: tuple[str, ...] = ()
    errors: tuple[ImportLineError, ...] = ()

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def summary(self) -> str:
        if self.errors:
            return f"Nothing was imported: {len(self.errors)} line(s) have errors."
        return (
            f"{self.created} question(s) created, {self.revised} revised, "
            f"{self.unchanged} unchanged; {len(self.topics_created)} new topic(s)."
        )


@dataclass(frozen=True)
class _Incoming:
    line: int
    topic: str
    kind: str
    stem: str
    choices: tuple[tuple[str, bool], ...]
    explanation: str
    title: str = ""
    question_id: int | None = None
    # Per-option feedback in the order of `choices` (empty: none given).
    feedback: tuple[str, ...] = ()
    # False when the file cannot carry feedback (a CSV without the column):
    # the bank's feedback for the same option texts is kept.
    feedback_given: bool = True

    def with_feedback_of(self, known: selectors.BankQuestion | None) -> _Incoming:
        if self.feedback_given or known is None:
            return self
        notes = dict(zip((text for text, _ in known.choices), known.option_feedback(), strict=True))
        kept = tuple(notes.get(text, "") for text, _ in self.choices)
        return replace(self, feedback=kept if any(kept) else (), feedback_given=True)

    def option_feedback(self) -> tuple[str, ...]:
        return self.feedback or ("",) * len(self.choices)

    def choice_specs(self) -> list[ChoiceSpec]:
        notes = self.option_feedback()
        return [
            ChoiceSpec(text, right, note)
            for (text, right), note in zip(self.choices, notes, strict=True)
        ]


def _validate_incoming(items: Sequence[_Incoming]) -> list[ImportLineError]:
    errors = []
    if len(items) > MAX_IMPORT_QUESTIONS:
        errors.append(
            ImportLineError(1, f"More than {MAX_IMPORT_QUESTIONS} questions in one file.")
        )
    for item in items:
        try:
            if len(item.topic) > 200:
                raise InvalidQuestion("The topic name is longer than 200 characters.")
            if len(item.title) > 200:
                raise InvalidQuestion("The title is longer than 200 characters.")
            check_stem(item.stem)
            check_choices(
                kind=item.kind, choices=[ChoiceSpec(text, right) for text, right in item.choices]
            )
        except InvalidQuestion as error:
            errors.append(ImportLineError(item.line, error.message))
    return errors


def _bank_import(
    *,
    bank: QuestionBank,
    fmt: str,
    items: Sequence[_Incoming],
    errors: Sequence[gift.GiftError | csv_io.CsvError],
) -> ImportReport:
    """All or nothing: any error (format or rules) and nothing is written."""
    line_errors = [ImportLineError(e.line, e.message) for e in errors]
    line_errors += _validate_incoming(items)
    if line_errors:
        return ImportReport(format=fmt, errors=tuple(sorted(line_errors, key=lambda e: e.line)))
    existing = selectors.bank_questions_for_export(bank=bank)
    by_id = {q.question_id: q for q in existing}
    by_text = {(q.topic, q.stem): q for q in existing}
    topics = {topic.name: topic for topic in Topic.objects.filter(bank=bank)}
    next_position = max((t.position for t in topics.values()), default=-1) + 1
    created = revised = unchanged = 0
    new_topics = []
    for item in items:
        topic = topics.get(item.topic)
        if topic is None:
            topic = Topic.objects.create(bank=bank, name=item.topic, position=next_position)
            next_position += 1
            topics[item.topic] = topic
            new_topics.append(item.topic)
        known = by_id.get(item.question_id) if item.question_id else None
        if known is None:
            same_text = by_text.get((item.topic, item.stem))
            item = item.with_feedback_of(same_text)
            if same_text is not None and (
                same_text.kind,
                same_text.choices,
                same_text.explanation,
                same_text.option_feedback(),
            ) == (
                item.kind,
                item.choices,
                item.explanation,
                item.option_feedback(),
            ):
                unchanged += 1  # importing the same file twice does not duplicate it
                continue
            question_create(
                topic=topic,
                kind=item.kind,
                stem=item.stem,
                choices=item.choice_specs(),
                explanation=item.explanation,
                title=item.title,
            )
            created += 1
            continue
        item = item.with_feedback_of(known)
        same = (
            known.topic,
            known.kind,
            known.stem,
            known.choices,
            known.explanation,
            known.option_feedback(),
        ) == (
            item.topic,
            item.kind,
            item.stem,
            item.choices,
            item.explanation,
            item.option_feedback(),
        )
        if same:
            unchanged += 1
            continue
        question = Question.objects.get(pk=known.question_id)
        if question.topic_id != topic.pk:
            question.topic = topic
            question.save(update_fields=["topic"])
        question_revise(
            question=question,
            stem=item.stem,
            choices=item.choice_specs(),
            explanation=item.explanation,
            kind=item.kind,
        )
        revised += 1
    return ImportReport(
        format=fmt,
        created=created,
        revised=revised,
        unchanged=unchanged,
        topics_created=tuple(new_topics),
    )


@transaction.atomic
def bank_import_gift(*, bank: QuestionBank, text: str, default_topic: str = "") -> ImportReport:
    """Import GIFT text into `bank` (topics from `$CATEGORY`; questions before any
    `$CATEGORY` go to `default_topic`); nothing if any line is bad.

    GIFT carries no question ids: every question is new, except one identical
    (topic, text, options, explanation) to a question already in the bank.
    """
    parsed = gift.parse_gift(text, default_topic=default_topic)
    return _bank_import_parsed(bank=bank, fmt="gift", parsed=parsed)


def _bank_import_parsed(*, bank: QuestionBank, fmt: str, parsed: gift.GiftParse) -> ImportReport:
    """Import what the GIFT or Moodle XML reader found (the same record)."""
    if not parsed.questions and not parsed.errors:
        return ImportReport(format=fmt, errors=(ImportLineError(1, "No questions found."),))
    items = [
        _Incoming(
            line=q.line,
            topic=q.topic,
            kind=q.kind,
            stem=q.stem,
            choices=q.choices,
            explanation=q.explanation,
            title=q.title,
            feedback=q.feedback,
        )
        for q in parsed.questions
    ]
    return _bank_import(bank=bank, fmt=fmt, items=items, errors=parsed.errors)


@transaction.atomic
def bank_import_moodle_xml(
    *, bank: QuestionBank, text: str, default_topic: str = ""
) -> ImportReport:
    """Import a Moodle XML file (multichoice and truefalse questions, categories as
    topics, questions before any category into `default_topic`); nothing if any
    question is bad. A document type, entity or external reference is refused
    without being resolved."""
    try:
        parsed = moodle_xml.parse_moodle_xml(text.encode("utf-8"), default_topic=default_topic)
    except moodle_xml.MoodleXMLRefused as error:
        return ImportReport(format="moodlexml", errors=(ImportLineError(1, str(error)),))
    return _bank_import_parsed(bank=bank, fmt="moodlexml", parsed=parsed)


IMPORT_FORMATS = ("gift", "csv", "moodlexml")


def bank_import_file(
    *, bank: QuestionBank, fmt: str, text: str, default_topic: str = ""
) -> ImportReport:
    """Import `text` in one of IMPORT_FORMATS (CSV names its topics per row)."""
    if fmt == "csv":
        return bank_import_csv(bank=bank, text=text)
    if fmt == "moodlexml":
        return bank_import_moodle_xml(bank=bank, text=text, default_topic=default_topic)
    if fmt == "gift":
        return bank_import_gift(bank=bank, text=text, default_topic=default_topic)
    raise ImportRefused(f"The format must be one of {', '.join(IMPORT_FORMATS)}.")


@transaction.atomic
def bank_import_csv(*, bank: QuestionBank, text: str) -> ImportReport:
    """Import CSV rows into `bank`; nothing if any line is bad.

    A row whose `question_id` is a question of this bank revises it (a new
    version if it was used in an attempt; unchanged if the text, options and
    feedback are the same); other rows create questions. A file without the
    `feedback` column keeps the bank's feedback for the same option texts.
    """
    parsed = csv_io.parse_csv(text, bank_slug=bank.slug)
    items = [
        _Incoming(
            line=q.line,
            topic=q.topic,
            kind=q.kind,
            stem=q.stem,
            choices=q.choices,
            explanation=q.explanation,
            question_id=q.question_id,
            feedback=q.feedback,
            feedback_given=parsed.has_feedback,
        )
        for q in parsed.questions
    ]
    return _bank_import(bank=bank, fmt="csv", items=items, errors=parsed.errors)
