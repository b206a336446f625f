"""The three admission criteria of p.21(a), computed from the entries of the application.

Pure functions over plain values: the reviewer's file view, the API and the tests share them.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta

from dateutil.relativedelta import relativedelta
from django.utils.translation import gettext as _
from django.utils.translation import ngettext


@dataclass(frozen=True, order=True)
class Length:
    """A length of service in full years, months and days (30 days make a month, 12 months a year,
    as length of service is counted in Russian labour practice)."""

    years: int = 0
    months: int = 0
    days: int = 0

    def __str__(self) -> str:
        parts = []
        if self.years:
            parts.append(ngettext("%(n)d год", "%(n)d лет", self.years) % {"n": self.years})
        if self.months:
            parts.append(ngettext("%(n)d месяц", "%(n)d месяцев", self.months) % {"n": self.months})
        if self.days or not parts:
            parts.append(ngettext("%(n)d день", "%(n)d дней", self.days) % {"n": self.days})
        return " ".join(parts)


def merge_periods(periods: Iterable[tuple[date, date | None]], *, as_of: date) -> list[tuple[date, date]]:
    """Union of inclusive date ranges; an open end means "to date" (``as_of``). Overlapping and
    adjacent periods merge, so calendar time is counted once. Future parts are cut at ``as_of``."""
    clean = sorted((start, min(end or as_of, as_of)) for start, end in periods if start <= min(end or as_of, as_of))
    merged: list[tuple[date, date]] = []
    for start, end in clean:
        if merged and start <= merged[-1][1] + timedelta(days=1):
            if end > merged[-1][1]:
                merged[-1] = (merged[-1][0], end)
        else:
            merged.append((start, end))
    return merged


def experience_length(periods: Iterable[tuple[date, date | None]], *, as_of: date) -> Length:
    """The union of the periods as years, months and days. One continuous period is measured on the
    calendar; several are summed part by part, 30 days making a month and 12 months a year."""
    merged = merge_periods(periods, as_of=as_of)
    deltas = [relativedelta(end + timedelta(days=1), start) for start, end in merged]
    if len(deltas) == 1:
        return Length(deltas[0].years, deltas[0].months, deltas[0].days)
    years = sum(d.years for d in deltas)
    months = sum(d.months for d in deltas)
    days = sum(d.days for d in deltas)
    months += days // 30
    days %= 30
    years += months // 12
    months %= 12
    return Length(years, months, days)


@dataclass(frozen=True)
class Criterion:
    code: str
    label: str
    met: bool
    summary: str
    evidence: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Criteria:
    higher_education: Criterion
    training: Criterion
    experience: Criterion

    @property
    def all(self) -> list[Criterion]:
        return [self.higher_education, self.training, self.experience]

    @property
    def all_met(self) -> bool:
        return all(c.met for c in self.all)


def evaluate(
    *,
    higher_education: Iterable[str],
    training_hours: Iterable[tuple[str, int]],
    experience: Iterable[tuple[str, date, date | None]],
    as_of: date,
    min_hours: int,
    min_years: int,
) -> Criteria:
    """p.21(a): higher education present; one programme with at least ``min_hours`` hours on
    working-conditions assessment (hours of different programmes do not add up); at least
    ``min_years`` years of experience, overlapping periods counted once, up to ``as_of``."""
    he = list(higher_education)
    he_criterion = Criterion(
        code="higher_education",
        label=_("Высшее образование"),
        met=bool(he),
        summary=ngettext("Указан %(n)d документ", "Указано %(n)d документов", len(he)) % {"n": len(he)}
        if he
        else _("Не указано"),
        evidence=he,
    )

    programmes = list(training_hours)
    best = max((hours for _name, hours in programmes), default=0)
    training = Criterion(
        code="training",
        label=_("Дополнительное профессиональное образование не менее %(h)d ч по оценке условий труда")
        % {"h": min_hours},
        met=best >= min_hours,
        summary=_("Наибольший объём по одной программе: %(best)d ч (требуется не менее %(h)d ч)")
        % {"best": best, "h": min_hours},
        evidence=[name + ": " + _("%(n)s ч") % {"n": hours} for name, hours in programmes],
    )

    rows = list(experience)
    length = experience_length(((start, end) for _e, start, end in rows), as_of=as_of)
    experience_criterion = Criterion(
        code="experience",
        label=ngettext(
            "Опыт работы в области оценки условий труда не менее %(y)d года",
            "Опыт работы в области оценки условий труда не менее %(y)d лет",
            min_years,
        )
        % {"y": min_years},
        met=length >= Length(min_years, 0, 0),
        summary=_("Стаж без учёта наложений периодов: %(len)s на %(date)s")
        % {"len": length, "date": as_of.strftime("%d.%m.%Y")},
        evidence=[
            f"{employer}: {start:%d.%m.%Y} — {end.strftime('%d.%m.%Y') if end else _('по настоящее время')}"
            for employer, start, end in rows
        ],
    )
    return Criteria(higher_education=he_criterion, training=training, experience=experience_criterion)
