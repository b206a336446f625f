"""Oversight reads across every procedure: the report for a period and its XLSX export.

(The one module of core that reads the procedures' models: oversight is about all of them.)"""

from __future__ import annotations

import io
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from django.contrib.contenttypes.prefetch import GenericPrefetch
from django.db.models import Count, Model, QuerySet
from django.utils.translation import gettext as _

from core import calendar
from core.calendar import MOSCOW, moscow_date
from core.models import Deadline
from core.selectors import deadline_list_open
from core.services import deadline_kind_label


@dataclass(frozen=True)
class Share:
    """A share of a whole: a page shows it as a percentage, the XLSX stores the number (0.5) with a
    percent format, so that a spreadsheet can compute with it."""

    ratio: float

    def __str__(self) -> str:
        return f"{self.ratio:.0%}"


@dataclass
class Report:
    start: date
    end: date
    rows: list[tuple[str, Any]] = field(default_factory=list)  # (label, value) in sections
    sections: list[tuple[str, list[tuple[str, Any]]]] = field(default_factory=list)
    scores: list[int] = field(default_factory=list)  # histogram: count of attempts by score
    on_time: list[tuple[str, int, int]] = field(default_factory=list)  # (procedure, on time, fell due)


def _span(start: date, end: date) -> tuple[datetime, datetime]:
    return (
        datetime.combine(start, time.min, tzinfo=MOSCOW),
        datetime.combine(end + timedelta(days=1), time.min, tzinfo=MOSCOW),
    )


def period_report(*, start: date, end: date) -> Report:
    """Applications, admissions and refusals by ground, pass rate and score distribution,
    certificates issued and annulled, appeals and complaints by outcome, and the share of each
    procedure done within its deadline, for the period [start, end]."""
    from appeals.models import Appeal, Complaint
    from exam.models import Application, Attempt, Decision
    from registry.models import Certificate

    since, until = _span(start, end)
    report = Report(start=start, end=end)

    applications = Application.objects.filter(received_at__gte=since, received_at__lt=until)
    decisions = Decision.objects.filter(state=Decision.State.SIGNED, signed_at__gte=since, signed_at__lt=until)
    grounds: Counter[str] = Counter()
    for decision in decisions.filter(kind=Decision.Kind.REFUSAL):
        grounds.update(decision.grounds)
    ground_labels = dict(Decision.Ground.choices)
    report.sections.append(
        (
            _("Заявления и допуск"),
            [
                (_("Поступило заявлений"), applications.count()),
                (_("Зарегистрировано"), applications.filter(registration_number__isnull=False).count()),
                (
                    _("Отказано в приёме документов"),
                    applications.filter(status=Application.Status.NOT_ACCEPTED).count(),
                ),
                (_("Допущено к испытанию"), decisions.filter(kind=Decision.Kind.ADMISSION).count()),
                (_("Отказано в допуске"), decisions.filter(kind=Decision.Kind.REFUSAL).count()),
                *[(f"— {ground_labels.get(g, g)}", n) for g, n in sorted(grounds.items())],
            ],
        )
    )

    attempts = Attempt.objects.filter(status=Attempt.Status.FINISHED, finished_at__gte=since, finished_at__lt=until)
    total = attempts.count()
    passed = attempts.filter(passed=True).count()
    scores = Counter(attempts.values_list("score", flat=True))
    top = max([40, *[s for s in scores if s is not None]])
    report.scores = [scores.get(s, 0) for s in range(top + 1)]
    report.sections.append(
        (
            _("Аттестационное испытание"),
            [
                (_("Завершено попыток"), total),
                (_("Испытание пройдено"), passed),
                (_("Доля успешных"), Share(passed / total) if total else "—"),
            ],
        )
    )

    issued = Certificate.objects.filter(issued_on__gte=start, issued_on__lte=end)
    report.sections.append(
        (
            _("Сертификаты и реестр"),
            [
                (_("Выдано сертификатов"), issued.filter(decision__isnull=False).count()),
                (_("Аннулировано"), Certificate.objects.filter(annulled_on__gte=start, annulled_on__lte=end).count()),
            ],
        )
    )

    appeals = Appeal.objects.filter(received_at__gte=since, received_at__lt=until)
    complaints = Complaint.objects.filter(received_at__gte=since, received_at__lt=until)
    report.sections.append(
        (
            _("Апелляции и жалобы"),
            [
                (_("Апелляций подано"), appeals.count()),
                *[
                    (f"— {Appeal.Status(s).label}", n)
                    for s, n in appeals.values_list("status").annotate(n=Count("id")).order_by("status")
                ],
                (_("Жалоб подано"), complaints.count()),
                *[
                    (f"— {Complaint.Status(s).label}", n)
                    for s, n in complaints.values_list("status").annotate(n=Count("id")).order_by("status")
                ],
            ],
        )
    )

    # Each term that fell due in the period: met when its step was done by the end of the due day,
    # Moscow time; missed when done later or still open after it. A term still running is not
    # decided yet, and a cancelled one (its decision superseded) was never to be done: both left out.
    today = calendar.today()
    tally: dict[str, list[int]] = {}
    due = Deadline.objects.filter(due_on__gte=start, due_on__lte=end, cancelled_at__isnull=True)
    for kind, due_on, completed_at in due.values_list("kind", "due_on", "completed_at").iterator():
        if completed_at is None and today <= due_on:
            continue
        counts = tally.setdefault(kind, [0, 0])
        counts[0] += completed_at is not None and moscow_date(completed_at) <= due_on
        counts[1] += 1
    report.on_time = sorted((deadline_kind_label(kind), ok, total) for kind, (ok, total) in tally.items())
    return report


def report_xlsx(report: Report) -> bytes:
    """The report as a workbook: numbers stored as numbers (shares with a percent format), and the
    charts of the page (the score distribution, the terms met) as Excel charts."""
    from openpyxl import Workbook
    from openpyxl.chart import Reference
    from openpyxl.chart.label import DataLabelList

    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = "report"
    sheet.append([_("Отчёт за период"), report.start, report.end])
    for cell in sheet[1][1:]:
        cell.number_format = "DD.MM.YYYY"
    for title, rows in report.sections:
        sheet.append([])
        sheet.append([title])
        for label, value in rows:
            if isinstance(value, Share):
                sheet.append([str(label), value.ratio])
                sheet.cell(row=sheet.max_row, column=2).number_format = "0%"
            else:
                sheet.append([str(label), value])
    sheet.append([])
    sheet.append([_("Соблюдение сроков"), _("в срок"), _("всего"), _("доля")])
    terms_first = sheet.max_row + 1
    for label, on_time, total in report.on_time:
        sheet.append([label, on_time, total, on_time / total if total else None])
        sheet.cell(row=sheet.max_row, column=4).number_format = "0%"
    sheet.column_dimensions["A"].width = 60
    if report.on_time:
        chart = _bar_chart(title=_("Соблюдение сроков"), x_title="", y_title=_("доля"))
        chart.type = "bar"
        chart.add_data(
            Reference(sheet, min_col=4, min_row=terms_first - 1, max_row=sheet.max_row), titles_from_data=True
        )
        chart.set_categories(Reference(sheet, min_col=1, min_row=terms_first, max_row=sheet.max_row))
        chart.y_axis.number_format = "0%"
        chart.y_axis.scaling.min, chart.y_axis.scaling.max = 0, 1
        sheet.add_chart(chart, f"F{terms_first}")
    scores = workbook.create_sheet("scores")
    scores.append([_("Правильных ответов"), _("Попыток")])
    for score, count in enumerate(report.scores):
        scores.append([score, count])
    chart = _bar_chart(
        title=_("Распределение результатов испытания"), x_title=_("Правильных ответов"), y_title=_("Попыток")
    )
    chart.add_data(Reference(scores, min_col=2, min_row=1, max_row=scores.max_row), titles_from_data=True)
    chart.set_categories(Reference(scores, min_col=1, min_row=2, max_row=scores.max_row))
    chart.dataLabels = DataLabelList()
    chart.dataLabels.showVal = True
    scores.add_chart(chart, "D2")
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _bar_chart(*, title: str, x_title: str, y_title: str) -> Any:
    from openpyxl.chart import BarChart

    chart = BarChart()
    chart.title = title
    chart.x_axis.title = x_title or None
    chart.y_axis.title = y_title
    chart.legend = None
    # openpyxl hides both axes unless told (its default ``delete`` is true in recent versions).
    chart.x_axis.delete = False
    chart.y_axis.delete = False
    chart.width, chart.height = 24, 10
    return chart


@dataclass(frozen=True)
class RemedyDue:
    """A remedy of an upheld complaint still to be carried out (p.89): its term, the complaint, the
    case it acts on and that case's stage."""

    deadline: Deadline
    complaint: Any
    application: Any
    stage: Any


def complaint_remedies_due() -> list[RemedyDue]:
    """Every remedy of an upheld complaint not done yet, by due date (the overdue first): its term is
    open until the remedy's own service completes (appeals.services.complaint_remedy_carry_out, the
    certificate's issue) or, for a remedy without one, the note of what was done. A few queries."""
    from appeals.models import Complaint
    from appeals.selectors import DEADLINE_COMPLAINT_REMEDY
    from exam.admission.selectors import application_stages

    deadlines = list(deadline_list_open().filter(kind=DEADLINE_COMPLAINT_REMEDY))
    complaints = Complaint.objects.select_related("related_application").in_bulk([d.case_id for d in deadlines])
    applications = [c.related_application for c in complaints.values() if c.related_application is not None]
    stages = application_stages(applications)
    rows = []
    for deadline in deadlines:
        complaint = complaints.get(deadline.case_id)
        if complaint is None:
            continue
        application = complaint.related_application
        stage = stages.get(application.pk) if application is not None else None
        rows.append(RemedyDue(deadline=deadline, complaint=complaint, application=application, stage=stage))
    return rows


def open_cases() -> QuerySet[Deadline]:
    """Every open case of every procedure, by deadline: the oversight dashboard, read a page at a
    time. The earliest due first, then by id (deadline_list_open), a total order, so that no row
    is on two pages or on none. Each page fetches its cases together, whatever the procedure: a
    few queries a page, whatever its length."""
    from registry.models import AttestationDecision

    # The name of a decision is its applicant's: fetched with it, not row by row.
    querysets: list[QuerySet[Model]] = [AttestationDecision.objects.select_related("application")]
    return deadline_list_open().prefetch_related(GenericPrefetch("case", querysets))
