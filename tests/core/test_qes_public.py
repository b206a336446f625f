"""The public check of a document's qualified signature (core.qes.selectors, the API
/api/v1/signatures/verify/): a ministry document is checked at its recorded moment of signing with
a line on its official; any other document at the moment of the check; bad uploads are a
structured 400, never a 500, and nothing of them is stored."""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone

from core.qes.models import SignedDocument, SigningCertificate, TrustedList
from core.qes.services import signing_certificate_add
from core.qes.signer import signer_for
from tests.conftest import throttle_rates

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\nadmission notice No. 1\n%%EOF\n"
URL = "/api/v1/signatures/verify/"


def ministry_document(sergey: Any, pki: Any, *, content: bytes = PDF, signed_at: Any = None) -> SignedDocument:
    """The official Sergey signs ``content`` in the product: the ministry's record of it."""
    row = signing_certificate_add(user=sergey, certificate=pki.official.pem, key_file=str(pki.official.key))
    signer = signer_for(sergey)
    assert signer is not None
    return SignedDocument.objects.create(
        sha256=hashlib.sha256(content).hexdigest(),
        file_name="notice-1.pdf",
        title="Уведомление о допуске № 1",
        signature=signer.sign(content),
        certificate=row,
        signed_by=sergey,
        signed_at=signed_at or timezone.now() - timedelta(hours=1),
    )


def post(document: bytes | None, signature: bytes | None, **extra: Any) -> Any:
    data: dict[str, Any] = dict(extra)
    if document is not None:
        data["document"] = SimpleUploadedFile("doc.pdf", document, content_type="application/pdf")
    if signature is not None:
        data["signature"] = SimpleUploadedFile("doc.pdf.sig", signature, content_type="application/octet-stream")
    return Client().post(URL, data)


def checks(body: dict[str, Any]) -> dict[str, bool]:
    return {check["code"]: check["ok"] for check in body["checks"]}


def test_a_ministry_document_is_checked_at_its_signing_moment_and_names_its_official(pki, trusted, sergey):
    document = ministry_document(sergey, pki)

    response = post(PDF, bytes(document.signature))

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["valid"] is True
    assert checks(body) == {"issuer": True, "validity": True, "integrity": True, "usage": True, "official": True}
    assert body["checked_at"] == document.signed_at.isoformat()
    assert body["ministry_document"] == {"title": "Уведомление о допуске № 1", "signed_at": body["checked_at"]}
    assert body["certificate"]["owner"] == "Сергеев Сергей Сергеевич"
    official = next(check for check in body["checks"] if check["code"] == "official")
    assert official["title"] == "Подпись принадлежит должностному лицу Минтруда России"


def test_a_document_the_ministry_did_not_issue_is_checked_now_without_the_official_line(pki, trusted):
    before = timezone.now()

    body = post(PDF, pki.official.sign(PDF)).json()

    assert body["valid"] is True and body["ministry_document"] is None
    assert "official" not in checks(body) and len(body["checks"]) == 4
    assert datetime.fromisoformat(body["checked_at"]) >= before


def test_a_ministry_document_signed_by_somebody_not_an_official_fails_the_official_line(pki, trusted, sergey):
    ministry_document(sergey, pki)

    body = post(PDF, pki.stranger.sign(PDF)).json()

    assert body["valid"] is False
    assert checks(body) == {"issuer": True, "validity": True, "integrity": True, "usage": True, "official": False}


def test_a_tampered_pdf_fails_the_integrity_check(pki, trusted, sergey):
    document = ministry_document(sergey, pki)
    tampered = PDF.replace(b"No. 1", b"No. 7")

    body = post(tampered, bytes(document.signature)).json()

    assert body["valid"] is False and body["ministry_document"] is None
    assert checks(body)["integrity"] is False
    integrity = next(check for check in body["checks"] if check["code"] == "integrity")
    assert "изменены после подписания" in integrity["detail"]


def test_garbage_files_give_a_failed_protocol_not_a_server_error(trusted):
    body = post(b"\x00\xff garbage " * 100, b"not a signature at all").json()

    assert body["valid"] is False and body["certificate"] is None
    assert not any(checks(body).values())


@pytest.mark.parametrize(
    ("document", "signature", "field", "code"),
    [
        (None, b"x", "document", "required"),
        (PDF, None, "signature", "required"),
        (b"", b"x", "document", "file_empty"),
    ],
)
def test_a_missing_or_empty_file_is_a_structured_400(db, document, signature, field, code):
    response = post(document, signature)

    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == code and field in error["fields"]


def test_an_oversized_upload_is_refused_without_being_read_whole(settings, pki):
    settings.QES_VERIFY_DOCUMENT_MAX_BYTES = 1024 * 1024

    response = post(PDF + b"0" * (1024 * 1024), pki.signer.sign(PDF))

    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "file_too_large" and "document" in error["fields"]
    assert "больше 1 МБ" in error["message"]


def test_an_unknown_field_is_refused(db):
    response = post(PDF, b"x", extra="1")
    assert response.status_code == 400 and "extra" in response.json()["error"]["fields"]


def test_a_json_body_is_refused_with_415(db):
    response = Client().post(URL, {"document": "x"}, content_type="application/json")
    assert response.status_code == 415


def test_nothing_of_the_upload_is_stored(pki, trusted):
    tables = (SignedDocument, SigningCertificate, TrustedList)
    before = [model.objects.count() for model in tables]
    post(PDF, pki.official.sign(PDF))
    assert [model.objects.count() for model in tables] == before


@pytest.fixture
def verify_rate_2_per_min(settings):
    with throttle_rates(settings, signature_verify="2/min"):
        yield settings


def test_the_api_is_throttled_per_client(db, verify_rate_2_per_min):
    codes = [post(PDF, b"x").status_code for _ in range(3)]
    assert codes == [200, 200, 429]
    assert post(PDF, b"x").json()["error"]["code"] == "throttled"


def test_the_operation_is_in_the_schema_as_a_public_multipart_upload(db):
    schema = Client().get("/api/schema/", {"format": "json"}).json()
    operation = schema["paths"][URL]["post"]
    assert set(operation["requestBody"]["content"]) == {"multipart/form-data"}
    assert {"200", "400", "413", "415", "429"} <= set(operation["responses"])
    assert operation.get("security") in (None, [], [{}])


def test_a_ministry_document_stays_valid_after_its_officials_certificate_expired(pki, trusted, sergey):
    """Checked at the recorded moment of signing, not today: the certificate was valid then."""
    row = signing_certificate_add(user=sergey, certificate=pki.expired.pem, key_file=str(pki.expired.key))
    signature = pki.expired.sign(PDF)
    assert post(PDF, signature).json()["valid"] is False  # not the ministry's: checked today, expired

    SignedDocument.objects.create(
        sha256=hashlib.sha256(PDF).hexdigest(),
        file_name="notice-1.pdf",
        title="Уведомление о допуске № 1",
        signature=signature,
        certificate=row,
        signed_by=sergey,
        signed_at=row.not_after - timedelta(days=5),
    )
    body = post(PDF, signature).json()

    assert body["valid"] is True, body["checks"]
    assert checks(body)["validity"] is True and checks(body)["official"] is True
