"""The exam room through HTTP: sign-in with the notice's credentials, rules, answers, the clock,
the end; and that no response before scoring carries the correct answers."""

import json
from datetime import timedelta

import pytest
import time_machine
from django.test import Client

from exam.models import Attempt, AttemptEvent, AttemptItem
from tests.conftest import exam_client


def put_answer(client, position, answer, seq, flagged=None):
    body = {"answer": answer, "seq": seq}
    if flagged is not None:
        body["flagged"] = flagged
    return client.put(f"/api/v1/exam/attempt/answers/{position}/", body, content_type="application/json")


@pytest.fixture
def room(exam_setup):
    client, _password = exam_client(exam_setup["credential"], exam_setup["candidate"])
    return client


def started(room):
    response = room.post("/exam/room/", {"personally": "on"})
    assert response.status_code == 302
    return Attempt.objects.get()


def test_wrong_credentials_do_not_open_the_room(exam_setup):
    response = Client().post("/exam/", {"login": exam_setup["credential"].login, "password": "nope"})
    assert "Неверный логин или пароль" in response.content.decode()
    assert Client().get("/exam/room/").status_code == 302
    assert Client().get("/api/v1/exam/attempt/").status_code in (401, 403)


def test_rules_then_start_then_the_room(room):
    page = room.get("/exam/room/").content.decode()
    assert "лично" in page and "Начать тестирование" in page
    page = room.post("/exam/room/", {}).content.decode()
    assert "Подтвердите, что проходите испытание лично" in page
    assert not Attempt.objects.exists()
    attempt = started(room)
    page = room.get("/exam/room/").content.decode()
    assert 'id="exam-room"' in page and f'data-attempt="{attempt.pk}"' in page


def test_state_save_and_reload_keep_answers_and_the_clock(room):
    started(room)
    state = room.get("/api/v1/exam/attempt/").json()
    assert len(state["items"]) == 40 and 0 < state["remaining_ms"] <= 40 * 60 * 1000
    first = state["items"][0]
    chosen = [first["options"][1]["id"]]
    response = put_answer(room, 1, chosen, 1, flagged=True)
    assert response.status_code == 200 and response.json()["applied"] is True
    again = room.get("/api/v1/exam/attempt/").json()
    assert again["items"][0]["answer"] == chosen and again["items"][0]["flagged"] is True
    assert again["deadline"] == state["deadline"] and again["max_seq"] == 1
    clock = room.get("/api/v1/exam/attempt/clock/").json()
    assert clock["deadline"] == state["deadline"] and clock["status"] == "in_progress"


def test_no_response_before_scoring_contains_the_correct_answers(room):
    attempt = started(room)
    bodies = [
        room.get("/api/v1/exam/attempt/").content,
        room.get("/api/v1/exam/attempt/clock/").content,
        put_answer(room, 1, [0], 1).content,
        room.get("/exam/room/").content,
    ]
    for body in bodies:
        assert b'"correct"' not in body and b"correct" not in body.lower().replace(b"correctly", b"")
    # The stored correct answers are nowhere in the state, even by value.
    state = json.loads(bodies[0])
    for item, row in zip(state["items"], attempt.items.select_related("version").order_by("position"), strict=True):
        assert "correct" not in item and [o["id"] for o in item["options"]] == row.option_order


def test_submit_shows_the_score_and_then_the_result_page(room):
    attempt = started(room)
    response = room.post("/api/v1/exam/attempt/submit/", content_type="application/json")
    assert response.status_code == 200
    result = response.json()
    assert result["status"] == "finished" and result["score"] == 0 and result["passed"] is False
    assert "outcomes" not in result  # the score and pass or fail, not which answers were right
    page = room.get("/exam/room/").content.decode()
    assert "Испытание не пройдено" in page and "data-score>0<" in page
    assert put_answer(room, 1, [0], 5).status_code == 409
    attempt.refresh_from_db()
    assert attempt.finish_reason == "submitted"


def test_save_after_the_deadline_is_refused_and_the_attempt_ends(room):
    attempt = started(room)
    with time_machine.travel(attempt.deadline_at + timedelta(seconds=2)):
        response = put_answer(room, 1, [0], 1)
        assert response.status_code == 409
        assert response.json()["error"]["code"] in ("time_is_up", "attempt_finished")
        assert room.get("/api/v1/exam/attempt/").json()["status"] == "finished"
    attempt.refresh_from_db()
    assert attempt.finished_at == attempt.deadline_at


def test_a_second_login_takes_over_with_a_visible_notice(exam_setup, room):
    from exam.admission import services

    started(room)
    password = services.exam_password_issue(credential=exam_setup["credential"], by=exam_setup["candidate"])
    other = Client()
    other.post("/exam/", {"login": exam_setup["credential"].login, "password": password})
    page = other.get("/exam/room/", follow=True).content.decode()
    assert "Тестирование продолжено в этом окне" in page
    response = put_answer(room, 1, [0], 1)
    assert response.status_code == 409 and response.json()["error"]["code"] == "taken_over"
    assert put_answer(other, 1, [0], 1).status_code == 200
    assert AttemptEvent.objects.filter(kind="takeover").count() == 1


def test_page_events_are_recorded(room):
    attempt = started(room)
    for kind in ["page_hidden", "copy", "window_blur"]:
        response = room.post(
            "/api/v1/exam/attempt/events/", {"kind": kind, "data": {"x": 1}}, content_type="application/json"
        )
        assert response.status_code == 204
    response = room.post("/api/v1/exam/attempt/events/", {"kind": "hack"}, content_type="application/json")
    assert response.status_code == 400
    assert set(AttemptEvent.objects.filter(attempt=attempt).values_list("kind", flat=True)) >= {
        "page_hidden",
        "copy",
        "window_blur",
    }


def test_a_change_of_address_is_logged(room):
    attempt = started(room)
    room.get("/api/v1/exam/attempt/", REMOTE_ADDR="192.0.2.55")
    put_answer(room, 2, [1], 3)
    assert AttemptEvent.objects.filter(attempt=attempt, kind="ip_changed", ip="192.0.2.55").exists()


def test_a_change_of_browser_is_logged(room):
    room.post("/exam/room/", {"personally": "on"}, HTTP_USER_AGENT="Mozilla/5.0 Firefox/128.0")
    attempt = Attempt.objects.get()
    room.get("/api/v1/exam/attempt/", HTTP_USER_AGENT="Mozilla/5.0 Firefox/128.0")
    assert not AttemptEvent.objects.filter(attempt=attempt, kind="browser_changed").exists()
    room.get("/api/v1/exam/attempt/", HTTP_USER_AGENT="Mozilla/5.0 Chrome/126.0")
    event = AttemptEvent.objects.get(attempt=attempt, kind="browser_changed")
    assert event.data == {"ua": "Mozilla/5.0 Chrome/126.0"}
    attempt.refresh_from_db()
    assert attempt.last_user_agent == "Mozilla/5.0 Chrome/126.0"


def test_csrf_is_enforced_on_the_exam_api(exam_setup):
    from exam.admission import services

    password = services.exam_password_issue(credential=exam_setup["credential"], by=exam_setup["candidate"])
    client = Client(enforce_csrf_checks=True)
    page = client.get("/exam/")
    token = page.cookies["csrftoken"].value
    client.post("/exam/", {"login": exam_setup["credential"].login, "password": password, "csrfmiddlewaretoken": token})
    client.post("/exam/room/", {"personally": "on", "csrfmiddlewaretoken": client.cookies["csrftoken"].value})
    response = client.put("/api/v1/exam/attempt/answers/1/", {"answer": [0], "seq": 1}, content_type="application/json")
    assert response.status_code == 403
    response = client.put(
        "/api/v1/exam/attempt/answers/1/",
        {"answer": [0], "seq": 1},
        content_type="application/json",
        HTTP_X_CSRFTOKEN=client.cookies["csrftoken"].value,
    )
    assert response.status_code == 200


@pytest.mark.parametrize(
    "body",
    [
        {"answer": [0]},
        {"answer": "0", "seq": 1},
        {"answer": [0], "seq": "x"},
        {"answer": [-1], "seq": 1},
        [1, 2],
        "x",
        {"answer": [0], "seq": 1, "flagged": "yes"},
    ],
)
def test_malformed_saves_are_structured_400s(room, body):
    started(room)
    response = room.put("/api/v1/exam/attempt/answers/1/", body, content_type="application/json")
    assert response.status_code == 400
    assert response.json()["error"]["message"]
    assert not AttemptItem.objects.exclude(answer=[]).exists()


def test_exam_api_answers_401_without_the_exam_session(alice):
    from tests.conftest import client_for

    response = client_for(alice).get("/api/v1/exam/attempt/")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "exam_login_required"


def test_a_save_that_is_not_json_gets_a_structured_error(room):
    started(room)
    response = room.put("/api/v1/exam/attempt/answers/1/", "{not json", content_type="application/json")
    assert response.status_code == 400 and response.json()["error"]["code"] == "parse_error"
    response = room.put("/api/v1/exam/attempt/answers/1/", "answer=0", content_type="text/plain")
    assert response.status_code == 415 and response.json()["error"]["message"]
    assert not AttemptItem.objects.exclude(answer=[]).exists()


def test_a_save_without_the_exam_session_is_a_structured_401(alice):
    from tests.conftest import client_for

    response = put_answer(client_for(alice), 1, [0], 1)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "exam_login_required"


def test_the_answer_save_is_in_the_openapi_schema():
    schema = Client().get("/api/schema/?format=json").json()
    operation = schema["paths"]["/api/v1/exam/attempt/answers/{position}/"]["put"]
    assert operation["summary"] == "Сохранить ответ на вопрос"


def test_the_exam_pass_alone_saves_the_answer_and_a_forged_one_does_not(room):
    from django.conf import settings

    from exam.testing.session import PASS_COOKIE

    attempt = started(room)
    cookie = room.cookies[PASS_COOKIE]
    assert cookie["httponly"] and cookie["path"] == "/api/v1/exam/" and cookie["samesite"] == "Strict"
    # Without the session cookie: the pass identifies the candidate (no session read).
    del room.cookies[settings.SESSION_COOKIE_NAME]
    assert put_answer(room, 1, [0], 1).status_code == 200
    assert AttemptItem.objects.get(attempt=attempt, position=1).answer == [0]
    room.cookies[PASS_COOKIE] = cookie.value[:-2] + ("AA" if not cookie.value.endswith("AA") else "BB")
    response = put_answer(room, 1, [1], 2)
    assert response.status_code == 401 and response.json()["error"]["code"] == "exam_login_required"
    assert AttemptItem.objects.get(attempt=attempt, position=1).answer == [0]


def test_a_pass_of_a_taken_over_session_saves_nothing(exam_setup):
    first, password = exam_client(exam_setup["credential"], exam_setup["candidate"])
    attempt = started(first)
    second = Client()
    second.post("/exam/", {"login": exam_setup["credential"].login, "password": password})
    second.get("/exam/room/")  # entering the room takes the attempt over
    response = put_answer(first, 1, [0], 1)
    assert response.status_code == 409 and response.json()["error"]["code"] == "taken_over"
    assert put_answer(second, 1, [1], 2).status_code == 200
    assert AttemptItem.objects.get(attempt=attempt, position=1).answer == [1]


def test_leaving_the_exam_room_ends_the_pass(room):
    from exam.testing.session import PASS_COOKIE

    started(room)
    room.post("/exam/logout/")
    assert not room.cookies[PASS_COOKIE].value
    assert put_answer(room, 1, [0], 1).status_code == 401


def test_the_exam_api_finds_the_attempt_without_reading_the_credential(room, exam_setup):
    """Every call of the exam room's API (the state, the events, the clock, the end) reads the
    attempt by the credential's id in the session; the credential itself is read only before the
    start, to tell a credential gone (401) from a test not started (404)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    assert room.get("/api/v1/exam/attempt/").status_code == 404
    started(room)
    with CaptureQueriesContext(connection) as queries:
        assert room.get("/api/v1/exam/attempt/").status_code == 200
        assert room.get("/api/v1/exam/attempt/clock/").status_code == 200
    assert not [q["sql"] for q in queries.captured_queries if 'FROM "exam_examcredential"' in q["sql"]]
