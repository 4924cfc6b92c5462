"""The analytics page's charts: selector data turned into titled SVG charts and tables.

Contract: `build(key, scope=, period=, now=)` returns one `Report` (its
queries are its selector's); `build_all` the page's reports in order. Every
report has a title, a description (the chart's <desc> and the visible
caption), one or more SVG figures (partners.analytics.charts) and a table of
the same figures for screen readers and the CSV download.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime

from django.utils.safestring import SafeString, mark_safe

from . import charts
from . import selectors as s


@dataclass
class Figure:
    chart_id: str
    title: str
    svg: SafeString


@dataclass
class Report:
    key: str
    title: str
    description: str
    headers: list[str]
    rows: list[list[object]]
    figures: list[Figure] = field(default_factory=list)
    note: str = ""
    page_rows: int | None = None  # rows shown on the page when the CSV holds more
    table_open: bool = False  # the table is the point (names and dates), not a fallback

    @property
    def shown_rows(self) -> list[list[object]]:
        return self.rows if self.page_rows is None else self.rows[: self.page_rows]


def _label(month: date) -> str:
    return month.strftime("%b %Y")


def _pct(value: float | None) -> str:
    return "" if value is None else f"{value:.1f}"


def _svg(markup: str) -> SafeString:
    # charts.* escape every text they are given.
    return mark_safe(markup)  # noqa: S308


def _period_text(period: s.DateRange) -> str:
    start, end = period.start, period.end
    return f"{start.day} {start:%b %Y} to {end.day} {end:%b %Y}"


def certifications_issued(*, scope, period, now) -> Report:
    data = s.certifications_issued_by_month(scope=scope, period=period)
    names = data.names[: charts.MAX_SERIES]
    title = "Certifications issued per month"
    desc = (
        f"Credentials issued each month from {_period_text(period)}, one line per "
        f"certification. Total: {sum(sum(v) for v in data.counts.values()):,}."
    )
    svg = charts.line_chart(
        chart_id="chart-issued",
        title=title,
        desc=desc,
        categories=[_label(m) for m in data.months],
        series=[charts.Series(n, data.counts[n]) for n in names],
        y_label="Credentials issued (count)",
        x_label="Month of issue",
    )
    rows = [
        [m.isoformat()[:7]] + [data.counts[n][i] for n in data.names]
        for i, m in enumerate(data.months)
    ]
    return Report(
        "certifications-issued",
        title,
        desc,
        ["Month", *data.names],
        rows,
        [Figure("chart-issued", title, _svg(svg))],
        note=""
        if len(data.names) <= charts.MAX_SERIES
        else "The chart shows the first six certifications; the table has all.",
    )


def exam_pass_rates(*, scope, period, now) -> Report:
    exams = s.exam_pass_rates_by_month(scope=scope, period=period)
    title = "Exam pass rate per month"
    desc = (
        f"For each exam, the share of attempts finished each month from {_period_text(period)} "
        "that passed, and the same for people's first attempt at that exam."
    )
    figures, rows = [], []
    months = period.months
    for exam in exams:
        chart_id = f"chart-exam-{exam.exam_id}"
        exam_title = f"{exam.title}: pass rate per month"
        exam_desc = (
            f"{exam.title}: {exam.attempts:,} attempts finished from {_period_text(period)}. "
            "Solid line: all attempts; dashed line: first attempts. "
            "Months without attempts are gaps."
        )
        svg = charts.line_chart(
            chart_id=chart_id,
            title=exam_title,
            desc=exam_desc,
            categories=[_label(m) for m in months],
            series=[
                charts.Series("All attempts", [m.pass_rate for m in exam.months]),
                charts.Series("First attempts", [m.first_pass_rate for m in exam.months]),
            ],
            y_label="Passed (% of attempts)",
            x_label="Month the attempt finished",
            percent=True,
        )
        figures.append(Figure(chart_id, exam_title, _svg(svg)))
        for m in exam.months:
            if m.attempts:
                rows.append(
                    [
                        exam.title,
                        m.month.isoformat()[:7],
                        m.attempts,
                        m.passed,
                        _pct(m.pass_rate),
                        m.first_attempts,
                        m.first_passed,
                        _pct(m.first_pass_rate),
                    ]
                )
    return Report(
        "exam-pass-rates",
        title,
        desc,
        [
            "Exam",
            "Month",
            "Attempts",
            "Passed",
            "Pass rate (%)",
            "First attempts",
            "First attempts passed",
            "First-attempt pass rate (%)",
        ],
        rows,
        figures,
        note="" if exams else "No attempt was finished in this period.",
    )


def credentials_expiring(*, scope, period, now) -> Report:
    data = s.credentials_expiring(scope=scope, now=now)
    title = "Credentials expiring soon"
    windows = s.EXPIRY_WINDOWS
    desc = (
        f"Active credentials that expire within {windows[0]} and within {windows[1]} days "
        f"of today, per certification (the {windows[1]}-day figure includes the "
        f"{windows[0]}-day one). This chart looks ahead from today, whatever the period."
    )
    svg = charts.bar_chart(
        chart_id="chart-expiring",
        title=title,
        desc=desc,
        categories=[e.certification for e in data] or ["—"],
        series=[
            charts.Series(f"Within {d} days", [e.within[d] for e in data] or [None])
            for d in windows
        ],
        y_label="Credentials (count)",
        x_label="Certification",
    )
    rows = [[e.certification, *(e.within[d] for d in windows)] for e in data]
    return Report(
        "credentials-expiring",
        title,
        desc,
        ["Certification", *(f"Expiring within {d} days" for d in windows)],
        rows,
        [Figure("chart-expiring", title, _svg(svg))],
    )


def partners_by_status(*, scope, period, now) -> Report:
    data = s.partners_by_status()
    title = "Partners by status"
    desc = f"Partner companies in each status today: {sum(n for _, _, n in data):,} in all."
    svg = charts.bar_chart(
        chart_id="chart-status",
        title=title,
        desc=desc,
        categories=[label for _, label, _ in data],
        series=[charts.Series("Partners", [n for _, _, n in data])],
        y_label="Partners (count)",
        x_label="Status",
    )
    return Report(
        "partners-by-status",
        title,
        desc,
        ["Status", "Partners"],
        [[label, n] for _, label, n in data],
        [Figure("chart-status", title, _svg(svg))],
    )


def verified_tracks(*, scope, period, now) -> Report:
    data = s.verified_tracks_by_month(scope=scope, period=period)
    title = "Verified tracks over time"
    who = "partners" if scope.partner is None else f"{scope.partner.name}"
    desc = (
        f"Tracks on which {who} were verified (at risk included: still in their grace "
        f"period) at the end of each month from {_period_text(period)}, one line per "
        "track, from the track status history."
    )
    svg = charts.line_chart(
        chart_id="chart-verified",
        title=title,
        desc=desc,
        categories=[_label(m) for m in data.months],
        series=[charts.Series(label, data.counts[t]) for t, label in data.tracks],
        y_label="Verified (partners per track)",
        x_label="End of month",
    )
    rows = [
        [m.isoformat()[:7]] + [data.counts[t][i] for t, _ in data.tracks]
        for i, m in enumerate(data.months)
    ]
    return Report(
        "verified-tracks",
        title,
        desc,
        ["Month", *(label for _, label in data.tracks)],
        rows,
        [Figure("chart-verified", title, _svg(svg))],
        note="" if data.tracks else "No track status has been computed yet.",
    )


def _at_risk(scope, period, now, limit) -> Report:
    data = s.at_risk_tracks(scope=scope, now=now, limit=limit)
    title = "At-risk partners and their grace deadlines"
    desc = (
        f"{data.total:,} tracks are at risk today: still verified, but below the "
        "required certified individuals until their grace deadline. Bars: tracks by "
        "time left until the deadline."
    )
    svg = charts.bar_chart(
        chart_id="chart-at-risk",
        title=title,
        desc=desc,
        categories=[label for label, _ in data.buckets],
        series=[charts.Series("At-risk tracks", [n for _, n in data.buckets])],
        y_label="Tracks (count)",
        x_label="Time left until the grace deadline",
    )
    rows = [
        [
            t.partner_name,
            t.track_label,
            t.grace_until.date().isoformat() if t.grace_until else "",
            "" if t.days_left is None else t.days_left,
            f"{t.certified_individuals} of {t.required}",
        ]
        for t in data.soonest
    ]
    note = ""
    if limit is not None and data.total > len(rows):
        note = f"The table lists the {len(rows)} soonest deadlines; the CSV has all {data.total:,}."
    return Report(
        "at-risk",
        title,
        desc,
        ["Partner", "Track", "Grace deadline", "Days left", "Certified individuals"],
        rows,
        [Figure("chart-at-risk", title, _svg(svg))],
        note=note,
        table_open=bool(rows),
    )


def at_risk(*, scope, period, now) -> Report:
    return _at_risk(scope, period, now, s.AT_RISK_LIST_LIMIT)


def at_risk_all(*, scope, period, now) -> Report:
    return _at_risk(scope, period, now, None)


def funnel(*, scope, period, now) -> Report:
    funnels = s.learner_funnels(scope=scope, period=period)
    steps = [label for _, label in s.FUNNEL_STEPS]
    title = "Learner funnel"
    desc = (
        f"People who first enrolled in a course of a certification's path from "
        f"{_period_text(period)}, and how many of them have since completed the path's "
        "courses, passed the exam, passed the project and been certified, per certification."
    )
    for f in funnels:
        gaps = [
            f"{'—' if days is None else f'{days:.1f}'} days to “{steps[k + 1].lower()}”"
            for k, days in enumerate(f.median_days)
        ]
        desc += f" {f.certification}, median: " + "; ".join(gaps) + "."
    shown = funnels[: charts.MAX_SERIES]
    svg = charts.bar_chart(
        chart_id="chart-funnel",
        title=title,
        desc=desc,
        categories=steps,
        series=[charts.Series(f.certification, f.counts) for f in shown],
        y_label="People (count)",
        x_label="Step reached",
    )
    rows = []
    for f in funnels:
        for k, step in enumerate(steps):
            median = f.median_days[k - 1] if k else None
            rows.append(
                [
                    f.certification,
                    step,
                    f.counts[k],
                    "" if median is None else f"{median:.1f}",
                ]
            )
    return Report(
        "funnel",
        title,
        desc,
        ["Certification", "Step", "People", "Median days since the previous step"],
        rows,
        [Figure("chart-funnel", title, _svg(svg))],
        note=(
            "Each step counts the people of the cohort who reached it; a median is taken "
            "over the people who reached both steps."
        ),
    )


Builder = Callable[..., Report]

# Page order. CSV downloads use the same keys (the at-risk CSV lists every track).
REPORTS: dict[str, Builder] = {
    "certifications-issued": certifications_issued,
    "exam-pass-rates": exam_pass_rates,
    "credentials-expiring": credentials_expiring,
    "partners-by-status": partners_by_status,
    "verified-tracks": verified_tracks,
    "at-risk": at_risk,
    "funnel": funnel,
}
CSV_BUILDERS: dict[str, Builder] = {**REPORTS, "at-risk": at_risk_all}
STAFF_ONLY = {"partners-by-status"}


def keys_for(scope: s.Scope) -> list[str]:
    return [k for k in REPORTS if scope.partner is None or k not in STAFF_ONLY]


def build_all(*, scope: s.Scope, period: s.DateRange, now: datetime) -> list[Report]:
    return [REPORTS[k](scope=scope, period=period, now=now) for k in keys_for(scope)]


def build_csv(key: str, *, scope: s.Scope, period: s.DateRange, now: datetime) -> Report | None:
    if key not in keys_for(scope):
        return None
    return CSV_BUILDERS[key](scope=scope, period=period, now=now)
