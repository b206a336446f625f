"""Bounds of the dates people type, by what the date means, with the Russian message for each.

Each check returns the problem (None when the date is sensible); forms turn it into a field error
(``validator``) and services into a DomainError on the field (``date_argument``), so the page, the
API and a service called on its own refuse the same dates with the same words."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import Any

from dateutil.relativedelta import relativedelta
from django import forms
from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from core import calendar
from core.errors import DomainError

# The earliest and latest dates any date input may carry: arithmetic on them never overflows, and
# the calendar and the database handle them.
EARLIEST_INPUT = date(1900, 1, 1)
LATEST_INPUT = date(2200, 12, 31)


def document_date_earliest(today: date | None = None) -> date:
    """The earliest issue date of a document or start of experience: DOCUMENT_DATE_MAX_YEARS (80)
    years before today."""
    return (today or calendar.today()) - relativedelta(years=settings.DOCUMENT_DATE_MAX_YEARS)


def document_date_problem(value: date | None) -> str | None:
    """An issue date of a document, or a date of practical experience: not in the future and within
    the last DOCUMENT_DATE_MAX_YEARS years."""
    if value is None:
        return None
    today = calendar.today()
    if value > today:
        return _("Дата не может быть в будущем.")
    earliest = document_date_earliest(today)
    if value < earliest:
        return ngettext(
            "Проверьте дату: она раньше %(d)s (более %(n)d года назад).",
            "Проверьте дату: она раньше %(d)s (более %(n)d лет назад).",
            settings.DOCUMENT_DATE_MAX_YEARS,
        ) % {
            "d": earliest.strftime("%d.%m.%Y"),
            "n": settings.DOCUMENT_DATE_MAX_YEARS,
        }
    return None


def paper_receipt_problem(value: datetime | None) -> str | None:
    """When a document on paper was received (an application or a complaint, p.27, p.86): not in
    the future and not more than PAPER_RECEIVED_MAX_DAYS days ago (older is a typing error)."""
    if value is None:
        return None
    now = timezone.now()
    if value > now:
        return _("Время поступления не может быть в будущем.")
    if value < now - timedelta(days=settings.PAPER_RECEIVED_MAX_DAYS):
        return ngettext(
            "Время поступления не может быть раньше чем %(n)d день назад: проверьте дату.",
            "Время поступления не может быть раньше чем %(n)d дней назад: проверьте дату.",
            settings.PAPER_RECEIVED_MAX_DAYS,
        ) % {"n": settings.PAPER_RECEIVED_MAX_DAYS}
    return None


def sitting_start_problem(value: datetime | None) -> str | None:
    """The start of a sitting of the test: in the future, and not more than SITTING_MAX_DAYS_AHEAD
    days ahead (a year typed wrong)."""
    if value is None:
        return None
    now = timezone.now()
    if value <= now:
        return _("Сеанс назначается на будущее время.")
    if value > now + timedelta(days=settings.SITTING_MAX_DAYS_AHEAD):
        return ngettext(
            "Сеанс назначается не более чем на %(n)d день вперёд: проверьте дату.",
            "Сеанс назначается не более чем на %(n)d дней вперёд: проверьте дату.",
            settings.SITTING_MAX_DAYS_AHEAD,
        ) % {"n": settings.SITTING_MAX_DAYS_AHEAD}
    return None


def input_date_problem(value: date | datetime | None) -> str | None:
    """Any date typed in (a filter of a report, a query parameter): between 1900 and 2200."""
    if value is None:
        return None
    day = value.date() if isinstance(value, datetime) else value
    if not EARLIEST_INPUT <= day <= LATEST_INPUT:
        return _("Проверьте дату: допустимы даты с %(a)s по %(b)s.") % {
            "a": EARLIEST_INPUT.strftime("%d.%m.%Y"),
            "b": LATEST_INPUT.strftime("%d.%m.%Y"),
        }
    return None


def validator(problem: Callable[[Any], str | None]) -> Callable[[Any], None]:
    """A form field validator from one of the checks above."""

    def validate(value: Any) -> None:
        message = problem(value)
        if message:
            raise forms.ValidationError(message, code="date_out_of_range")

    validate.__name__ = f"validate_{problem.__name__}"
    return validate


def moment_field(label: Any, problem: Callable[[Any], str | None] = input_date_problem) -> forms.DateTimeField:
    """A form field of a date and time typed in (a datetime-local input), bounded by ``problem``."""
    return forms.DateTimeField(
        label=label,
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%d.%m.%Y %H:%M"],
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        validators=[validator(problem)],
        error_messages={"invalid": gettext_lazy("Введите дату и время в формате ДД.ММ.ГГГГ ЧЧ:ММ.")},
    )


def date_field(
    label: Any, problem: Callable[[Any], str | None] = input_date_problem, *, required: bool = True
) -> forms.DateField:
    """A form field of a date typed in (a date input, or ДД.ММ.ГГГГ), bounded by ``problem``."""
    return forms.DateField(
        label=label,
        required=required,
        input_formats=["%Y-%m-%d", "%d.%m.%Y"],
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        validators=[validator(problem)],
        error_messages={"invalid": gettext_lazy("Введите дату в формате ДД.ММ.ГГГГ.")},
    )


def date_argument(value: Any, *, field: str, problem: Callable[[Any], str | None]) -> None:
    """One of the checks above, for a service: a DomainError on ``field``."""
    message = problem(value)
    if message:
        raise DomainError(message, code="date_out_of_range", fields={field: [message]})
