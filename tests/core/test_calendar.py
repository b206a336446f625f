"""The Russian production calendar and terms in working days (domain.md section 8)."""

from datetime import date, datetime

import pytest

from core import calendar
from core.models import CalendarDay

MSK = calendar.MOSCOW


@pytest.mark.parametrize(("year", "working_days"), [(2024, 248), (2025, 247), (2026, 247), (2027, 247)])
def test_working_days_per_year_match_the_official_calendar(year, working_days, db):
    assert calendar.working_days_between(date(year - 1, 12, 31), date(year, 12, 31)) == working_days


@pytest.mark.parametrize(
    "day",
    [
        date(2025, 12, 31),
        date(2026, 1, 2),
        date(2026, 1, 8),
        date(2026, 1, 9),
        date(2025, 5, 2),
        date(2025, 5, 8),
        date(2025, 6, 13),
        date(2025, 11, 3),
        date(2026, 5, 11),
        date(2026, 12, 31),
    ],
)
def test_moved_days_off_are_not_working_days(day, db):
    assert not calendar.is_working_day(day)


@pytest.mark.parametrize("day", [date(2024, 4, 27), date(2024, 11, 2), date(2024, 12, 28), date(2025, 11, 1)])
def test_working_saturdays_are_working_days(day, db):
    assert day.weekday() == 5
    assert calendar.is_working_day(day)


@pytest.mark.parametrize(
    ("event", "days", "due"),
    [
        # Registration on 25.12.2025: the New Year holidays (31.12 and 01.01-11.01.2026) do not count.
        (date(2025, 12, 25), 20, date(2026, 2, 3)),
        (date(2025, 12, 25), 5, date(2026, 1, 13)),
        # 30.04.2026: 1 May and 11 May (for Victory Day on a Saturday) do not count.
        (date(2026, 4, 30), 20, date(2026, 6, 1)),
        (date(2026, 4, 30), 5, date(2026, 5, 8)),
        # The event's own day is not counted, even when it is a day off.
        (date(2026, 1, 3), 1, date(2026, 1, 12)),
        # A working Saturday counts.
        (date(2024, 12, 27), 1, date(2024, 12, 28)),
    ],
)
def test_term_in_working_days_ends_on_the_nth_working_day_after_the_event(event, days, due, db):
    assert calendar.add_working_days(event, days) == due


def test_term_of_months_moves_to_the_next_working_day(db):
    assert calendar.add_months(date(2026, 1, 31), 1) == date(2026, 3, 2)  # 28.02 is a Saturday
    assert calendar.add_months(date(2026, 2, 10), 3) == date(2026, 5, 12)  # 10.05 Sun, 11.05 holiday


@pytest.mark.parametrize(
    ("moment", "counts_from"),
    [
        (datetime(2026, 11, 19, 17, 59), date(2026, 11, 19)),  # Thursday before 18:00
        (datetime(2026, 11, 19, 18, 0), date(2026, 11, 20)),  # Thursday after closing
        (datetime(2026, 11, 20, 16, 44), date(2026, 11, 20)),  # Friday before 16:45
        (datetime(2026, 11, 20, 16, 45), date(2026, 11, 23)),  # Friday after closing -> Monday
        (datetime(2026, 11, 21, 11, 0), date(2026, 11, 23)),  # Saturday -> Monday
        (datetime(2026, 11, 4, 10, 0), date(2026, 11, 5)),  # National Unity Day
        (datetime(2025, 12, 31, 10, 0), date(2026, 1, 12)),  # moved day off before the holidays
        (datetime(2026, 11, 19, 7, 0), date(2026, 11, 19)),  # early morning counts as the same day
    ],
)
def test_submission_out_of_hours_counts_from_the_next_working_day(moment, counts_from, db):
    assert calendar.effective_receipt_date(moment.replace(tzinfo=MSK)) == counts_from


def test_receipt_is_judged_in_moscow_time_whatever_the_client_zone(db):
    from zoneinfo import ZoneInfo

    # 14:00 in Vladivostok on Friday is 07:00 in Moscow: the same working day.
    vladivostok = datetime(2026, 11, 20, 14, 0, tzinfo=ZoneInfo("Asia/Vladivostok"))
    assert calendar.effective_receipt_date(vladivostok) == date(2026, 11, 20)
    # 23:30 UTC on Thursday is 02:30 Friday in Moscow.
    utc = datetime(2026, 11, 19, 23, 30, tzinfo=ZoneInfo("UTC"))
    assert calendar.effective_receipt_date(utc) == date(2026, 11, 20)


def test_staff_can_add_a_decree_as_data(db):
    """A decree for a year the library does not know yet: a moved day off and a working Saturday."""
    assert calendar.is_working_day(date(2028, 3, 10))
    CalendarDay.objects.create(date=date(2028, 3, 10), kind=CalendarDay.Kind.DAY_OFF, basis="Постановление №1")
    CalendarDay.objects.create(date=date(2028, 3, 4), kind=CalendarDay.Kind.WORKING, basis="Постановление №1")
    assert not calendar.is_working_day(date(2028, 3, 10))
    assert calendar.is_working_day(date(2028, 3, 4))
    assert calendar.add_working_days(date(2028, 3, 9), 1) == date(2028, 3, 13)


def test_working_days_between_counts_the_interval_after_the_start(db):
    assert calendar.working_days_between(date(2026, 11, 20), date(2026, 11, 23)) == 1
    assert calendar.working_days_between(date(2026, 11, 23), date(2026, 11, 20)) == -1
    assert calendar.working_days_between(date(2026, 11, 23), date(2026, 11, 23)) == 0
