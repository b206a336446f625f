"""The API keeps its contract: the OpenAPI schema says what the API answers and accepts, and the API
refuses what the schema forbids. (The fuzzing of the running server is tests/contract/run.py, in
.ci/run; these tests pin the faults it found, for `make test`.)"""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from exam.models import Application, AttemptEvent
from tests.conftest import client_for, complete_payload, exam_client

ERROR_REF = "#/components/schemas/Error"


@pytest.fixture(scope="module")
def schema(django_db_blocker: Any) -> dict[str, Any]:
    with django_db_blocker.unblock():
        response = Client().get("/api/schema/", {"format": "json"})
    assert response.status_code == 200
    return response.json()


def operations(schema: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (path, method, operation)
        for path, item in schema["paths"].items()
        for method, operation in item.items()
        if method in ("get", "post", "put", "patch", "delete")
    ]


def component(schema: dict[str, Any], ref: str) -> dict[str, Any]:
    return schema["components"]["schemas"][ref.rsplit("/", 1)[-1]]


def request_schema(schema: dict[str, Any], path: str, method: str, media: str = "application/json") -> dict[str, Any]:
    return component(schema, schema["paths"][path][method]["requestBody"]["content"][media]["schema"]["$ref"])


# --- The schema -----------------------------------------------------------------------------------


def test_every_operation_declares_its_errors_with_the_one_error_component(schema):
    for path, method, operation in operations(schema):
        errors = {code: r for code, r in operation["responses"].items() if code.startswith("4")}
        assert errors, f"{method.upper()} {path} declares no error answer"
        for code, response in errors.items():
            assert response["content"]["application/json"]["schema"] == {"$ref": ERROR_REF}, (path, method, code)
    error = component(schema, ERROR_REF)["properties"]["error"]
    assert error["required"] == ["code", "message", "fields"]


def test_the_statuses_the_framework_gives_are_declared(schema):
    answer = schema["paths"]["/api/v1/exam/attempt/answers/{position}/"]["put"]["responses"]
    assert {"200", "400", "401", "403", "404", "409", "415"} <= set(answer)
    assert "429" in schema["paths"]["/api/v1/applications/{id}/signature-code/"]["post"]["responses"]
    assert {"400", "429"} <= set(schema["paths"]["/api/v1/registry/experts/"]["get"]["responses"])
    assert "403" in schema["paths"]["/api/v1/me/"]["get"]["responses"]  # not signed in


def test_an_attachment_download_declares_the_media_types_it_returns(schema):
    responses = schema["paths"]["/api/v1/applications/{id}/attachments/{attachment_id}/"]["get"]["responses"]
    assert set(responses["200"]["content"]) == {"application/pdf", "image/png", "image/jpeg"}


def test_the_signature_code_has_its_pattern(schema):
    code = request_schema(schema, "/api/v1/applications/{id}/submit/", "post")["properties"]["code"]
    assert code["pattern"] == r"^\d{6}$" and code["minLength"] == code["maxLength"] == 6


def test_an_optional_email_may_be_empty_in_and_out(schema):
    draft = request_schema(schema, "/api/v1/applications/{id}/", "put")
    email_in = draft["properties"]["email"]
    assert {"type": "string", "maxLength": 0} in email_in["anyOf"] and email_in.get("nullable") is True
    application = component(schema, "#/components/schemas/Application")
    assert {"type": "string", "maxLength": 0} in application["properties"]["email"]["anyOf"]


def test_request_bodies_are_closed(schema):
    for path, method, operation in operations(schema):
        for media in operation.get("requestBody", {}).get("content", {}).values():
            body = component(schema, media["schema"]["$ref"])
            assert body["additionalProperties"] is False, (method, path)


def test_the_events_body_is_the_one_the_code_parses(schema):
    body = request_schema(schema, "/api/v1/exam/attempt/events/", "post")
    assert body["additionalProperties"] is False and body["required"] == ["kind"]
    data = body["properties"]["data"]
    assert data["type"] == "object"
    assert data["additionalProperties"] == {"anyOf": [{"type": "string"}, {"type": "number"}, {"type": "boolean"}]}


def test_the_exam_room_answers_are_typed(schema):
    assert "AttemptView" in schema["components"]["schemas"]
    saved = schema["paths"]["/api/v1/exam/attempt/answers/{position}/"]["put"]["responses"]["200"]
    assert saved["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/AnswerSaved"}
    assert {"examSession", "examPass"} <= set(schema["components"]["securitySchemes"])


# --- The API refuses what the schema forbids --------------------------------------------------------


def put_draft(client: Client, application: Application, body: dict[str, Any]) -> Any:
    return client.put(f"/api/v1/applications/{application.pk}/", body, content_type="application/json")


@pytest.fixture
def draft(alice):
    from exam.admission import services

    return services.application_start(candidate=alice)


def test_an_unknown_field_of_the_draft_is_refused_not_ignored(alice, draft):
    response = put_draft(client_for(alice), draft, {**complete_payload(), "emial": "alice@example.ru"})
    assert response.status_code == 400
    assert response.json()["error"]["fields"] == {"emial": ["Неизвестное поле."]}
    draft.refresh_from_db()
    assert draft.postal_address == ""  # nothing saved half-way


def test_a_number_is_not_taken_for_text_nor_text_for_a_number(alice, draft):
    client = client_for(alice)
    payload = complete_payload(id_document_number=4510123456)
    payload["additional_education"][0]["assessment_hours"] = "72"
    response = put_draft(client, draft, payload)
    assert response.status_code == 400
    fields = response.json()["error"]["fields"]
    assert set(fields) == {"id_document_number", "additional_education.0.assessment_hours"}
    assert put_draft(client, draft, complete_payload(personal_data_consent="yes")).status_code == 400


def test_empty_and_null_optional_fields_are_accepted_as_the_schema_says(alice, draft):
    payload = complete_payload(email="", phone=None, patronymic=None)
    payload["experience"][0]["date_to"] = ""
    response = put_draft(client_for(alice), draft, payload)
    assert response.status_code == 200, response.content
    assert response.json()["email"] == ""


def test_an_unknown_part_of_an_upload_is_refused(alice, draft):
    from tests.conftest import upload

    response = client_for(alice).post(
        f"/api/v1/applications/{draft.pk}/attachments/",
        {"kind": "higher_education", "file": upload(), "comment": "x"},
    )
    assert response.status_code == 400 and "comment" in response.json()["error"]["fields"]
    assert not draft.attachments.exists()


@pytest.fixture
def room(exam_setup):
    client, _password = exam_client(exam_setup["credential"], exam_setup["candidate"])
    assert client.post("/exam/room/", {"personally": "on"}).status_code == 302
    return client


def post_event(room: Client, body: Any) -> Any:
    return room.post("/api/v1/exam/attempt/events/", body, content_type="application/json")


@pytest.mark.parametrize(
    "body",
    [
        {"kind": "page_hidden", "data": [None, None]},
        {"kind": "page_hidden", "data": "network"},
        {"kind": "page_hidden", "data": {"via": None}},
        {"kind": "page_hidden", "data": {"via": {"nested": "x"}}},
        {"kind": "page_hidden", "extra": True},
    ],
)
def test_an_event_body_the_schema_forbids_is_refused(room, body):
    response = post_event(room, body)
    assert response.status_code == 400, response.content
    assert not AttemptEvent.objects.filter(kind="page_hidden").exists()


def test_an_event_as_the_exam_room_sends_it_is_recorded(room):
    assert post_event(room, {"kind": "reconnect", "data": {"via": "network", "tries": 2}}).status_code == 204
    assert AttemptEvent.objects.get(kind="reconnect").data == {"via": "network", "tries": "2"}


def test_an_answer_with_an_unknown_field_is_refused(room):
    body = {"answer": [0], "seq": 1, "flaged": True}
    response = room.put("/api/v1/exam/attempt/answers/1/", body, content_type="application/json")
    assert response.status_code == 400 and response.json()["error"]["fields"] == {"flaged": ["Неизвестное поле."]}


def test_the_start_needs_a_true_not_a_truthy_string(room):
    response = room.post("/api/v1/exam/attempt/start/", {"personally": "true"}, content_type="application/json")
    assert response.status_code == 400 and "personally" in response.json()["error"]["fields"]


@pytest.mark.parametrize("query", [{"year": ""}, {"year": " 2020"}, {"page": "+1"}, {"status": ""}])
def test_a_registry_search_parameter_given_empty_or_malformed_is_refused(db, query):
    response = Client().get("/api/v1/registry/experts/", query)
    assert response.status_code == 400 and response.json()["error"]["code"] == "invalid"


def test_the_registry_page_still_reads_an_empty_year_as_no_filter(db):
    assert Client().get("/registry/", {"q": "", "year": "", "status": ""}).status_code == 200


@pytest.mark.parametrize(
    ("since", "status"),
    [
        ("2026-01-08T01:57:40.83-20:01", 200),  # an offset PostgreSQL itself does not accept
        ("2026-11-01T00:00:00+03:00", 200),
        ("3620-01-08T01:57:40.83-20:01", 400),  # beyond the dates a feed can mean (core.dates)
        ("9999-12-31T23:00:00-05:00", 400),  # past year 9999 in UTC
    ],
)
def test_the_changes_feed_takes_any_iso_offset_and_refuses_a_moment_out_of_range(db, since, status):
    response = Client().get("/api/v1/registry/changes/", {"since": since})
    assert response.status_code == status, response.content


def test_a_signature_check_with_an_empty_key_is_refused(db):
    body = {"record": {}, "signature": "0", "key_id": ""}
    response = Client().post("/api/v1/registry/verify/", body, content_type="application/json")
    assert response.status_code == 400 and "key_id" in response.json()["error"]["fields"]


def test_an_unknown_api_address_is_a_json_404_even_for_a_post(db):
    client = Client(enforce_csrf_checks=True)
    for response in (
        client.get("/api/v1/applications/null,null/"),
        client.post("/api/v1/decisions/x/sign/", {}, content_type="application/json"),
        client.put("/api/v1/exam/attempt/answers/1.5/", {}, content_type="application/json"),
        client.post("/api/v1/decisions/%C2%B3%0A/sign/", {}, content_type="application/json"),
    ):
        assert response.status_code == 404 and response["Content-Type"] == "application/json"
        assert response.json()["error"]["code"] == "not_found"


def test_an_api_address_without_its_slash_is_still_redirected(db):
    response = Client().get("/api/v1/registry/keys")
    assert response.status_code == 301 and response["Location"] == "/api/v1/registry/keys/"


def test_every_operation_taking_a_body_declares_the_413_of_a_body_too_large(schema):
    for path, method, operation in operations(schema):
        if method in ("post", "put", "patch"):
            assert "413" in operation["responses"], f"{method.upper()} {path}"


def test_a_text_in_the_path_declares_the_400_of_a_nul(schema):
    assert "400" in schema["paths"]["/api/v1/registry/certificates/{number}/"]["get"]["responses"]


def test_the_api_takes_json_bodies_only_and_the_uploads_multipart_only(schema):
    for path, method, operation in operations(schema):
        media = set(operation.get("requestBody", {}).get("content", {}))
        if path in ("/api/v1/applications/{id}/attachments/", "/api/v1/signatures/verify/"):
            assert media == {"multipart/form-data"}, (method, path)
        elif media:
            assert media == {"application/json"}, (method, path)


def test_a_multiple_choice_may_be_null_as_a_whole_but_not_an_item_of_it(schema):
    grounds = request_schema(schema, "/api/v1/applications/{id}/decisions/", "post")["properties"]["grounds"]
    assert grounds["type"] == "array" and grounds["nullable"] is True
    assert "null" not in str(grounds["items"]).lower(), grounds["items"]


@pytest.mark.parametrize("content_type", ["application/x-www-form-urlencoded", "multipart/form-data; boundary=x"])
def test_a_form_body_to_a_json_operation_is_a_415(db, content_type):
    body = (
        "signature=x&key_id=y"
        if "urlencoded" in content_type
        else ('--x\r\nContent-Disposition: form-data; name="signature"\r\n\r\nx\r\n--x--\r\n')
    )
    response = Client().post("/api/v1/registry/verify/", body, content_type=content_type)
    assert response.status_code == 415, response.content
    assert response.json()["error"]["code"] == "unsupported_media_type"
