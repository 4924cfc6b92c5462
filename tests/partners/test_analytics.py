"""Programme analytics: the figures, who may see them, the period, the CSVs and the query count."""

import csv
import io
from datetime import UTC as utc
from datetime import date, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from partners.analytics import charts, reports
from partners.analytics import selectors as s
from partners.models import TrackStatusChange, TrackStatusRecord
from tests.certificates.factories import (
    CertificationFactory,
    CredentialFactory,
    passed_attempt,
    passed_submission,
)
from tests.courses.factories import CoursePageFactory, EnrolmentFactory
from tests.lms.factories import MODEL_BACKEND, UserFactory
from tests.partners.factories import MembershipFactory, PartnerAdminFactory, PartnerFactory

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 6, 15, 12, 0, tzinfo=utc)
PERIOD = s.DateRange(start=date(2025, 7, 1), end=date(2026, 6, 30))


def at(y, m, d=10):
    return datetime(y, m, d, 12, 0, tzinfo=utc)


# --- the period -----------------------------------------------------------------------


def test_default_period_is_the_last_24_calendar_months():
    period = s.default_date_range(today=date(2026, 12, 6))
    assert (period.start, period.end) == (date(2025, 1, 1), date(2026, 12, 6))
    assert len(period.months) == 24


@pytest.mark.parametrize(
    ("start", "end", "message"),
    [
        (date(2026, 2, 1), date(2026, 1, 31), "after the end"),
        (date(2020, 1, 1), date(2025, 1, 1), "at most 5 years"),
        (date(2020, 2, 29), date(2025, 2, 28), "at most 5 years"),
    ],
)
def test_a_reversed_or_too_long_period_is_refused(start, end, message):
    with pytest.raises(s.InvalidDateRange) as refused:
        s.date_range_check(start=start, end=end)
    assert refused.value.code == "invalid_date_range"
    assert refused.value.status == 400
    assert message in refused.value.message


def test_five_years_less_a_day_is_allowed():
    period = s.date_range_check(start=date(2020, 1, 1), end=date(2024, 12, 31))
    assert len(period.months) == 60


# --- figures ------------------------------------------------------------------------------


def test_certifications_issued_per_month_and_certification():
    developer = CertificationFactory(name="Developer")
    architect = CertificationFactory(name="Architect")
    CredentialFactory(certification=developer, issued_at=at(2025, 7))
    CredentialFactory(certification=developer, issued_at=at(2025, 7, 20))
    CredentialFactory(certification=architect, issued_at=at(2026, 6))
    CredentialFactory(certification=architect, issued_at=at(2025, 6, 30))  # before the period
    data = s.certifications_issued_by_month(scope=s.Scope.programme(), period=PERIOD)
    assert data.names == ["Architect", "Developer"]
    assert data.counts["Developer"][0] == 2
    assert data.counts["Architect"][-1] == 1
    assert sum(data.counts["Architect"]) == 1


def test_pass_rate_and_first_attempt_pass_rate_per_exam_and_month():
    certification = CertificationFactory()
    exam = certification.exam
    ada, bob = UserFactory(), UserFactory()
    passed_attempt(person=ada, exam=exam, at=at(2025, 6), passed=False)  # first, before the period
    passed_attempt(person=ada, exam=exam, at=at(2025, 8), passed=True)  # a retake
    passed_attempt(person=bob, exam=exam, at=at(2025, 8, 12), passed=False)  # first
    passed_attempt(person=bob, exam=exam, at=at(2025, 9), passed=True)
    (rates,) = s.exam_pass_rates_by_month(scope=s.Scope.programme(), period=PERIOD)
    august, september = rates.months[1], rates.months[2]
    assert (august.attempts, august.passed, august.first_attempts, august.first_passed) == (
        2,
        1,
        1,
        0,
    )
    assert august.pass_rate == 50 and august.first_pass_rate == 0
    assert (september.attempts, september.passed, september.first_attempts) == (1, 1, 0)
    assert september.first_pass_rate is None
    assert rates.months[0].pass_rate is None  # no attempt in July: a gap, not 0 %


def test_credentials_expiring_within_90_and_180_days_of_today():
    certification = CertificationFactory(name="Developer")
    for days in (10, 89, 91, 179, 181):
        CredentialFactory(
            certification=certification,
            issued_at=NOW - timedelta(days=600),
            expires_at=NOW + timedelta(days=days),
        )
    CredentialFactory(  # already expired
        certification=certification, issued_at=NOW - timedelta(days=800), expires_at=NOW
    )
    (row,) = s.credentials_expiring(scope=s.Scope.programme(), now=NOW)
    assert row.within == {90: 2, 180: 4}


def test_partners_by_status_lists_every_status():
    PartnerFactory(status="active")
    PartnerFactory(status="active")
    PartnerFactory(status="provisional")
    counts = {value: n for value, _, n in s.partners_by_status()}
    assert counts == {
        "applicant": 0,
        "provisional": 1,
        "active": 2,
        "suspended": 0,
        "terminated": 0,
    }


def _change(partner, track, from_state, to_state, when):
    TrackStatusChange.objects.create(
        partner=partner, track=track, from_state=from_state, to_state=to_state, at=when
    )


def test_verified_tracks_over_time_follow_the_status_history():
    first, second = PartnerFactory(), PartnerFactory()
    _change(first, "technology", "", "verified", at(2025, 5))  # before the period
    _change(second, "technology", "", "not_verified", at(2025, 7))
    _change(second, "technology", "not_verified", "verified", at(2025, 9))
    _change(first, "technology", "verified", "at_risk", at(2025, 10))  # still verified
    _change(first, "technology", "at_risk", "not_verified", at(2025, 12))
    _change(second, "apps", "", "verified", at(2026, 1))
    data = s.verified_tracks_by_month(scope=s.Scope.programme(), period=PERIOD)
    assert [t for t, _ in data.tracks] == ["apps", "technology"]
    technology = data.counts["technology"]
    assert technology[:6] == [1, 1, 2, 2, 2, 1]  # Jul..Dec 2025
    assert data.counts["apps"][6:8] == [1, 1]
    only_first = s.verified_tracks_by_month(scope=s.Scope.of(first), period=PERIOD)
    assert only_first.counts["technology"][:6] == [1, 1, 1, 1, 1, 0]
    assert "apps" not in only_first.counts


def test_at_risk_tracks_by_time_left_with_their_deadlines():
    now = timezone.now()
    for days, name in ((3, "Soon"), (10, "Later"), (50, "Much later")):
        TrackStatusRecord.objects.create(
            partner=PartnerFactory(name=name),
            track="technology",
            state="at_risk",
            verified=True,
            certified_individuals=1,
            required=2,
            at_risk_until=now + timedelta(days=days),
            computed_at=now,
            changed_at=now,
        )
    TrackStatusRecord.objects.create(
        partner=PartnerFactory(),
        track="apps",
        state="verified",
        verified=True,
        computed_at=now,
        changed_at=now,
    )
    data = s.at_risk_tracks(scope=s.Scope.programme(), now=now)
    assert data.total == 3
    assert [n for _, n in data.buckets] == [1, 1, 0, 1]
    assert [t.partner_name for t in data.soonest] == ["Soon", "Later", "Much later"]
    assert data.soonest[0].days_left in (2, 3)
    assert len(s.at_risk_tracks(scope=s.Scope.programme(), now=now, limit=1).soonest) == 1


def _path(certification_slug="developer"):
    certification = CertificationFactory(slug=certification_slug, name="Developer")
    courses = [
        CoursePageFactory(certification=certification_slug, kind="technical") for _ in range(2)
    ]
    CoursePageFactory(certification="none", kind="sales")
    return certification, courses


def test_learner_funnel_counts_each_step_and_the_median_days_between_steps():
    certification, courses = _path()
    start = at(2025, 8, 1)
    # Ada: every step, 10 / 5 / 3 / 0 days apart.
    ada = UserFactory()
    EnrolmentFactory(person=ada, course=courses[0], enrolled_at=start, completed_at=start)
    EnrolmentFactory(
        person=ada,
        course=courses[1],
        enrolled_at=start + timedelta(days=1),
        completed_at=start + timedelta(days=10),
    )
    passed_attempt(person=ada, exam=certification.exam, at=start + timedelta(days=15))
    passed_submission(person=ada, brief=certification.project_brief, at=start + timedelta(days=18))
    CredentialFactory(person=ada, certification=certification, issued_at=start + timedelta(days=18))
    # Bob: both courses in 20 days, then the exam failed.
    bob = UserFactory()
    for course in courses:
        EnrolmentFactory(
            person=bob, course=course, enrolled_at=start, completed_at=start + timedelta(days=20)
        )
    passed_attempt(person=bob, exam=certification.exam, at=start + timedelta(days=25), passed=False)
    # Cy: one of the two courses only.
    cy = UserFactory()
    EnrolmentFactory(person=cy, course=courses[0], enrolled_at=start, completed_at=start)
    # Dee: enrolled before the period (not in this cohort).
    EnrolmentFactory(person=UserFactory(), course=courses[0], enrolled_at=at(2025, 1))
    (funnel,) = s.learner_funnels(scope=s.Scope.programme(), period=PERIOD)
    assert funnel.path_courses == 2
    assert funnel.counts == [3, 2, 1, 1, 1]
    assert funnel.median_days == [15.0, 5.0, 3.0, 0.0]
    # A partner's funnel counts its current members only.
    partner = PartnerFactory()
    MembershipFactory(partner=partner, person=bob)
    (theirs,) = s.learner_funnels(scope=s.Scope.of(partner), period=PERIOD)
    assert theirs.counts == [1, 1, 0, 0, 0]


def test_a_partner_scope_counts_current_members_only():
    partner = PartnerFactory()
    member, former, outsider = UserFactory(), UserFactory(), UserFactory()
    MembershipFactory(partner=partner, person=member)
    MembershipFactory(partner=partner, person=former, ended=timezone.now() - timedelta(days=1))
    certification = CertificationFactory(name="Developer")
    for person in (member, former, outsider):
        CredentialFactory(person=person, certification=certification, issued_at=at(2026, 1))
    data = s.certifications_issued_by_month(scope=s.Scope.of(partner), period=PERIOD)
    assert sum(data.counts["Developer"]) == 1


# --- charts -------------------------------------------------------------------------------


def test_charts_escape_text_and_carry_title_description_and_legend():
    svg = charts.line_chart(
        chart_id="c1",
        title="<script>alert(1)</script>",
        desc='A "quoted" & described chart',
        categories=["Jan", "Feb"],
        series=[charts.Series("<b>A</b>", [1, 2]), charts.Series("B", [None, 3])],
        y_label="Count (people)",
        x_label="Month",
    )
    assert "<script>" not in svg and "&lt;script&gt;" in svg
    assert '<title id="c1-title">' in svg and '<desc id="c1-desc">' in svg
    assert 'role="img"' in svg and "&lt;b&gt;A&lt;/b&gt;" in svg
    assert "style=" not in svg and "<style" not in svg
    assert 'stroke-dasharray="8 4"' in svg  # the second series is dashed


def test_charts_refuse_more_than_six_series():
    with pytest.raises(ValueError):
        charts.bar_chart(
            chart_id="c",
            title="t",
            desc="d",
            categories=["a"],
            series=[charts.Series(str(i), [i]) for i in range(7)],
            y_label="y",
            x_label="x",
        )


@pytest.mark.parametrize(("value", "top"), [(0, 4), (3, 4), (5, 8), (33, 40), (99, 100)])
def test_count_axes_end_on_whole_steps(value, top):
    assert charts.nice_max(value) == top


# --- pages and CSVs -------------------------------------------------------------------------


def test_staff_see_the_programme_page_with_every_chart(client, staff_user):
    client.force_login(staff_user, backend=MODEL_BACKEND)
    response = client.get("/partners/staff/analytics/")
    assert response.status_code == 200
    html = response.content.decode()
    for key in reports.REPORTS:
        assert f'id="{key}"' in html
        assert f"/partners/staff/analytics/{key}.csv?start=" in html
    assert "<style" not in html and " style=" not in html
    assert html.count("<details") == len(reports.REPORTS)


def test_people_who_are_not_staff_get_404(client):
    client.force_login(UserFactory(), backend=MODEL_BACKEND)
    assert client.get("/partners/staff/analytics/").status_code == 404
    assert client.get("/partners/staff/analytics/funnel.csv").status_code == 404


def test_a_partner_admin_sees_their_company_and_not_another(client):
    admin = PartnerAdminFactory()
    other = PartnerFactory()
    client.force_login(admin.person, backend=MODEL_BACKEND)
    own = client.get(f"/partners/{admin.partner.slug}/analytics/")
    assert own.status_code == 200
    assert 'id="partners-by-status"' not in own.content.decode()  # programme-wide only
    assert client.get(f"/partners/{other.slug}/analytics/").status_code == 404
    assert client.get(f"/partners/{other.slug}/analytics/funnel.csv").status_code == 404
    assert client.get("/partners/no-such-partner/analytics/").status_code == 404


def test_an_employee_gets_404_for_their_own_company(client):
    member = MembershipFactory()
    client.force_login(member.person, backend=MODEL_BACKEND)
    assert client.get(f"/partners/{member.partner.slug}/analytics/").status_code == 404


@pytest.mark.parametrize(
    "query",
    [
        "start=2026-02-01&end=2026-01-01",
        "start=2019-01-01&end=2026-01-01",
        "start=not-a-date&end=2026-01-01",
        "start=2026-01-01&end=99999-01-01",
    ],
)
def test_a_bad_period_is_shown_on_the_page_and_refused_for_the_csv(client, staff_user, query):
    client.force_login(staff_user, backend=MODEL_BACKEND)
    page = client.get(f"/partners/staff/analytics/?{query}")
    assert page.status_code == 400
    assert 'role="alert"' in page.content.decode() or "field__errors" in page.content.decode()
    assert "chart__svg" not in page.content.decode()
    download = client.get(f"/partners/staff/analytics/funnel.csv?{query}")
    assert download.status_code == 400
    assert download.content.decode().startswith("invalid_date_range")


def test_reversed_period_message_is_clear(client, staff_user):
    client.force_login(staff_user, backend=MODEL_BACKEND)
    page = client.get("/partners/staff/analytics/?start=2026-02-01&end=2026-01-01")
    assert "The start date is after the end date." in page.content.decode()


def test_an_unknown_chart_csv_is_404(client, staff_user):
    client.force_login(staff_user, backend=MODEL_BACKEND)
    assert client.get("/partners/staff/analytics/nothing.csv").status_code == 404
    admin = PartnerAdminFactory()
    client.force_login(admin.person, backend=MODEL_BACKEND)
    # Programme-wide charts are not offered to a partner.
    url = f"/partners/{admin.partner.slug}/analytics/partners-by-status.csv"
    assert client.get(url).status_code == 404


def test_every_chart_downloads_as_csv_with_the_table_headers(client, staff_user):
    PartnerFactory(name="=HYPERLINK(1)", status="active")
    client.force_login(staff_user, backend=MODEL_BACKEND)
    for key in reports.REPORTS:
        response = client.get(
            f"/partners/staff/analytics/{key}.csv?start=2025-01-01&end=2026-06-30"
        )
        assert response.status_code == 200, key
        assert response["Content-Type"].startswith("text/csv")
        assert f"programme-{key}-2025-01-01-2026-06-30.csv" in response["Content-Disposition"]
        rows = list(csv.reader(io.StringIO(response.content.decode())))
        assert rows[0], key


def test_the_at_risk_csv_lists_every_track_and_neutralises_formulas(client, staff_user):
    now = timezone.now()
    for i in range(3):
        TrackStatusRecord.objects.create(
            partner=PartnerFactory(name=f"=cmd{i}"),
            track="technology",
            state="at_risk",
            verified=True,
            at_risk_until=now + timedelta(days=i + 1),
            computed_at=now,
            changed_at=now,
        )
    client.force_login(staff_user, backend=MODEL_BACKEND)
    rows = list(
        csv.reader(
            io.StringIO(client.get("/partners/staff/analytics/at-risk.csv").content.decode())
        )
    )
    assert [r[0] for r in rows[1:]] == ["'=cmd0", "'=cmd1", "'=cmd2"]


# --- the query count does not grow with the data -----------------------------------------------


def _grow(n, certification, course, admin_partner):
    """n partners with a member each, their credentials, attempts, enrolments and
    history; and n more members of `admin_partner` with the same records."""
    now = timezone.now()
    for _ in range(n):
        person = MembershipFactory(partner=admin_partner).person
        CredentialFactory(person=person, certification=certification, issued_at=now)
        passed_attempt(person=person, exam=certification.exam, at=now - timedelta(days=1))
        EnrolmentFactory(person=person, course=course, enrolled_at=now - timedelta(days=2))
    for i in range(n):
        partner = PartnerFactory()
        person = MembershipFactory(partner=partner).person
        CredentialFactory(
            person=person, certification=certification, issued_at=now - timedelta(days=30 + i)
        )
        passed_attempt(person=person, exam=certification.exam, at=now - timedelta(days=40 + i))
        EnrolmentFactory(person=person, course=course, enrolled_at=now - timedelta(days=50 + i))
        _change(partner, "technology", "", "verified", now - timedelta(days=60 + i))
        TrackStatusRecord.objects.create(
            partner=partner,
            track="technology",
            state="at_risk",
            verified=True,
            at_risk_until=now + timedelta(days=i + 1),
            computed_at=now,
            changed_at=now,
        )


# Session, user, staff check; then the reports: issued 1, pass rates 1, expiring 1,
# partners by status 1 (staff only), verified tracks 2, at risk 2, funnel 1 + 1 per
# certification. A partner's page adds the partner and the admin check.
EXPECTED_STAFF_QUERIES = 13
EXPECTED_PARTNER_QUERIES = 14


def _count(client, url):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return len(queries)


def test_the_page_query_count_does_not_grow_with_partners_or_people(client, staff_user):
    certification, (course, _) = _path()
    admin = PartnerAdminFactory()
    staff_page, partner_page = (
        "/partners/staff/analytics/",
        f"/partners/{admin.partner.slug}/analytics/",
    )
    _grow(2, certification, course, admin.partner)
    client.force_login(staff_user, backend=MODEL_BACKEND)
    small = _count(client, staff_page)
    client.force_login(admin.person, backend=MODEL_BACKEND)
    partner_small = _count(client, partner_page)
    _grow(12, certification, course, admin.partner)
    client.force_login(staff_user, backend=MODEL_BACKEND)
    assert _count(client, staff_page) == small
    client.force_login(admin.person, backend=MODEL_BACKEND)
    assert _count(client, partner_page) == partner_small
    assert (small, partner_small) == (EXPECTED_STAFF_QUERIES, EXPECTED_PARTNER_QUERIES)
