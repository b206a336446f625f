"""Pages of the registry: the QR target ties the signed data to its own certificate; the staff
pages of decisions, certificates and annulment are for their roles only; the basis document of an
annulment is uploaded with it, checked by content."""

from urllib.parse import urlencode, urlparse

import pytest
from django.test import Client

from core import calendar
from core.canonical import canonical_json
from core.models import AuditEvent
from registry import selectors, signing
from registry.documents import qr_url
from registry.models import Annulment, AnnulmentReason
from tests.conftest import PDF_BYTES, client_for, published_certificate, upload


def qr_path(certificate) -> str:
    target = urlparse(qr_url(certificate))
    return f"{target.path}?{target.query}"


def test_the_qr_data_of_another_certificate_is_not_valid_on_this_page(certificate):
    other = published_certificate("2025-00009", "Борисов", "Борис", "Борисович")
    query = urlparse(qr_url(certificate)).query
    assert 'data-qr="valid"' in Client().get(qr_path(certificate)).content.decode()
    page = Client().get(f"{other.public_url()}?{query}").content.decode()
    assert 'data-qr="mismatch"' in page and 'data-qr="valid"' not in page
    assert "относятся к другому сертификату" in page


def test_signed_data_that_differ_from_the_registry_record_are_not_valid(certificate):
    record = dict(selectors.certificate_record(certificate), name="Алексеева Алиса Ивановна")
    key_id, signature = signing.sign(record)  # signed, but not what the registry holds
    payload = signing.b64encode(canonical_json(record))
    query = urlencode({"d": payload, "s": signature, "k": key_id})
    page = Client().get(f"{certificate.public_url()}?{query}").content.decode()
    assert 'data-qr="mismatch"' in page


def test_the_qr_code_printed_before_annulment_is_genuine_and_the_page_says_annulled(certificate, olga, sergey):
    from registry.services import annulment_confirm, annulment_request

    printed = qr_path(certificate)
    annulment = annulment_request(
        certificate=certificate, by=olga, reason=AnnulmentReason.objects.get(code="court"), basis="Решение № 1"
    )
    annulment_confirm(annulment=annulment, by=sergey)
    page = Client().get(printed).content.decode()
    assert 'data-status="annulled"' in page and 'data-qr="valid"' in page


@pytest.mark.parametrize("who", ["victor", "eva", "alice"])
def test_staff_pages_of_decisions_and_certificates_are_not_found_for_other_roles(certificate, request, who):
    client = client_for(request.getfixturevalue(who))
    pk, decision_pk = certificate.pk, certificate.decision_id
    for url in (
        "/staff/attestation/",
        f"/staff/attestation/{decision_pk}/",
        "/staff/certificates/",
        f"/staff/certificates/{pk}/",
        f"/staff/certificates/{pk}/certificate.pdf",
    ):
        assert client.get(url).status_code == 404, url
    assert client.post(f"/staff/attestation/{decision_pk}/certificate/", {"areas": [1]}).status_code == 404
    reason = AnnulmentReason.objects.get(code="court")
    response = client.post(f"/staff/certificates/{pk}/annul/", {"reason": reason.pk, "basis": "Письмо"})
    assert response.status_code == 404
    assert not Annulment.objects.exists()


def test_only_the_officer_asks_to_annul_and_only_a_signatory_confirms(certificate, olga, sergey, audrey):
    reason = AnnulmentReason.objects.get(code="court")
    url = f"/staff/certificates/{certificate.pk}/annul/"
    assert client_for(sergey).post(url, {"reason": reason.pk, "basis": "Письмо"}).status_code == 404
    assert client_for(audrey).post(url, {"reason": reason.pk, "basis": "Письмо"}).status_code == 404
    assert client_for(olga).post(url, {"reason": reason.pk, "basis": "Письмо"}).status_code == 302
    annulment = Annulment.objects.get()
    for user in (olga, audrey):
        assert client_for(user).post(f"/staff/annulments/{annulment.pk}/confirm/").status_code == 404
    assert Client().post(f"/staff/annulments/{annulment.pk}/confirm/").status_code == 302  # to the sign-in
    certificate.refresh_from_db()
    assert certificate.annulled_on is None
    client_for(sergey).post(f"/staff/annulments/{annulment.pk}/confirm/")
    certificate.refresh_from_db()
    assert certificate.annulled_on == calendar.today()


def test_the_officer_uploads_the_basis_document_and_the_signatory_opens_it(certificate, olga, sergey, alice):
    reason = AnnulmentReason.objects.get(code="court")
    response = client_for(olga).post(
        f"/staff/certificates/{certificate.pk}/annul/",
        {"reason": reason.pk, "basis": "Решение суда № 2-77/2026", "basis_file": upload("решение.pdf")},
        follow=True,
    )
    assert "направлено на подтверждение" in response.content.decode()
    annulment = Annulment.objects.get()
    assert annulment.basis_file
    page = client_for(sergey).get(f"/staff/certificates/{certificate.pk}/").content.decode()
    assert f'href="?annulment_basis={annulment.pk}"' in page
    download = client_for(sergey).get(f"/staff/certificates/{certificate.pk}/", {"annulment_basis": annulment.pk})
    assert download.status_code == 200 and b"".join(download.streaming_content) == PDF_BYTES
    assert AuditEvent.objects.filter(verb="annulment_basis_view", actor=sergey).exists()
    # Not for a candidate, nor through another certificate's page.
    other = published_certificate("2025-00009", "Борисов", "Борис")
    assert (
        client_for(alice).get(f"/staff/certificates/{certificate.pk}/?annulment_basis={annulment.pk}").status_code
        == 404
    )
    assert client_for(sergey).get(f"/staff/certificates/{other.pk}/?annulment_basis={annulment.pk}").status_code == 404
    for odd in ("²", "abc", "-1"):  # not a document's number: not found, never a 500
        response = client_for(sergey).get(f"/staff/certificates/{certificate.pk}/", {"annulment_basis": odd})
        assert response.status_code == 404


def test_a_basis_document_that_is_not_a_pdf_or_image_is_refused_and_nothing_is_saved(certificate, olga):
    reason = AnnulmentReason.objects.get(code="court")
    response = client_for(olga).post(
        f"/staff/certificates/{certificate.pk}/annul/",
        {
            "reason": reason.pk,
            "basis": "Решение суда № 2-77/2026",
            "basis_file": upload("решение.pdf", b"MZ\x90\x00 not a pdf", "application/pdf"),
        },
        follow=True,
    )
    assert "не является документом PDF, JPEG или PNG" in response.content.decode()
    assert not Annulment.objects.exists()
