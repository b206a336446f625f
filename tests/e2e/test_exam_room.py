"""The exam room in a real browser: a full sitting from the notice's credentials to the result, a
reload in the middle, going offline and back, and the clock running out."""

import re

from playwright.sync_api import expect

from exam.models import Attempt, AttemptItem
from tests.e2e.test_admission import sign_in


def reveal_password(page, application):
    page.goto(f"/cabinet/applications/{application.pk}/")
    login = page.locator("#notice [data-exam-login]").inner_text()
    page.click("text=Показать пароль (один раз)")
    password = page.locator("[data-exam-password]").inner_text()
    return login, password


def enter_room(page, login, password):
    page.goto("/exam/")
    page.fill("#exam-login", login)
    page.fill("#exam-password", password)
    page.click("#exam-submit")
    expect(page.locator("h1")).to_have_text("Аттестационное испытание: правила")
    page.check("#personally")
    page.click("#start")
    expect(page.locator("#q-number")).to_contain_text("Вопрос")
    return Attempt.objects.get()


def choose(page, attempt, position, *, right=True):
    item = AttemptItem.objects.select_related("version").get(attempt=attempt, position=position)
    page.click(f"#grid .cell[data-position='{position}']")
    expect(page.locator("#q-number")).to_have_text(re.compile(rf"^Вопрос {position} из"))
    version = item.version
    wanted = version.correct if right else [next(i for i in range(len(version.options)) if i not in version.correct)]
    for option in wanted:
        page.check(f"#q-options input[value='{option}']")
    return wanted


def wait_saved(page):
    expect(page.locator("#save-status")).to_have_attribute("data-pending", "0")


def test_full_sitting_from_the_notice_credentials_to_the_result(new_page, exam_setup):
    page = new_page()
    sign_in(page, exam_setup["candidate"].email)
    login, password = reveal_password(page, exam_setup["credential"].application)
    attempt = enter_room(page, login, password)
    expect(page.locator("#grid .cell")).to_have_count(40)
    for position in range(1, 41):
        choose(page, attempt, position, right=position <= 37)
    wait_saved(page)
    page.click("#submit")
    expect(page.locator("#confirm-unanswered")).to_have_text("Ответы даны на все вопросы.")
    page.click("#confirm-yes")
    expect(page.locator("#result [data-score]")).to_have_text("37")
    expect(page.locator("#result")).to_contain_text("Испытание пройдено")
    attempt.refresh_from_db()
    assert attempt.score == 37 and attempt.passed and attempt.finish_reason == "submitted"


def test_reload_in_the_middle_keeps_the_answers_and_the_clock(new_page, exam_setup):
    page = new_page()
    sign_in(page, exam_setup["candidate"].email)
    login, password = reveal_password(page, exam_setup["credential"].application)
    attempt = enter_room(page, login, password)
    chosen = {position: choose(page, attempt, position) for position in (1, 2, 3)}
    wait_saved(page)
    page.wait_for_timeout(1500)
    before = page.locator("#timer").inner_text()
    page.reload()
    expect(page.locator("#q-number")).to_contain_text("Вопрос")
    for position, options in chosen.items():
        page.click(f"#grid .cell[data-position='{position}']")
        for option in options:
            expect(page.locator(f"#q-options input[value='{option}']")).to_be_checked()
    after = page.locator("#timer").inner_text()
    assert after <= before and after.startswith(("39:", "38:"))  # the server's clock went on
    assert Attempt.objects.count() == 1


def test_going_offline_and_back_loses_no_answer(new_page, exam_setup):
    page = new_page()
    sign_in(page, exam_setup["candidate"].email)
    login, password = reveal_password(page, exam_setup["credential"].application)
    attempt = enter_room(page, login, password)
    choose(page, attempt, 1)
    wait_saved(page)
    page.context.set_offline(True)
    offline_choices = {position: choose(page, attempt, position) for position in (2, 3, 4)}
    expect(page.locator("#save-status")).not_to_have_attribute("data-pending", "0")
    expect(page.locator("#conn-status")).to_have_attribute("data-online", "0")
    assert AttemptItem.objects.filter(attempt=attempt).exclude(answer=[]).count() == 1
    page.context.set_offline(False)
    page.evaluate("window.dispatchEvent(new Event('online'))")
    wait_saved(page)
    for position, options in offline_choices.items():
        assert AttemptItem.objects.get(attempt=attempt, position=position).answer == sorted(options)


def test_time_running_out_submits_and_shows_the_result(new_page, exam_setup, settings):
    from datetime import timedelta

    settings.EXAM_DURATION = timedelta(minutes=1)
    page = new_page()
    sign_in(page, exam_setup["candidate"].email)
    login, password = reveal_password(page, exam_setup["credential"].application)
    attempt = enter_room(page, login, password)
    choose(page, attempt, 1)
    wait_saved(page)
    expect(page.locator("#result")).to_contain_text("Испытание не пройдено", timeout=75_000)
    attempt.refresh_from_db()
    assert attempt.status == "finished" and attempt.finish_reason == "deadline"
    assert attempt.finished_at == attempt.deadline_at and attempt.score == 1
