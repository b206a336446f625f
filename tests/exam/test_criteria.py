"""The three admission criteria of p.21(a), computed from the entries."""

from datetime import date

import pytest

from exam.admission.criteria import Length, evaluate, experience_length, merge_periods

AS_OF = date(2026, 11, 20)


def criteria(*, he=("диплом",), hours=(("СОУТ", 72),), experience=(("ООО", date(2020, 1, 1), None),)):
    return evaluate(
        higher_education=list(he),
        training_hours=list(hours),
        experience=list(experience),
        as_of=AS_OF,
        min_hours=72,
        min_years=3,
    )


def test_72_hours_meet_the_training_requirement_and_71_do_not():
    assert criteria(hours=[("СОУТ", 72)]).training.met
    assert not criteria(hours=[("СОУТ", 71)]).training.met


def test_hours_of_different_programmes_do_not_add_up():
    result = criteria(hours=[("Охрана труда", 40), ("СОУТ", 40)])
    assert not result.training.met
    assert "40" in result.training.summary


def test_no_higher_education_fails_the_first_criterion():
    result = criteria(he=())
    assert not result.higher_education.met
    assert not result.all_met


def test_three_years_meet_the_experience_requirement_and_two_years_eleven_months_do_not():
    three = criteria(experience=[("ООО", date(2021, 1, 1), date(2023, 12, 31))]).experience
    short = criteria(experience=[("ООО", date(2021, 1, 1), date(2023, 11, 30))]).experience
    assert three.met
    assert not short.met
    assert experience_length([(date(2021, 1, 1), date(2023, 11, 30))], as_of=AS_OF) == Length(2, 11, 0)


def test_overlapping_periods_are_counted_once():
    # Two jobs at the same time for two years are two years, not four.
    periods = [("А", date(2022, 1, 1), date(2023, 12, 31)), ("Б", date(2022, 1, 1), date(2023, 12, 31))]
    result = criteria(experience=periods)
    assert not result.experience.met
    assert experience_length([(p[1], p[2]) for p in periods], as_of=AS_OF) == Length(2, 0, 0)


def test_partly_overlapping_and_adjacent_periods_merge_into_one():
    periods = [
        (date(2020, 1, 1), date(2021, 6, 30)),
        (date(2021, 1, 1), date(2022, 3, 31)),
        (date(2022, 4, 1), date(2022, 12, 31)),
    ]
    assert merge_periods(periods, as_of=AS_OF) == [(date(2020, 1, 1), date(2022, 12, 31))]
    assert experience_length(periods, as_of=AS_OF) == Length(3, 0, 0)


def test_separate_periods_add_up():
    periods = [("А", date(2015, 1, 1), date(2016, 6, 30)), ("Б", date(2018, 1, 1), date(2019, 6, 30))]
    assert criteria(experience=periods).experience.met


def test_an_open_period_counts_to_the_date_of_registration():
    assert criteria(experience=[("ООО", date(2023, 11, 21), None)]).experience.met
    assert not criteria(experience=[("ООО", date(2023, 11, 22), None)]).experience.met


@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [
        (date(2020, 1, 1), date(2020, 1, 31), Length(0, 1, 0)),
        (date(2020, 1, 1), date(2020, 1, 1), Length(0, 0, 1)),
        (date(2020, 1, 15), date(2021, 2, 14), Length(1, 1, 0)),
    ],
)
def test_length_of_service_in_years_months_and_days(start, end, expected):
    assert experience_length([(start, end)], as_of=AS_OF) == expected
