"""Oversight: one dashboard of all open cases by deadline, and the report for a period."""

from __future__ import annotations

from datetime import date, timedelta

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _

from core import calendar, dates
from core.db import on_replica
from core.roles import Role
from frontend.views.common import PER_PAGE, page_of, staff_required
from oversight.reports import complaint_remedies_due, open_cases, period_report, report_xlsx

# The page size of the staff lists, under a name of its own so that a test can page a few cases.
OPEN_CASES_PER_PAGE = PER_PAGE


@staff_required()
def oversight(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "frontend/staff/oversight.html",
        {"page": page_of(request, open_cases(), OPEN_CASES_PER_PAGE), "remedies": complaint_remedies_due()},
    )


def _period(request: HttpRequest) -> tuple[date, date, str]:
    today = calendar.today()
    start = calendar.parse_day(request.GET.get("from", ""))
    end = calendar.parse_day(request.GET.get("to", ""))
    error = ""
    if (request.GET.get("from") and start is None) or (request.GET.get("to") and end is None):
        error = _("Укажите даты в формате ГГГГ-ММ-ДД.")
    out_of_range = dates.input_date_problem(start) or dates.input_date_problem(end)
    if out_of_range:  # a year 1 or 9999 would overflow the period arithmetic below
        error, start, end = out_of_range, None, None
    start = start or today.replace(day=1)
    end = end or today
    if end < start:
        error = _("Начало периода позже его конца.")
        start, end = end, start
    if end - start > timedelta(days=3700):
        error = _("Период не длиннее 10 лет.")
        start = end - timedelta(days=3700)
    return start, end, error


@staff_required(Role.AUDITOR, Role.SIGNATORY, Role.COMPLAINT_HANDLER, Role.CERTIFICATE_OFFICER, Role.REGISTRAR)
def report(request: HttpRequest) -> HttpResponse:
    start, end, error = _period(request)
    data = on_replica(lambda: period_report(start=start, end=end))
    if request.GET.get("format") == "xlsx" and not error:
        response = HttpResponse(
            report_xlsx(data), content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        )
        response["Content-Disposition"] = f'attachment; filename="report-{start}-{end}.xlsx"'
        return response
    peak = max(data.scores) if data.scores else 0
    bars = [(score, count, int(100 * count / peak) if peak else 0) for score, count in enumerate(data.scores)]
    on_time = [(label, ok, total, int(100 * ok / total) if total else 0) for label, ok, total in data.on_time]
    return render(
        request,
        "frontend/staff/report.html",
        {"report": data, "bars": bars, "peak": peak, "on_time": on_time, "error": error},
    )
