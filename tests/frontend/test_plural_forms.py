"""Every count shown to a person agrees with its noun in the three Russian forms (1 ответ,
2 ответа, 5 ответов): pages, messages and letters take the number through ngettext or
blocktranslate count."""

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from core import dates
from exam.testing.services import bank


@pytest.mark.parametrize(
    ("count", "minutes", "answers", "hours"),
    [
        (1, "1 минута", "не менее 1 правильного ответа", "не менее 1 часа"),
        (2, "2 минуты", "не менее 2 правильных ответов", "не менее 2 часов"),
        (5, "5 минут", "не менее 5 правильных ответов", "не менее 5 часов"),
        (21, "21 минута", "не менее 21 правильного ответа", "не менее 21 часа"),
    ],
)
def test_the_home_page_states_the_rules_in_agreement_with_their_numbers(db, settings, count, minutes, answers, hours):
    settings.EXAM_DURATION = timedelta(minutes=count)
    settings.EXAM_PASS_SCORE = count
    settings.ADMISSION_MIN_TRAINING_HOURS = count
    page = Client().get("/").content.decode()
    assert f"дистанционное тестирование, {minutes};" in page
    assert f"для успешного результата нужно {answers}." in page
    assert hours in page


def test_the_home_page_takes_the_length_and_the_pass_score_of_the_test_from_the_settings(db, settings):
    settings.EXAM_DURATION = timedelta(minutes=60)
    settings.EXAM_PASS_SCORE = 45
    page = Client().get("/").content.decode()
    assert "60 минут" in page and "не менее 45 правильных ответов" in page
    assert "40 минут" not in page and "36 правильных" not in page


@pytest.mark.parametrize(("days", "said"), [(1, "1 день"), (3, "3 дня"), (30, "30 дней")])
def test_a_receipt_date_too_long_ago_is_refused_with_the_days_in_agreement(settings, days, said):
    settings.PAPER_RECEIVED_MAX_DAYS = days
    problem = dates.paper_receipt_problem(timezone.now() - timedelta(days=days + 1))
    assert f"раньше чем {said} назад" in problem


@pytest.mark.parametrize(
    ("available", "said"),
    [(1, "1 действующий вопрос"), (2, "2 действующих вопроса"), (5, "5 действующих вопросов")],
)
def test_the_blueprint_counts_the_questions_of_a_topic_in_agreement(available, said):
    errors = bank.blueprint_problems(counts={"T1": 9}, available={"T1": available})
    assert errors["T1"] == [f"В теме только {said}."]


@pytest.mark.parametrize(
    ("correct", "said"),
    [(1, "1</b> правильный ответ из"), (2, "2</b> правильных ответа из"), (5, "5</b> правильных ответов из")],
)
def test_the_result_page_says_the_score_in_agreement(exam_setup, correct, said):
    from tests.conftest import exam_client, pass_the_test

    credential = exam_setup["credential"]
    room, _password = exam_client(credential, exam_setup["candidate"])
    pass_the_test(credential, correct=correct)
    page = room.get("/exam/room/").content.decode()
    assert said in page
