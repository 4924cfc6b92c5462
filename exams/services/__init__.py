"""Exam workflows: authoring questions, publishing exams, taking attempts.

One module per concern: `authoring` (questions, blueprints, publishing),
`attempts` (start, save, submit, finalise), `imports` (GIFT and CSV) and
`regrade` (drop or credit a question and rescore). Import from the package.

Contract:
- Every function is keyword-only and atomic; `now` may be passed (tests,
  jobs) and defaults to the server clock. The client's clock plays no part.
- Questions: `question_create` / `question_revise` validate 2-8 options
  (single answer: exactly one right; multiple: at least one) and raise 422
  `invalid_question`. A revision of a version already given in an attempt
  makes a new version; attempts keep the version they were given.
- `exam_publish` refuses (409 `pool_too_small`, with `topics`) when a topic's
  pool has fewer active questions than the blueprint draws, or the blueprint
  is empty (409 `empty_blueprint`).
- `attempt_start` draws the form with `exams.draw.draw_form` from the seed,
  the exam's blueprint and shuffle settings, the active questions' current
  versions and the questions the person was given before; it records those
  inputs (`Attempt.draw_snapshot`, one `DrawSnapshot` per distinct content,
  and `Attempt.draw_seen`) so `selectors.attempt_replay` can redraw the same
  form later, whatever changed in the bank since.
- `attempt_start` returns `(attempt, created)`. An open attempt is returned
  as is (created=False); otherwise the retake rule decides (409
  `retake_too_soon` with `available_at`, `attempts_exhausted`,
  `already_certified`), then the refusals higher apps registered with
  `selectors.register_start_refusals` (a renewal exam outside the holder's
  window: 409 `renewal_not_open`); the exam list asks the same providers, so
  it never offers a start that is refused. One in-progress attempt per person and exam is the
  database constraint `exams_attempt_one_in_progress`: a concurrent start
  that loses the race returns the winner's attempt.
- `attempt_item_save` (and `attempt_answer`, `attempt_flag`) stores one
  item's selection/flag; refused with 409 `attempt_closed` once the attempt
  is finished or `deadline + grace` has passed, 422 `invalid_choice` for
  options that are not the item's or several options on a single-answer item.
  The attempt row is locked (PostgreSQL) so a save and a submit never
  interleave: an answer is either scored or refused, never lost silently.
- `attempt_submit` is idempotent: a conditional UPDATE (`WHERE status =
  'in_progress'`) decides the one call that scores; the others return the
  stored result. After `deadline + grace` the submit finalises the attempt as
  expired with the answers saved by then. `attempt_passed` is sent on commit,
  once per passing attempt.
- `attempt_finalise_overdue` finalises (expired, scored) every attempt past
  `deadline + grace`; idempotent, safe to run from several workers at once.
- Accommodations (exams.accommodations): `attempt_start` applies the grant in
  force on the start's day (an exam's own grant wins over an all-exams one):
  deadline = start + time limit × (100 + percent) / 100, and records the
  grant, its percent and its breaks on the attempt, so a later change of the
  grant does not move the attempt.
- Rest breaks (`breaks`): `attempt_break_start` (409 `no_breaks_left`,
  `break_in_progress`, `break_too_long`, `attempt_closed`; one conditional
  UPDATE decides between two starts at once) stops the clock until
  `attempt_break_end` or the break's planned end; the deadline then moves
  later by the break's length. During a break saves and the submit are
  refused with 409 `attempt_paused` (the save's UPDATE checks it in the same
  statement), and no path finalises the attempt as overdue. Every path that
  judges the deadline ends a break whose time is up first.
- `bank_import_gift` / `bank_import_csv` return an `ImportReport`; a file with
  any bad line (format or question rules) imports nothing and the report
  lists every bad line with its number. `import_text_from_upload` refuses
  huge (413 `import_too_large`) and binary/non-UTF-8 files (422
  `invalid_import_file`) before parsing.
- `exam_question_regrade_preview` (dry run, writes nothing) and
  `exam_question_regrade` drop, credit or restore one question version for
  everyone who took an exam, rescore the finished attempts and keep the
  before/after of each on a `RegradeEvent`.
"""

# The public names, by concern; callers import them from exams.services.
from .attempts import (
    AttemptClosed,
    AttemptPaused,
    InvalidChoice,
    attempt_answer,
    attempt_finalise_if_overdue,
    attempt_finalise_overdue,
    attempt_flag,
    attempt_item_save,
    attempt_passed_send,
    attempt_score_compute,
    attempt_score_store,
    attempt_start,
    attempt_submit,
    break_end_if_over,
    check_may_start,
)
from .authoring import (
    ChoiceSpec,
    InvalidQuestion,
    PublishRefused,
    blueprint_set,
    check_choices,
    check_exam_author,
    check_stem,
    exam_publish,
    exam_unpublish,
    question_create,
    question_revise,
    question_set_active,
    question_update,
)
from .breaks import attempt_break_end, attempt_break_start
from .imports import (
    IMPORT_FORMATS,
    MAX_IMPORT_BYTES,
    MAX_IMPORT_QUESTIONS,
    ImportLineError,
    ImportRefused,
    ImportReport,
    ImportTooLarge,
    bank_import_csv,
    bank_import_file,
    bank_import_gift,
    bank_import_moodle_xml,
    import_text_from_bytes,
    import_text_from_upload,
)
from .regrade import (
    RegradeChange,
    RegradePlan,
    RegradeRefused,
    exam_question_regrade,
    exam_question_regrade_preview,
)

__all__ = [
    "AttemptClosed",
    "AttemptPaused",
    "attempt_break_end",
    "attempt_break_start",
    "break_end_if_over",
    "InvalidChoice",
    "attempt_answer",
    "attempt_finalise_if_overdue",
    "attempt_finalise_overdue",
    "attempt_flag",
    "attempt_item_save",
    "attempt_passed_send",
    "attempt_score_compute",
    "attempt_score_store",
    "attempt_start",
    "attempt_submit",
    "check_may_start",
    "ChoiceSpec",
    "InvalidQuestion",
    "PublishRefused",
    "blueprint_set",
    "check_choices",
    "check_exam_author",
    "check_stem",
    "exam_publish",
    "exam_unpublish",
    "question_create",
    "question_revise",
    "question_set_active",
    "question_update",
    "MAX_IMPORT_BYTES",
    "MAX_IMPORT_QUESTIONS",
    "ImportLineError",
    "ImportRefused",
    "ImportReport",
    "ImportTooLarge",
    "bank_import_csv",
    "bank_import_file",
    "bank_import_gift",
    "bank_import_moodle_xml",
    "IMPORT_FORMATS",
    "import_text_from_bytes",
    "import_text_from_upload",
    "RegradeChange",
    "RegradePlan",
    "RegradeRefused",
    "exam_question_regrade",
    "exam_question_regrade_preview",
]
