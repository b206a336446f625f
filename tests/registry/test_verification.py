"""The public verification of a certificate says "valid" only for a record that verifies: a row
changed in the database or a forged QR code gets one clear invalid verdict on the page and in the
API, never the green banner beside it."""

import json
from datetime import timedelta
from urllib.parse import urlencode, urlparse

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.test import Client

from core.canonical import canonical_json
from registry import selectors, signing
from registry.documents import qr_url
from registry.models import Certificate
from tests.conftest import published_certificate

VALID_BANNER = "Сертификат действителен"


def qr_path(certificate) -> str:
    target = urlparse(qr_url(certificate))
    return f"{target.path}?{target.query}"


def assert_invalid_only(page: str) -> None:
    assert 'data-status="invalid"' in page and "Сертификат не подтверждён" in page
    assert VALID_BANNER not in page and 'data-qr="valid"' not in page and "alert success" not in page


def test_a_genuine_certificate_is_valid_on_the_page_and_in_the_api(certificate):
    printed = qr_path(certificate)  # the QR code printed on the certificate
    page = Client().get(printed).content.decode()
    assert VALID_BANNER in page and 'data-qr="valid"' in page
    data = Client().get(f"/api/v1/registry/certificates/{certificate.number}/").json()
    assert data["status"] == "valid" and data["record_valid"] is True


def test_a_row_changed_in_the_database_is_invalid_on_the_page_the_entry_and_the_api(certificate):
    printed = qr_path(certificate)
    genuine = Client().get(f"/api/v1/registry/certificates/{certificate.number}/").json()
    Certificate.objects.filter(pk=certificate.pk).update(expires_on=certificate.expires_on + timedelta(days=3650))
    assert_invalid_only(Client().get(certificate.public_url()).content.decode())
    page = Client().get(printed).content.decode()  # even with the genuine QR code of the certificate
    assert_invalid_only(page)
    assert "не прошла проверку электронной подписи" in page
    entry = Client().get(f"/registry/certificates/{certificate.number}/").content.decode()
    assert 'data-status="invalid"' in entry and 'data-status="valid"' not in entry
    data = Client().get(f"/api/v1/registry/certificates/{certificate.number}/").json()
    assert data["status"] == "invalid" and data["record_valid"] is False
    # The record as signed at issue (from the printed QR code) is genuine, but the registry's row no
    # longer verifies: not valid.
    verify = Client().post(
        "/api/v1/registry/verify/",
        {"record": genuine["record"], "signature": genuine["signature"], "key_id": genuine["key_id"]},
        content_type="application/json",
    )
    assert verify.json()["valid"] is False and verify.json()["verdict"] == "record_invalid"


def test_a_forged_qr_payload_is_invalid_only(certificate):
    record = dict(selectors.certificate_record(certificate), expires_on="2099-12-31")
    forger = Ed25519PrivateKey.generate()
    signature = signing.b64encode(forger.sign(canonical_json(record)))
    query = urlencode({"d": signing.b64encode(canonical_json(record)), "s": signature, "k": certificate.key_id})
    page = Client().get(f"{certificate.public_url()}?{query}").content.decode()
    assert_invalid_only(page)
    assert 'data-qr="invalid"' in page and "не прошли проверку подписи" in page
    verify = (
        Client()
        .post(
            "/api/v1/registry/verify/",
            {"record": record, "signature": signature, "key_id": certificate.key_id},
            content_type="application/json",
        )
        .json()
    )
    assert verify["valid"] is False and verify["verdict"] == "invalid_signature"
    assert verify["message"] == selectors.VERDICTS["invalid_signature"]


def test_the_genuine_qr_code_of_another_certificate_is_invalid_only(certificate):
    other = published_certificate("2025-00009", "Борисов", "Борис", "Борисович")
    from registry.services import _sign_record

    _sign_record(other)
    other.save(update_fields=["key_id", "signature", "signed_at", "record_seal"])
    query = urlparse(qr_url(certificate)).query
    page = Client().get(f"{other.public_url()}?{query}").content.decode()
    assert_invalid_only(page)
    assert 'data-qr="mismatch"' in page


def test_a_certificate_never_signed_is_not_confirmed(db):
    unsigned = published_certificate("2025-00010", "Петров", "Пётр", signed=False)
    assert_invalid_only(Client().get(unsigned.public_url()).content.decode())


def verify_api(record, signature, key_id) -> dict:
    response = Client().post(
        "/api/v1/registry/verify/",
        {"record": record, "signature": signature, "key_id": key_id},
        content_type="application/json",
    )
    assert response.status_code == 200, response.content
    return response.json()


def test_an_earlier_record_of_a_certificate_annulled_since_is_genuine_but_not_valid(certificate, olga, sergey):
    from registry.models import AnnulmentReason
    from registry.services import annulment_confirm, annulment_request

    old = Client().get(f"/api/v1/registry/certificates/{certificate.number}/").json()
    annulment = annulment_request(
        certificate=certificate, by=olga, reason=AnnulmentReason.objects.get(code="court"), basis="Решение № 1"
    )
    annulment_confirm(annulment=annulment, by=sergey)
    # The record printed before the annulment still has a genuine signature: it is recognised as
    # this certificate's, and the answer is the certificate's status today, not the record's.
    verify = verify_api(old["record"], old["signature"], old["key_id"])
    assert verify["valid"] is False and verify["verdict"] == "annulled" and verify["found"] is True
    assert verify["status"] == "annulled" and verify["status_display"] == "Аннулирован"
    assert verify["current"] is False and "не последняя" in verify["message"]
    new = Client().get(f"/api/v1/registry/certificates/{certificate.number}/").json()
    assert verify["current_signed_at"] == new["record"]["signed_at"]
    # The current record of the annulled certificate: genuine and current, still not valid.
    current = verify_api(new["record"], new["signature"], new["key_id"])
    assert current["valid"] is False and current["status"] == "annulled" and current["current"] is True
    renamed = dict(old["record"], number="2099-99999")
    verify = verify_api(renamed, old["signature"], old["key_id"])
    assert verify["valid"] is False and verify["verdict"] == "invalid_signature" and verify["status"] is None
    assert json.dumps(verify, ensure_ascii=False)


def test_the_current_record_of_a_valid_certificate_is_valid_and_current(certificate):
    data = Client().get(f"/api/v1/registry/certificates/{certificate.number}/").json()
    verify = verify_api(data["record"], data["signature"], data["key_id"])
    assert verify["valid"] is True and verify["verdict"] == "valid" and verify["status"] == "valid"
    assert verify["found"] is True and verify["current"] is True
    assert verify["current_signed_at"] == data["record"]["signed_at"]


def test_a_genuine_record_of_a_number_not_in_the_registry_is_not_found(certificate):
    record = dict(selectors.certificate_record(certificate), number="2099-99999")
    key_id, signature = signing.sign(record)  # signed by the ministry's key, but no such certificate
    verify = verify_api(record, signature, key_id)
    assert verify["found"] is False and verify["verdict"] == "not_found" and verify["valid"] is False
    assert verify["status"] is None and verify["current"] is False and verify["current_signed_at"] is None
    assert verify["message"] == "Сертификата с таким номером в реестре нет."


def test_the_verify_answers_are_the_fields_of_the_schema(certificate):
    from registry.api.views import VerifyResultSerializer

    data = Client().get(f"/api/v1/registry/certificates/{certificate.number}/").json()
    assert set(verify_api(data["record"], data["signature"], data["key_id"])) == set(VerifyResultSerializer().fields)
    schema = Client().get("/api/schema/", {"format": "json"}).json()
    answer = schema["components"]["schemas"]["VerifyResult"]
    assert set(answer["required"]) == set(VerifyResultSerializer().fields)
