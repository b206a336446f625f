"""The Russian production calendar and the counting of terms in working days, Moscow time.

Sources, in order of precedence:
1. ``CalendarDay`` rows entered by staff (a new decree on moved days off, as data);
2. ``WORKING_SATURDAYS`` below: weekend days made working by the government's decrees, which the
   ``holidays`` library does not know;
3. ``holidays.country_holidays("RU")``: public holidays and the moved days off of each year.

Counting follows the Civil Code (arts. 191-193): a term of N working days starts on the day after the
event and ends at the end of its N-th working day; a term of months ends on the same date of the last
month, moved to the next working day when that date is not a working day.
"""

from __future__ import annotations

import functools
import time
from datetime import UTC, date, datetime, timedelta
from datetime import time as dtime
from zoneinfo import ZoneInfo

import holidays
from dateutil.relativedelta import relativedelta
from django.utils.dateparse import parse_date, parse_datetime

MOSCOW = ZoneInfo("Europe/Moscow")

# Weekend days that the government's decrees on moved days off made working days.
WORKING_SATURDAYS: frozenset[date] = frozenset(
    {
        # The government's decree on moving days off in 2024.
        date(2024, 4, 27),
        date(2024, 11, 2),
        date(2024, 12, 28),
        # ... in 2025.
        date(2025, 11, 1),
        # ... in 2026: no working Saturday. In 2027: the day off of Saturday 20.02 moved to 22.02.
        date(2027, 2, 20),
    }
)

# Office hours (p.5): Mon-Thu 9:00-18:00, Fri 9:00-16:45. A complaint arriving after closing, or on a
# day that is not a working day, counts from the next working day (p.86, read with seed 003 p.27.1).
# An application does not: it is registered on the day it arrives, whatever the hour (p.26).
OFFICE_OPENS = dtime(9, 0)
OFFICE_CLOSES = {0: dtime(18, 0), 1: dtime(18, 0), 2: dtime(18, 0), 3: dtime(18, 0), 4: dtime(16, 45)}
OFFICE_CLOSES_DEFAULT = dtime(18, 0)

_OVERRIDES_TTL_SECONDS = 60.0
_overrides_cache: tuple[float, dict[date, bool]] | None = None


@functools.cache
def _public_days_off(year: int) -> frozenset[date]:
    return frozenset(holidays.country_holidays("RU", years=year, language="ru").keys())


def _overrides() -> dict[date, bool]:
    """Staff-entered days: date -> is working. Cached for a minute in each process."""
    global _overrides_cache
    now = time.monotonic()
    if _overrides_cache is not None and now - _overrides_cache[0] < _OVERRIDES_TTL_SECONDS:
        return _overrides_cache[1]
    from core.models import CalendarDay

    try:
        days = {d.date: d.kind == CalendarDay.Kind.WORKING for d in CalendarDay.objects.all()}
    except Exception:  # the table does not exist yet (before migrations)
        days = {}
    _overrides_cache = (now, days)
    return days


def clear_cache() -> None:
    global _overrides_cache
    _overrides_cache = None


def is_working_day(day: date) -> bool:
    override = _overrides().get(day)
    if override is not None:
        return override
    if day in WORKING_SATURDAYS:
        return True
    return day.weekday() < 5 and day not in _public_days_off(day.year)


def next_working_day(day: date) -> date:
    """The first working day strictly after ``day``."""
    day += timedelta(days=1)
    while not is_working_day(day):
        day += timedelta(days=1)
    return day


def working_day_on_or_after(day: date) -> date:
    return day if is_working_day(day) else next_working_day(day)


def add_working_days(event_day: date, days: int) -> date:
    """The last day of a term of ``days`` working days counted from an event on ``event_day``.

    The event's own day is not counted (Civil Code art. 191): 1 working day after a Thursday event
    is Friday, whether or not Thursday itself was a working day."""
    if days < 1:
        raise ValueError("a term is at least one working day")
    day = event_day
    for _ in range(days):
        day = next_working_day(day)
    return day


def add_months(event_day: date, months: int) -> date:
    """The last day of a term of months (art. 192, 193): same date, moved to a working day."""
    return working_day_on_or_after(event_day + relativedelta(months=months))


def working_days_between(start: date, end: date) -> int:
    """Working days in (start, end]; negative when ``end`` is before ``start``."""
    if end < start:
        return -working_days_between(end, start)
    count = 0
    day = start
    while day < end:
        day += timedelta(days=1)
        if is_working_day(day):
            count += 1
    return count


def moscow_date(moment: datetime) -> date:
    return moment.astimezone(MOSCOW).date()


def office_closes(day: date) -> dtime:
    return OFFICE_CLOSES.get(day.weekday(), OFFICE_CLOSES_DEFAULT)


def effective_receipt_date(moment: datetime) -> date:
    """The day from which a complaint counts (p.86): its own day if it arrived on a working day before
    the office closed (Moscow time), otherwise the next working day. Not for applications, which
    count from the day they arrive (p.26, ``moscow_date``)."""
    local = moment.astimezone(MOSCOW)
    day = local.date()
    if is_working_day(day) and local.time() < office_closes(day):
        return day
    return next_working_day(day)


def today() -> date:
    from django.utils import timezone

    return moscow_date(timezone.now())


def parse_day(text: str) -> date | None:
    """A YYYY-MM-DD date from user input; None when it is not one (a 30 February included)."""
    try:
        return parse_date(text.strip())
    except ValueError:
        return None


def parse_moment(text: str) -> datetime | None:
    """An ISO 8601 moment with its UTC offset from user input, in UTC; None when it is not one, has
    no offset, or falls outside the years 1-9999 in UTC. (An offset PostgreSQL does not take, such
    as -20:01, which ISO 8601 allows, reaches the database as the same moment in UTC.)"""
    try:
        moment = parse_datetime(text.strip())
        if moment is None or moment.tzinfo is None:
            return None
        return moment.astimezone(UTC)
    except (ValueError, OverflowError):
        return None
