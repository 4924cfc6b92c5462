"""GIFT (Moodle's question format): a pure parser and serializer.

Contract:
- No Django import, no database. `parse_gift(text)` returns a `GiftParse`
  with every question it understood and every error it found, each error
  carrying the 1-based line number of the offending text; the caller decides
  what to do with a file that has errors (exams.services imports nothing).
- Supported: `// comments` (on their own lines, anywhere, inside answer
  blocks too), `$CATEGORY: <topic>` (Moodle's `$course$/top/` prefixes are
  dropped; the last path segment of `a/b/c` is the topic; questions before any
  `$CATEGORY` go to `parse_gift(..., default_topic=)`), an optional
  `::title::`, an optional `[plain]`/`[html]`/`[markdown]`/`[moodle]` format
  tag, the stem, and an answer block `{ ... }` with
  - single answer: exactly one `=right` and `~wrong` options;
  - multiple answers: `~%50%right ~%-100%wrong` weights; an option with a
    positive weight is right, the positive weights add up to 100 %;
  - true/false: `{T}`, `{TRUE}`, `{F}`, `{FALSE}`, optionally
    `{FALSE#if wrong#if right}`: a single-answer question with the options
    True and False;
  - missing word: text after the answer block; the stem gets `_____` where
    the braces stood;
  - per-option feedback `#...` (kept, `GiftQuestion.feedback`) and the
    general feedback `####...`, which becomes the question's explanation.
  Escapes `\\~ \\= \\# \\{ \\} \\: \\\\` and `\\n` (newline) work everywhere.
  Other GIFT question types (short answer, numerical, matching, essay) are
  refused with a clear message and their line number.
- `to_gift(questions)` writes the same subset; `parse_gift(to_gift(q))`
  gives `q` back (round trip), multiple-answer weights split 100 % evenly
  over the right options and -100 % over each wrong one.
- Option-count and right-answer rules beyond the format (2-8 options, ...)
  are the service's (`exams.services.check_choices`), not repeated here.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

SINGLE = "single"
MULTIPLE = "multiple"

_SPECIAL = "~=#{}:\\"
MISSING_WORD = "_____"
_FORMAT_TAG = re.compile(r"^\[(plain|html|markdown|moodle)\]\s*", re.IGNORECASE)
_WEIGHT = re.compile(r"^%(-?\d+(?:\.\d+)?)%")


@dataclass(frozen=True)
class GiftQuestion:
    topic: str
    title: str
    kind: str
    stem: str
    choices: tuple[tuple[str, bool], ...]
    explanation: str = ""
    line: int = 0  # where the question starts in the source (0 when built in code)
    # Per-option feedback, in the order of `choices` ("" where an option has none).
    feedback: tuple[str, ...] = ()

    def option_feedback(self) -> tuple[str, ...]:
        return self.feedback or ("",) * len(self.choices)

    def same_content(self, other: GiftQuestion) -> bool:
        return (
            self.topic,
            self.title,
            self.kind,
            self.stem,
            self.choices,
            self.explanation,
            self.option_feedback(),
        ) == (
            other.topic,
            other.title,
            other.kind,
            other.stem,
            other.choices,
            other.explanation,
            other.option_feedback(),
        )


@dataclass(frozen=True)
class GiftError:
    line: int
    message: str


@dataclass(frozen=True)
class GiftParse:
    questions: tuple[GiftQuestion, ...] = ()
    errors: tuple[GiftError, ...] = field(default_factory=tuple)


class _Error(Exception):
    def __init__(self, offset: int, message: str):
        super().__init__(message)
        self.offset = offset
        self.message = message


# --- parsing --------------------------------------------------------------------


def _blocks(text: str) -> Iterable[tuple[int, str]]:
    """(first line number, text) of each blank-line separated block, comments removed."""
    lines: list[str] = []
    start = 0
    for number, raw in enumerate(text.splitlines(), start=1):
        stripped = raw.strip()
        if stripped.startswith("//"):
            continue
        if not stripped:
            if lines:
                yield start, "\n".join(lines)
                lines = []
            continue
        if not lines:
            start = number
        lines.append(raw)
    if lines:
        yield start, "\n".join(lines)


def unescape(text: str) -> str:
    out = []
    i = 0
    while i < len(text):
        char = text[i]
        if char == "\\" and i + 1 < len(text):
            nxt = text[i + 1]
            out.append("\n" if nxt == "n" else nxt)
            i += 2
            continue
        out.append(char)
        i += 1
    return "".join(out)


def _find(text: str, target: str, start: int = 0) -> int:
    """Index of the first unescaped `target` at or after `start`, or -1."""
    i = start
    while i < len(text):
        if text[i] == "\\":
            i += 2
            continue
        if text.startswith(target, i):
            return i
        i += 1
    return -1


def _clean(text: str) -> str:
    """Unescape; a line break in the source is a space (write \\n for a real one)."""
    return unescape(re.sub(r"[ \t]*\n\s*", " ", text)).strip()


TRUE_TEXT, FALSE_TEXT = "True", "False"
_TRUE_FALSE = {"T": True, "TRUE": True, "F": False, "FALSE": False}

Answers = tuple[str, tuple[tuple[str, bool], ...], str, tuple[str, ...]]


def _split_unescaped(text: str, separator: str) -> list[str]:
    parts, start = [], 0
    while True:
        at = _find(text, separator, start)
        if at == -1:
            parts.append(text[start:])
            return parts
        parts.append(text[start:at])
        start = at + len(separator)


def _true_false(body: str, explanation: str) -> Answers | None:
    """`{T}`, `{FALSE}`, `{TRUE#if wrong#if right}`: a single-answer True/False
    question; the first feedback is shown for the wrong answer, the second for
    the right one."""
    parts = _split_unescaped(body.strip(), "#")
    value = _TRUE_FALSE.get(parts[0].strip().upper())
    if value is None or len(parts) > 3:
        return None
    if_wrong = _clean(parts[1]) if len(parts) > 1 else ""
    if_right = _clean(parts[2]) if len(parts) > 2 else ""
    choices = ((TRUE_TEXT, value), (FALSE_TEXT, not value))
    feedback = tuple(if_right if right else if_wrong for _, right in choices)
    return SINGLE, choices, explanation, feedback


def _parse_answers(body: str, offset: int) -> Answers:
    """(kind, choices, explanation, feedback) from the text between the braces."""
    general = _find(body, "####")
    explanation = ""
    if general != -1:
        explanation = _clean(body[general + 4 :])
        body = body[:general]
    if not body.strip():
        raise _Error(offset, "Essay questions ({}) are not supported: give = and ~ options.")
    if _find(body, "->") != -1:
        raise _Error(offset, "Matching questions (->) are not supported.")
    stripped = body.strip()
    if stripped.startswith("#"):
        raise _Error(offset, "Numerical questions ({#...}) are not supported.")
    true_false = _true_false(stripped, explanation)
    if true_false is not None:
        return true_false

    # Split on unescaped = and ~; each piece remembers its marker and offset.
    pieces: list[tuple[str, int, str]] = []
    i = 0
    current: list[str] = []
    marker = None
    piece_start = 0
    while i < len(body):
        char = body[i]
        if char == "\\" and i + 1 < len(body):
            current.append(body[i : i + 2])
            i += 2
            continue
        if char in "=~":
            if marker is not None:
                pieces.append((marker, piece_start, "".join(current)))
            elif "".join(current).strip():
                raise _Error(offset + i, "Text before the first = or ~ option.")
            marker, piece_start, current = char, i, []
            i += 1
            continue
        current.append(char)
        i += 1
    if marker is not None:
        pieces.append((marker, piece_start, "".join(current)))

    choices: list[tuple[str, bool]] = []
    feedbacks: list[str] = []
    weighted = False
    plain_right = 0
    positive_total = 0.0
    for marker, at, raw in pieces:
        feedback = _find(raw, "#")
        feedbacks.append(_clean(raw[feedback + 1 :]) if feedback != -1 else "")
        if feedback != -1:
            raw = raw[:feedback]
        raw = raw.strip()
        weight = _WEIGHT.match(raw)
        if weight:
            raw = raw[weight.end() :].strip()
            value = float(weight.group(1))
            weighted = True
            right = value > 0
            if right:
                positive_total += value
        else:
            right = marker == "="
            plain_right += right
        text = _clean(raw)
        if not text:
            raise _Error(offset + at, "An option has no text.")
        choices.append((text, right))

    if weighted and plain_right:
        raise _Error(offset, "Mix of = and %weight% options: use one style per question.")
    if weighted:
        if positive_total == 0:
            raise _Error(offset, "No option has a positive weight: mark the right ones ~%50%.")
        if abs(positive_total - 100) > 1:
            raise _Error(
                offset,
                f"The positive weights add up to {positive_total:g} %, they must add up to 100 %.",
            )
        return MULTIPLE, tuple(choices), explanation, tuple(feedbacks)
    if plain_right == 0:
        raise _Error(offset, "No right option: mark it with = (or give ~%weights%).")
    if plain_right > 1:
        raise _Error(
            offset,
            "Several = options (short-answer questions are not supported); "
            "for several right options use ~%weights%.",
        )
    return SINGLE, tuple(choices), explanation, tuple(feedbacks)


def _parse_question(block: str, topic: str) -> GiftQuestion:
    text = block.strip()
    lead = len(block) - len(block.lstrip())
    title = ""
    if text.startswith("::"):
        end = _find(text, "::", 2)
        if end == -1:
            raise _Error(lead, "The title is not closed with ::.")
        title = _clean(text[2:end])
        rest_start = end + 2
    else:
        rest_start = 0
    open_at = _find(text, "{", rest_start)
    if open_at == -1:
        raise _Error(lead, "No answer block: the options go between { and }.")
    close_at = _find(text, "}", open_at + 1)
    if close_at == -1:
        raise _Error(lead + open_at, "The answer block is not closed with }.")
    after = text[close_at + 1 :].strip()
    if _find(after, "{") != -1:
        raise _Error(lead + close_at + 1, "Only one answer block per question.")
    stem_raw = _FORMAT_TAG.sub("", text[rest_start:open_at].strip())
    stem = _clean(stem_raw)
    if after:
        # A missing-word question: the blank stands where the braces stood.
        stem = f"{stem} {MISSING_WORD} {_clean(after)}".strip()
    if not stem:
        raise _Error(lead, "The question has no text.")
    if not topic:
        raise _Error(
            lead,
            "No topic: put a line `$CATEGORY: <topic>` before the questions, "
            "or choose a topic for the file.",
        )
    kind, choices, explanation, feedback = _parse_answers(
        text[open_at + 1 : close_at], lead + open_at + 1
    )
    return GiftQuestion(
        topic=topic,
        title=title,
        kind=kind,
        stem=stem,
        choices=choices,
        explanation=explanation,
        feedback=feedback if any(feedback) else (),
    )


def topic_from_category(value: str) -> str:
    """The topic a category path names: its last segment, Moodle's `$course$/top/`
    prefixes dropped (a `//` inside a name is a literal slash, as Moodle writes it)."""
    marker = "\x00"
    parts = [
        part.strip().replace(marker, "/")
        for part in unescape(value).replace("//", marker).split("/")
        if part.strip()
    ]
    while parts and parts[0].lower() in {"$course$", "$system$", "$module$", "$cat1$", "top"}:
        parts.pop(0)
    return parts[-1] if parts else ""


def parse_gift(text: str, *, default_topic: str = "") -> GiftParse:
    """Every question and every error of `text`. Questions before any
    `$CATEGORY` line go to `default_topic` (an error when there is none)."""
    questions: list[GiftQuestion] = []
    errors: list[GiftError] = []
    topic = default_topic.strip()
    for start, block in _blocks(text):
        # A category line may share its block with the question under it.
        lines = block.split("\n")
        while lines and lines[0].strip().upper().startswith("$CATEGORY:"):
            topic = topic_from_category(lines[0].strip()[len("$CATEGORY:") :])
            if not topic:
                errors.append(GiftError(start, "The $CATEGORY line names no topic."))
            lines.pop(0)
            start += 1
        block = "\n".join(lines)
        if not block.strip():
            continue
        try:
            question = _parse_question(block, topic)
        except _Error as error:
            errors.append(GiftError(start + block.count("\n", 0, error.offset), error.message))
            continue
        questions.append(
            GiftQuestion(
                topic=question.topic,
                title=question.title,
                kind=question.kind,
                stem=question.stem,
                choices=question.choices,
                explanation=question.explanation,
                line=start,
                feedback=question.feedback,
            )
        )
    return GiftParse(questions=tuple(questions), errors=tuple(errors))


# --- writing --------------------------------------------------------------------


def escape(text: str) -> str:
    out = []
    for char in text:
        if char in _SPECIAL:
            out.append("\\" + char)
        elif char == "\n":
            out.append("\\n")
        else:
            out.append(char)
    return "".join(out)


def _weight(value: float) -> str:
    return f"{value:.5f}".rstrip("0").rstrip(".")


def _is_true_false(question: GiftQuestion) -> bool:
    texts = tuple(text for text, _ in question.choices)
    return question.kind == SINGLE and texts == (TRUE_TEXT, FALSE_TEXT)


def question_to_gift(question: GiftQuestion) -> str:
    head = f"::{escape(question.title)}:: " if question.title else ""
    feedback = question.option_feedback()
    if _is_true_false(question):
        value = question.choices[0][1]
        if_right, if_wrong = (feedback[0], feedback[1]) if value else (feedback[1], feedback[0])
        tail = ""
        if if_wrong or if_right:
            tail = f"#{escape(if_wrong)}" + (f"#{escape(if_right)}" if if_right else "")
        general = f"####{escape(question.explanation)}" if question.explanation else ""
        return f"{head}{escape(question.stem)} {{{'TRUE' if value else 'FALSE'}{tail}{general}}}"
    lines = [f"{head}{escape(question.stem)} {{"]
    right = sum(1 for _, correct in question.choices if correct)
    for (text, correct), note in zip(question.choices, feedback, strict=True):
        note_text = f" #{escape(note)}" if note else ""
        if question.kind == MULTIPLE:
            weight = _weight(100 / right) if correct else "-100"
            lines.append(f"\t~%{weight}%{escape(text)}{note_text}")
        else:
            lines.append(f"\t{'=' if correct else '~'}{escape(text)}{note_text}")
    if question.explanation:
        lines.append(f"\t####{escape(question.explanation)}")
    lines.append("}")
    return "\n".join(lines)


def to_gift(questions: Iterable[GiftQuestion], *, header: str = "") -> str:
    """The questions as GIFT text, one `$CATEGORY` line whenever the topic changes."""
    parts = [f"// {line}" for line in header.splitlines()] if header else []
    if parts:
        parts.append("")
    topic = None
    for question in questions:
        if question.topic != topic:
            topic = question.topic
            parts += [f"$CATEGORY: {escape(topic)}", ""]
        parts += [question_to_gift(question), ""]
    return "\n".join(parts)
