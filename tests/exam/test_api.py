"""The API: structured 4xx with Russian messages for bad input, nothing saved half-way, never 500."""

import copy
import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from exam.admission import services
from exam.admission.api.serializers import ApplicationSerializer
from exam.models import Application, Attachment
from tests.conftest import PDF_BYTES, client_for, complete_payload, fill_application

CYRILLIC = re.compile("[А-Яа-яЁё]")


def entry(section, **changes):
    payload = complete_payload()
    payload[section] = [dict(payload[section][0], **changes)]
    return payload


BAD_INPUT = [
    ("last_name", complete_payload(last_name="Иванов1"), "last_name"),
    ("first_name", complete_payload(first_name="<script>"), "first_name"),
    ("patronymic", complete_payload(patronymic="123"), "patronymic"),
    ("id_document_name", complete_payload(id_document_name="П" * 201), "id_document_name"),
    ("id_document_number", complete_payload(id_document_number="45$10"), "id_document_number"),
    ("id_document_issuer", complete_payload(id_document_issuer="О" * 301), "id_document_issuer"),
    ("id_document_issued_on future", complete_payload(id_document_issued_on="2099-01-01"), "id_document_issued_on"),
    ("id_document_issued_on invalid", complete_payload(id_document_issued_on="31.02.2020"), "id_document_issued_on"),
    ("postal_address", complete_payload(postal_address="Москва"), "postal_address"),
    ("email", complete_payload(email="not-an-email"), "email"),
    ("phone", complete_payload(phone="звоните"), "phone"),
    ("higher_education.institution", entry("higher_education", institution=""), "higher_education.0.institution"),
    ("higher_education.specialty", entry("higher_education", specialty="С" * 301), "higher_education.0.specialty"),
    ("higher_education.document_name", entry("higher_education", document_name=""), "higher_education.0.document_name"),
    (
        "higher_education.document_number",
        entry("higher_education", document_number="№№;"),
        "higher_education.0.document_number",
    ),
    (
        "higher_education.document_date",
        entry("higher_education", document_date="вчера"),
        "higher_education.0.document_date",
    ),
    (
        "additional_education.organisation",
        entry("additional_education", organisation=""),
        "additional_education.0.organisation",
    ),
    ("additional_education.programme", entry("additional_education", programme=""), "additional_education.0.programme"),
    (
        "additional_education.hours negative",
        entry("additional_education", assessment_hours=-5),
        "additional_education.0.assessment_hours",
    ),
    (
        "additional_education.hours text",
        entry("additional_education", assessment_hours="семьдесят"),
        "additional_education.0.assessment_hours",
    ),
    (
        "additional_education.hours huge",
        entry("additional_education", assessment_hours=100000),
        "additional_education.0.assessment_hours",
    ),
    (
        "additional_education.document_number",
        entry("additional_education", document_number=""),
        "additional_education.0.document_number",
    ),
    (
        "additional_education.document_date",
        entry("additional_education", document_date="2099-12-31"),
        "additional_education.0.document_date",
    ),
    ("experience.employer", entry("experience", employer=""), "experience.0.employer"),
    ("experience.works", entry("experience", works=""), "experience.0.works"),
    ("experience.date_from", entry("experience", date_from="2099-01-01"), "experience.0.date_from"),
    (
        "experience.date_to before date_from",
        entry("experience", date_from="2020-01-01", date_to="2019-01-01"),
        "experience.0.date_to",
    ),
    ("experience not a list", complete_payload(experience="три года"), "experience"),
    (
        "too many entries",
        complete_payload(higher_education=complete_payload()["higher_education"] * 21),
        "higher_education",
    ),
]


@pytest.fixture
def draft(alice):
    application = services.application_start(candidate=alice)
    fill_application(application, alice, attachments=False)
    return application


def snapshot(application):
    application = Application.objects.get(pk=application.pk)
    return ApplicationSerializer(application).data


@pytest.mark.parametrize(("case", "payload", "field"), BAD_INPUT, ids=[c[0] for c in BAD_INPUT])
def test_wrong_value_gets_a_russian_error_and_nothing_is_saved(alice, draft, case, payload, field):
    before = snapshot(draft)
    bad = copy.deepcopy(payload)
    bad["last_name"] = bad["last_name"] if field == "last_name" else "Новая"  # a valid change alongside
    response = client_for(alice).put(f"/api/v1/applications/{draft.pk}/", bad, content_type="application/json")
    assert response.status_code == 400, response.content
    error = response.json()["error"]
    assert error["code"] == "invalid"
    assert field in error["fields"], error["fields"]
    assert all(CYRILLIC.search(m) for m in error["fields"][field]), error["fields"][field]
    assert snapshot(draft) == before


def test_valid_draft_is_saved_through_the_api(alice, draft):
    payload = complete_payload(postal_address="190000, г. Санкт-Петербург, Невский пр., д. 1")
    response = client_for(alice).put(f"/api/v1/applications/{draft.pk}/", payload, content_type="application/json")
    assert response.status_code == 200
    assert response.json()["postal_address"].startswith("190000")


def test_executable_upload_is_refused_with_a_structured_error(alice, draft):
    from django.core.files.uploadedfile import SimpleUploadedFile

    exe = SimpleUploadedFile("diploma.pdf", b"MZ\x90\x00" + b"\x00" * 500, content_type="application/pdf")
    response = client_for(alice).post(
        f"/api/v1/applications/{draft.pk}/attachments/", {"kind": "higher_education", "file": exe}
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "file_type"
    assert not Attachment.objects.exists()


def test_oversized_upload_is_refused_with_a_structured_error(alice, draft, settings):
    from django.core.files.uploadedfile import SimpleUploadedFile

    settings.ATTACHMENT_MAX_BYTES = 100
    big = SimpleUploadedFile("big.pdf", PDF_BYTES + b"0" * 200, content_type="application/pdf")
    response = client_for(alice).post(
        f"/api/v1/applications/{draft.pk}/attachments/", {"kind": "experience", "file": big}
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "file_too_large"


def test_unknown_attachment_kind_and_missing_file_are_400(alice, draft):
    from django.core.files.uploadedfile import SimpleUploadedFile

    client = client_for(alice)
    pdf = SimpleUploadedFile("a.pdf", PDF_BYTES, content_type="application/pdf")
    assert (
        client.post(f"/api/v1/applications/{draft.pk}/attachments/", {"kind": "passport", "file": pdf}).status_code
        == 400
    )
    assert client.post(f"/api/v1/applications/{draft.pk}/attachments/", {"kind": "experience"}).status_code == 400


def test_malformed_json_is_a_structured_400_in_russian(alice, draft):
    response = client_for(alice).put(f"/api/v1/applications/{draft.pk}/", "{not json", content_type="application/json")
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "parse_error"
    assert CYRILLIC.search(error["message"]) and "JSON parse error" not in error["message"]


def test_unsupported_media_type_is_a_structured_415_in_russian(alice, draft):
    response = client_for(alice).put(f"/api/v1/applications/{draft.pk}/", "a=1", content_type="text/plain")
    assert response.status_code == 415
    message = response.json()["error"]["message"]
    assert CYRILLIC.search(message) and "text/plain" in message


def test_method_not_allowed_is_a_structured_405_in_russian(alice, draft):
    response = client_for(alice).delete(f"/api/v1/applications/{draft.pk}/")
    assert response.status_code == 405
    message = response.json()["error"]["message"]
    assert CYRILLIC.search(message) and "DELETE" in message
    assert "PUT" in response["Allow"]


def test_not_acceptable_is_a_structured_406_in_russian(alice, draft):
    response = client_for(alice).get(f"/api/v1/applications/{draft.pk}/", HTTP_ACCEPT="application/xml")
    assert response.status_code == 406
    assert CYRILLIC.search(response.json()["error"]["message"])


def test_submit_with_a_wrong_code_shape_is_400(alice, draft):
    client = client_for(alice)
    for code in ["", "12345", "abcdef", None, ["123456"]]:
        response = client.post(
            f"/api/v1/applications/{draft.pk}/submit/", {"code": code}, content_type="application/json"
        )
        assert response.status_code == 400, code
        assert "code" in response.json()["error"]["fields"] or response.json()["error"]["code"] in {
            "invalid",
            "code_expired",
        }


def test_submitting_twice_is_a_conflict_not_an_error(alice, draft):
    from tests.conftest import sign_and_submit

    for kind in Attachment.Kind.values:
        from tests.conftest import upload

        services.attachment_add(application=draft, by=alice, kind=kind, upload=upload())
    sign_and_submit(draft, alice)
    response = client_for(alice).post(f"/api/v1/applications/{draft.pk}/signature-code/")
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "not_editable"


def test_nonnumeric_ids_are_404_not_500(alice):
    client = client_for(alice)
    assert client.get("/api/v1/applications/99999999999999999999/").status_code == 404
    assert client.get("/cabinet/applications/99999999999999999999/").status_code == 404


def test_openapi_schema_and_docs_are_served(alice):
    client = client_for(alice)
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/json")
    assert schema.status_code == 200
    paths = schema.json()["paths"]
    assert "/api/v1/applications/{id}/" in paths or "/api/v1/applications/{pk}/" in paths
    docs = client.get("/api/docs/")
    assert docs.status_code == 200 and b"swagger" in docs.content.lower()


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=10), children, max_size=3),
    max_leaves=10,
)
field_names = st.sampled_from([*complete_payload().keys(), "unknown"])
entry_fields = st.sampled_from(["institution", "assessment_hours", "date_from", "date_to", "document_date", "x"])


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    top=st.dictionaries(field_names, json_values, max_size=6),
    rows=st.lists(st.dictionaries(entry_fields, json_values, max_size=4), max_size=3),
    section=st.sampled_from(["higher_education", "additional_education", "experience"]),
)
def test_random_input_never_causes_a_server_error(alice, draft, top, rows, section):
    payload = dict(top)
    payload[section] = rows
    response = client_for(alice).put(f"/api/v1/applications/{draft.pk}/", payload, content_type="application/json")
    assert response.status_code in (200, 400), response.content
    if response.status_code == 400:
        assert response.json()["error"]["message"]
