"""Programme analytics pages and their CSV downloads.

- GET /partners/staff/analytics/                programme staff: the whole programme.
- GET /partners/staff/analytics/<chart>.csv
- GET /partners/<slug>/analytics/               that partner's current admins and staff:
- GET /partners/<slug>/analytics/<chart>.csv    the same figures for its current members.

Everyone else gets 404. `?start=YYYY-MM-DD&end=YYYY-MM-DD` chooses the period
(default: the last 24 months); a reversed period, one longer than five years
or an unreadable date is shown on the page with status 400, and a CSV asked
for with one is refused with 400 and the reason as text.
"""

import csv

from django import forms
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from lms import permissions
from lms.errors import DomainError

from ..models import Partner
from . import reports
from .selectors import DateRange, Scope, date_range_check, default_date_range


class PeriodForm(forms.Form):
    start = forms.DateField(
        label="From", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    end = forms.DateField(
        label="To", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )

    def __init__(self, *args, today, **kwargs):
        super().__init__(*args, **kwargs)
        self.default = default_date_range(today=today)

    def clean(self):
        data = super().clean()
        if self.errors:
            return data
        start = data.get("start") or self.default.start
        end = data.get("end") or (
            self.default.end if not data.get("start") else max(start, self.default.end)
        )
        try:
            data["period"] = date_range_check(start=start, end=end)
        except DomainError as error:
            raise forms.ValidationError(error.message, code=error.code) from error
        return data


def _period(request) -> tuple[PeriodForm, DateRange | None]:
    today = timezone.localdate()
    if not ({"start", "end"} & set(request.GET)):
        form = PeriodForm(today=today)
        period = form.default
        form.initial = {"start": period.start, "end": period.end}
        return form, period
    form = PeriodForm(request.GET, today=today)
    if not form.is_valid():
        return form, None
    return form, form.cleaned_data["period"]


def _scope(request, slug: str | None) -> Scope:
    if slug is None:
        if not permissions.is_programme_staff(request.user):
            raise Http404("Not found.")
        return Scope.programme()
    partner = Partner.objects.filter(slug=slug).first()
    if partner is None or not permissions.can(request.user, "partner.view", partner):
        raise Http404("No such partner.")
    return Scope.of(partner)


def _csv_url(scope: Scope, key: str, period: DateRange) -> str:
    if scope.partner is None:
        url = reverse("partners_analytics:staff_csv", kwargs={"chart": key})
    else:
        url = reverse(
            "partners_analytics:partner_csv", kwargs={"slug": scope.partner.slug, "chart": key}
        )
    return f"{url}?start={period.start.isoformat()}&end={period.end.isoformat()}"


@never_cache
@login_required
@require_GET
def analytics(request, slug: str | None = None):
    scope = _scope(request, slug)
    form, period = _period(request)
    context = {"form": form, "scope": scope, "partner": scope.partner, "period": period}
    if period is None:
        return render(request, "partners/analytics/page.html", context, status=400)
    found = reports.build_all(scope=scope, period=period, now=timezone.now())
    context["reports"] = [(report, _csv_url(scope, report.key, period)) for report in found]
    return render(request, "partners/analytics/page.html", context)


def _csv_safe(value) -> str:
    # Spreadsheet formula injection: a cell starting with = + - @ runs as a formula.
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


@never_cache
@login_required
@require_GET
def analytics_csv(request, chart: str, slug: str | None = None):
    scope = _scope(request, slug)
    form, period = _period(request)
    if period is None:
        messages = [str(e) for errors in form.errors.values() for e in errors]
        return HttpResponse(
            "invalid_date_range: " + " ".join(messages) + "\n",
            status=400,
            content_type="text/plain; charset=utf-8",
        )
    report = reports.build_csv(chart, scope=scope, period=period, now=timezone.now())
    if report is None:
        raise Http404("No such chart.")
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    owner = scope.partner.slug if scope.partner else "programme"
    name = f"{owner}-{chart}-{period.start.isoformat()}-{period.end.isoformat()}.csv"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    writer = csv.writer(response)
    writer.writerow(report.headers)
    for row in report.rows:
        writer.writerow([_csv_safe(value) for value in row])
    return response
