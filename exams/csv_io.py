"""Question banks as CSV: a pure reader and writer.

Contract:
- No Django import, no database. One row per option, with the header
  `bank, topic, question_id, version, kind, stem, option, is_correct,
  explanation` (`COLUMNS`, all required) and `feedback` (the option's own
  feedback; optional, so files written before it existed still read, and
  `CsvParse.has_feedback` says whether the file carried it). The rows of one
  question share `question_id` (or, for new questions without an id, `topic`
  + `stem`) and `topic`, `kind`, `stem` and `explanation`; the option order
  is the row order.
- `parse_csv(text, *, bank_slug)` returns a `CsvParse`: the questions it
  understood and every error with the 1-based line number in the file (a
  quoted cell may span lines; the row's first line is reported). A row naming
  another bank is an error. `is_correct` takes true/false, yes/no, 1/0, x/"".
- `to_csv(rows)` writes `CsvQuestion`s back; `parse_csv(to_csv(q))` gives
  `q` back. A cell that a spreadsheet would run as a formula (starting with
  = + - @, tab or carriage return) is written with a leading `'`, which the
  reader removes again, so exports are safe to open in Excel and still
  round-trip.
- Option-count and right-answer rules are the service's
  (`exams.services.check_choices`), not repeated here.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from dataclasses import dataclass

COLUMNS = (
    "bank",
    "topic",
    "question_id",
    "version",
    "kind",
    "stem",
    "option",
    "is_correct",
    "explanation",
)
OPTIONAL_COLUMNS = ("feedback",)
KINDS = ("single", "multiple")
_TRUE = {"true", "yes", "1", "x", "y", "t"}
_FALSE = {"false", "no", "0", "", "n", "f"}
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
MAX_FIELD = 20_000  # characters per cell; a stem or option longer than this is an error


@dataclass(frozen=True)
class CsvQuestion:
    topic: str
    kind: str
    stem: str
    choices: tuple[tuple[str, bool], ...]
    explanation: str = ""
    question_id: int | None = None
    version: int | None = None
    line: int = 0
    # Per-option feedback in the order of `choices` (empty: none given).
    feedback: tuple[str, ...] = ()

    def option_feedback(self) -> tuple[str, ...]:
        return self.feedback or ("",) * len(self.choices)


@dataclass(frozen=True)
class CsvError:
    line: int
    message: str


@dataclass(frozen=True)
class CsvParse:
    questions: tuple[CsvQuestion, ...] = ()
    errors: tuple[CsvError, ...] = ()
    # False for a file without the `feedback` column: it says nothing about
    # feedback (an importer keeps what the bank has), rather than "none".
    has_feedback: bool = True


def _protect(value: str) -> str:
    return "'" + value if value.startswith(_FORMULA_START) or value.startswith("'") else value


def _unprotect(value: str) -> str:
    return value[1:] if value.startswith("'") else value


def to_csv(questions: Iterable[CsvQuestion], *, bank_slug: str) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(COLUMNS + OPTIONAL_COLUMNS)
    for question in questions:
        for (text, correct), note in zip(question.choices, question.option_feedback(), strict=True):
            writer.writerow(
                [
                    _protect(bank_slug),
                    _protect(question.topic),
                    "" if question.question_id is None else question.question_id,
                    "" if question.version is None else question.version,
                    question.kind,
                    _protect(question.stem),
                    _protect(text),
                    "true" if correct else "false",
                    _protect(question.explanation),
                    _protect(note),
                ]
            )
    return out.getvalue()


@dataclass
class _Draft:
    line: int
    topic: str
    kind: str
    stem: str
    explanation: str
    question_id: int | None
    version: int | None
    choices: list[tuple[str, bool]]
    feedback: list[str]


def _sentence(text: str) -> str:
    return text[:1].upper() + text[1:] + "."


def _int_or_none(value: str, name: str) -> int | None:
    value = value.strip()
    if not value:
        return None
    if not value.isdigit() or len(value) > 18:
        raise ValueError(f"{name} must be a whole number, got {value[:40]!r}.")
    return int(value)


def parse_csv(text: str, *, bank_slug: str) -> CsvParse:
    errors: list[CsvError] = []
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader, None)
    except csv.Error as error:
        return CsvParse(errors=(CsvError(1, f"Not a readable CSV file: {error}."),))
    if header is None:
        return CsvParse(errors=(CsvError(1, "The file is empty."),))
    names = [name.strip().lower().lstrip("\ufeff") for name in header]
    missing = [name for name in COLUMNS if name not in names]
    if missing:
        return CsvParse(
            errors=(
                CsvError(
                    1,
                    "The header row must name the columns "
                    f"{', '.join(COLUMNS)}; missing: {', '.join(missing)}.",
                ),
            )
        )
    index = {name: names.index(name) for name in COLUMNS + OPTIONAL_COLUMNS if name in names}
    has_feedback = "feedback" in index
    drafts: dict[tuple[object, ...], _Draft] = {}
    line = reader.line_num + 1
    while True:
        start = line
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error as error:
            errors.append(CsvError(start, f"Unreadable row: {error}."))
            break
        line = reader.line_num + 1
        if not any(cell.strip() for cell in row):
            continue
        if len(row) < len(names):
            errors.append(
                CsvError(start, f"The row has {len(row)} cells, the header has {len(names)}.")
            )
            continue
        cell = {name: row[i] for name, i in index.items()}
        if any(len(value) > MAX_FIELD for value in cell.values()):
            errors.append(CsvError(start, f"A cell is longer than {MAX_FIELD} characters."))
            continue
        bank = _unprotect(cell["bank"]).strip()
        topic = _unprotect(cell["topic"]).strip()
        kind = cell["kind"].strip().lower()
        stem = _unprotect(cell["stem"]).strip()
        option = _unprotect(cell["option"]).strip()
        explanation = _unprotect(cell["explanation"]).strip()
        note = _unprotect(cell.get("feedback", "")).strip()
        correct_raw = cell["is_correct"].strip().lower()
        problems = []
        if bank and bank != bank_slug:
            problems.append(f"the row is for bank {bank!r}, not {bank_slug!r}")
        if not topic:
            problems.append("topic is empty")
        if kind not in KINDS:
            problems.append(f"kind must be single or multiple, got {cell['kind'][:40]!r}")
        if not stem:
            problems.append("stem is empty")
        if not option:
            problems.append("option is empty")
        if correct_raw not in _TRUE | _FALSE:
            problems.append(f"is_correct must be true or false, got {cell['is_correct'][:40]!r}")
        try:
            question_id = _int_or_none(cell["question_id"], "question_id")
            version = _int_or_none(cell["version"], "version")
        except ValueError as error:
            problems.append(str(error).rstrip("."))
            question_id = version = None
        if problems:
            errors.append(CsvError(start, _sentence("; ".join(problems))))
            continue
        key = ("id", question_id) if question_id is not None else ("new", topic, stem)
        draft = drafts.get(key)
        if draft is None:
            drafts[key] = _Draft(
                line=start,
                topic=topic,
                kind=kind,
                stem=stem,
                explanation=explanation,
                question_id=question_id,
                version=version,
                choices=[(option, correct_raw in _TRUE)],
                feedback=[note],
            )
            continue
        differs = [
            name
            for name, value in (
                ("topic", topic),
                ("kind", kind),
                ("stem", stem),
                ("explanation", explanation),
            )
            if getattr(draft, name) != value
        ]
        if differs:
            errors.append(
                CsvError(
                    start,
                    f"{_sentence(', '.join(differs))[:-1]} differ from the question's first row "
                    f"(line {draft.line}).",
                )
            )
            continue
        draft.choices.append((option, correct_raw in _TRUE))
        draft.feedback.append(note)
    if not drafts and not errors:
        errors.append(CsvError(1, "The file has no questions."))
    return CsvParse(
        questions=tuple(
            CsvQuestion(
                topic=d.topic,
                kind=d.kind,
                stem=d.stem,
                choices=tuple(d.choices),
                explanation=d.explanation,
                question_id=d.question_id,
                version=d.version,
                line=d.line,
                feedback=tuple(d.feedback) if any(d.feedback) else (),
            )
            for d in drafts.values()
        ),
        errors=tuple(errors),
        has_feedback=has_feedback,
    )
