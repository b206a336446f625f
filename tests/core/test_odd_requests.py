"""Odd requests, not odd text: a NUL in the address, JSON nested deeper than a parser can follow, a
body over the size limit, too many fields, a broken multipart body. Each is the client's fault: a
structured 4xx with a Russian message under /api/, the error page with its explanation elsewhere,
never a 500."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client

from tests.conftest import client_for, exam_client
from tests.core.test_text import RUSSIAN


def assert_api_refusal(response: Any, status: int, code: str | None = None) -> None:
    """The API's error shape, the status, a Russian message."""
    assert response.status_code == status, response.content[:300]
    assert response["Content-Type"].startswith("application/json")
    error = response.json()["error"]
    assert RUSSIAN.search(error["message"]), error
    if code is not None:
        assert error["code"] == code


def assert_page_refusal(response: Any, status: int, words: str) -> None:
    """The error page with the status and a sentence saying what was wrong."""
    assert response.status_code == status, response.content[:300]
    assert response["Content-Type"].startswith("text/html")
    assert words in response.content.decode()


@pytest.fixture
def draft(alice):
    from exam.admission import services

    return services.application_start(candidate=alice)


@pytest.fixture
def room(exam_setup):
    client, _password = exam_client(exam_setup["credential"], exam_setup["candidate"])
    assert client.post("/exam/room/", {"personally": "on"}).status_code == 302
    return client


def put_answer(room: Client, body: bytes | str) -> Any:
    return room.put("/api/v1/exam/attempt/answers/1/", body, content_type="application/json")


# --- A NUL in the address -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path", ["/registry/certificates/%00/", "/registry/v/%00/", "/registry/v/abc%00def/", "/staff/bank/export.%00"]
)
def test_a_nul_in_a_page_address_is_the_400_page_saying_why(db, path):
    assert_page_refusal(Client().get(path), 400, "нулевой символ")


@pytest.mark.parametrize(
    "path", ["/api/v1/registry/certificates/%00/", "/api/v1/registry/open-data.%00", "/api/v1/nowhere/%00/"]
)
def test_a_nul_in_an_api_address_is_a_structured_400(db, path):
    assert_api_refusal(Client().get(path), 400, "invalid_text")


def test_a_nul_in_the_address_of_a_post_is_refused_too(alice):
    assert_api_refusal(client_for(alice).post("/api/v1/applications/%00/", {}, "application/json"), 400)


# --- JSON nested too deep ---------------------------------------------------------------------------


@pytest.mark.parametrize("body", ["[" * 100_000, '{"a":' * 100_000, "[" * 5_000 + "]" * 5_000])
def test_json_nested_too_deep_is_a_structured_400_from_the_api(alice, draft, body):
    response = client_for(alice).put(f"/api/v1/applications/{draft.pk}/", body, content_type="application/json")
    assert_api_refusal(response, 400)


@pytest.mark.parametrize("body", ["[" * 100_000, "[" * 5_000 + "]" * 5_000])
def test_json_nested_too_deep_is_a_structured_400_from_the_answer_save(room, body):
    assert_api_refusal(put_answer(room, body), 400)


def test_the_answer_save_still_takes_an_ordinary_answer(room):
    response = put_answer(room, json.dumps({"answer": [0], "seq": 1}))
    assert response.status_code == 200, response.content


# --- A body over the size limit ----------------------------------------------------------------------


@pytest.fixture
def small_limit(settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 2048
    settings.DATA_UPLOAD_MAX_NUMBER_FIELDS = 20


BIG_TEXT = "Ж" * 4000


def test_a_json_body_over_the_limit_is_a_structured_413_from_the_api(alice, draft, small_limit):
    body = json.dumps({"postal_address": BIG_TEXT})
    response = client_for(alice).put(f"/api/v1/applications/{draft.pk}/", body, content_type="application/json")
    assert_api_refusal(response, 413, "request_too_large")
    draft.refresh_from_db()
    assert draft.postal_address == ""


def test_a_json_body_over_the_limit_is_a_structured_413_from_the_answer_save(room, small_limit):
    assert_api_refusal(put_answer(room, json.dumps({"answer": [0], "seq": 1, "x": BIG_TEXT})), 413)


def test_a_form_body_over_the_limit_is_a_structured_413_under_the_api(db, small_limit):
    response = Client().post("/api/v1/registry/verify/", {"text": BIG_TEXT})
    assert_api_refusal(response, 413, "request_too_large")


def test_a_form_body_over_the_limit_is_the_413_page_elsewhere(db, small_limit):
    response = Client().post("/accounts/login/", {"username": BIG_TEXT, "password": "x"})
    assert_page_refusal(response, 413, "Слишком большой запрос")


def test_an_upload_whose_fields_are_over_the_limit_is_a_structured_413(alice, draft, small_limit):
    from tests.conftest import upload

    response = client_for(alice).post(
        f"/api/v1/applications/{draft.pk}/attachments/", {"kind": BIG_TEXT, "file": upload()}
    )
    assert_api_refusal(response, 413, "request_too_large")
    assert not draft.attachments.exists()


# --- Too many fields, a broken multipart body ----------------------------------------------------------


def many_fields(n: int = 30) -> str:
    return "&".join(f"f{i}=1" for i in range(n))


def test_too_many_query_parameters_are_a_structured_400_under_the_api(db, small_limit):
    assert_api_refusal(Client().get(f"/api/v1/registry/experts/?{many_fields()}"), 400, "too_many_fields")


def test_too_many_query_parameters_are_the_400_page_elsewhere(db, small_limit):
    assert_page_refusal(Client().get(f"/registry/?{many_fields()}"), 400, "Слишком много полей")


def test_too_many_form_fields_are_a_structured_400_under_the_api(db, small_limit):
    response = Client().post(
        "/api/v1/registry/verify/", many_fields(), content_type="application/x-www-form-urlencoded"
    )
    assert_api_refusal(response, 400, "too_many_fields")


def test_a_broken_multipart_body_is_a_structured_400_under_the_api(alice, draft):
    response = client_for(alice).post(
        f"/api/v1/applications/{draft.pk}/attachments/", b"--x\r\nbroken", content_type="multipart/form-data"
    )
    assert_api_refusal(response, 400, "parse_error")


def test_a_broken_multipart_body_is_the_400_page_elsewhere(alice):
    response = client_for(alice).post("/cabinet/complaints/new/", b"broken", content_type="multipart/form-data")
    assert_page_refusal(response, 400, "multipart")
