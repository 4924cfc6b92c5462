"""Exam accommodations: extra time and rest breaks granted to a person.

- `rules` (pure): a grant's limits, the deadline with extra time, breaks.
- `models`: `Accommodation` (the grant) and `AccommodationEvent` (its
  append-only history); imported by `exams.models`.
- `selectors`: the grant in force for a person and an exam, the learner's
  view of it, lists and history for staff.
- `services`: grant, change and revoke (staff), each kept as history.
- `api`: the staff API (`/api/v1/accommodations`).
The attempt's side (the deadline at start, breaks that pause the clock) is in
`exams.services.attempts` and `exams.services.breaks`; the admin screens in
`exams.wagtail_hooks.accommodations`.
"""
