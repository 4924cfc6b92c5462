"""Partner companies, their people, applications, track status and downloads.

One subpackage per feature; inside each, the standard module names
(`services` write, `selectors` read, `api` ninja router, `views`/`urls`/
`forms` pages, `tasks` django-q2 jobs, `policies` permission rules,
`wagtail_hooks` admin screens). Features depend downwards in this list, never
back up:

- `downloads/`     certificates zip and roll-up report: services, selectors
                   and report in `services`; `tasks`, `api`, `views`, `urls`
                   (/partners/<slug>/downloads/, report.csv|pdf).
- `webhooks/`      signed webhooks to partners' systems: endpoints, events,
                   deliveries (`models`, imported by the top-level `models`),
                   `services`, `selectors`, `api`, `views`/`urls`/`forms`
                   (/partners/<slug>/webhooks/), `tasks` (deliver, sweep),
                   `receivers` (signals -> events), `transport` (the
                   SSRF-checked send), `signing` (pure).
- `analytics/`     programme and partner analytics: aggregate reads
                   (`selectors`), charts and tables (`reports`), pure SVG
                   drawing (`charts`), pages and CSVs (`views`, `urls`:
                   /partners/staff/analytics/, /partners/<slug>/analytics/).
- `portal/`        the partner portal pages: apply, accept an invitation, the
                   partner admin's people page, staff partner list and
                   application decisions (`views`, `forms`, `urls`).
- `roster/`        reads of members, open invitations and the staff partner
                   list (`selectors`); the members API (`api`).
- `applications/`  a company applies, staff decide (`services`); the
                   Applications admin menu (`wagtail_hooks`).
- `invitations/`   partner admins invite people; single-use links (`services`).
- `status/`        track status: recompute and record (`services`), reads for
                   the API and dashboard (`selectors`), `api`, the dashboard
                   (`views`, `urls`), `tasks`, the Track status admin menu.
- `lifecycle/`     the programme status as a state machine (pure `rules`),
                   transitions with history, deadlines, reminders and the
                   yearly re-review (`services`, `selectors`), the daily job
                   (`tasks`), the re-review and staff pages (`views`, `urls`),
                   the Programme admin menu (`wagtail_hooks`).
- `agreements/`    partner agreement versions and the one in force
                   (`services`); their admin screens (`wagtail_hooks`).
- `api_keys/`      company API keys (`pak_…`): make, authenticate, revoke
                   (`services`, `selectors`); who may use the partner
                   endpoints, people or keys with scopes (`policies`); `api`,
                   the portal page (`views`, `forms`, `urls`) and the API keys
                   admin screen (`wagtail_hooks`).
- `directory/`     the public directory of verified partners, the verified
                   page, the live badge (cached; `badge_cache_forget` when the
                   status changes), logos; the partner admins' directory
                   profile (`selectors`, `services`, `api`, `views`, `urls`,
                   `forms`). Who is shown: `Partner.objects.in_good_standing()`
                   and `.listable()`.
- `membership/`    partner companies and memberships (`services`,
                   `selectors`), who may see and manage them (`policies`,
                   also the staff-only admin policy), the Partners admin menu.

At the top, shared by the features: `models` (every table), the pure
`rules`, `rollup` (track-status roll-up) and `benefits`; `signals` this app
sends and `receivers` for other apps' and its own signals (connected in
`apps.ready`); `admin` (Django admin for superusers); `wagtail_hooks`, which
imports each feature's admin screens (Wagtail loads only this module);
`tasks` and `tasks_downloads`, which keep the jobs' former dotted paths
importable for rows that already store them.
"""
