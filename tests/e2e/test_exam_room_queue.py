"""The exam room's queue of answers in a real browser: an answer the server did not take is kept
and sent again, unless the server says it can never take it."""

import json

from playwright.sync_api import expect

from exam.models import AttemptItem
from tests.e2e.test_admission import sign_in
from tests.e2e.test_exam_room import choose, enter_room, reveal_password, wait_saved

ANSWERS = "**/api/v1/exam/attempt/answers/**"


def room(new_page, exam_setup):
    page = new_page()
    sign_in(page, exam_setup["candidate"].email)
    login, password = reveal_password(page, exam_setup["credential"].application)
    return page, enter_room(page, login, password)


def refuse_with(page, status, code):
    body = json.dumps({"error": {"code": code, "message": f"Отказ {status}", "fields": {}}})

    def handler(route):
        if route.request.method == "PUT":
            route.fulfill(status=status, body=body, content_type="application/json")
        else:
            route.continue_()

    page.route(ANSWERS, handler)


def stored(attempt, position):
    return AttemptItem.objects.get(attempt=attempt, position=position).answer


def test_a_server_error_keeps_the_answer_and_sends_it_later(new_page, exam_setup):
    page, attempt = room(new_page, exam_setup)
    refuse_with(page, 503, "server_error")
    chosen = choose(page, attempt, 1)
    page.wait_for_timeout(1500)
    expect(page.locator("#save-status")).to_have_attribute("data-pending", "1")
    assert stored(attempt, 1) == []
    page.unroute(ANSWERS)
    wait_saved(page)
    assert stored(attempt, 1) == sorted(chosen)


def test_a_refused_session_keeps_the_answer_and_tells_to_sign_in_again(new_page, exam_setup):
    page, attempt = room(new_page, exam_setup)
    refuse_with(page, 403, "permission_denied")
    chosen = choose(page, attempt, 1)
    expect(page.locator("#banner")).to_contain_text("Войдите снова")
    expect(page.locator("#save-status")).to_have_attribute("data-pending", "1")
    page.unroute(ANSWERS)
    wait_saved(page)
    assert stored(attempt, 1) == sorted(chosen)
    expect(page.locator("#banner")).to_be_hidden()


def test_an_unexpected_refusal_keeps_the_answer(new_page, exam_setup):
    page, attempt = room(new_page, exam_setup)
    refuse_with(page, 400, "invalid_seq")
    chosen = choose(page, attempt, 1)
    expect(page.locator("#banner")).to_contain_text("Отказ 400")
    expect(page.locator("#save-status")).to_have_attribute("data-pending", "1")
    page.unroute(ANSWERS)
    # Held for ten seconds, then sent again by the periodic flush.
    expect(page.locator("#save-status")).to_have_attribute("data-pending", "0", timeout=20_000)
    assert stored(attempt, 1) == sorted(chosen)


def test_an_invalid_answer_is_dropped_and_the_rest_is_sent(new_page, exam_setup):
    page, attempt = room(new_page, exam_setup)
    refuse_with(page, 400, "invalid_answer")
    choose(page, attempt, 1)
    expect(page.locator("#banner")).to_contain_text("Ответ не принят: Отказ 400")
    wait_saved(page)
    page.unroute(ANSWERS)
    chosen = choose(page, attempt, 2)
    wait_saved(page)
    assert stored(attempt, 1) == [] and stored(attempt, 2) == sorted(chosen)
