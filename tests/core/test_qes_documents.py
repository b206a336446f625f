"""Every document the ministry issues is signed by its official (issue 12): the PDF carries the visible
stamp of the official's qualified certificate, a detached CAdES-BES signature is recorded beside it
and verifies over exactly the bytes the person receives; anyone holding the PDF downloads the .sig;
an e-mail carrying the PDF attaches it. With QES_SIGNING_REQUIRED an official without a certificate
cannot sign; otherwise the document goes out unsigned, with no stamp."""

from __future__ import annotations

import hashlib
from io import BytesIO, StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core import mail
from django.core.management import call_command
from django.test import TestCase
from django.urls import reverse
from django.utils import timezone
from pypdf import PdfReader

from appeals import services as appeals_services
from core.errors import DomainError
from core.models import LetterEdition
from core.qes import verifier
from core.qes.models import SignedDocument, SigningCertificate
from core.qes.pki import Pki, person
from core.qes.services import signing_certificate_add
from core.qes.trust import TrustedListTrust
from exam.admission import services
from exam.models import Decision, Notice
from registry import services as registry_services
from tests.conftest import client_for, complaint_data, registered_application
from tests.exam.test_services_notices import decide as decide_and_issue
from tests.exam.test_services_notices import paper_application

pytestmark = pytest.mark.django_db

STAMP = "ДОКУМЕНТ ПОДПИСАН ЭЛЕКТРОННОЙ ПОДПИСЬЮ"
POSITION = "Заместитель Министра труда и социальной защиты Российской Федерации"


@pytest.fixture(scope="session")
def more_officials(pki: Any) -> dict[str, Any]:
    """Certificates of the accredited test authority for the certificate officer and the complaint handler."""
    issuer = Pki(pki.folder)
    return {
        "olga": issuer.issue(pki.accredited, "olga", subject=person("Сертификатова", "Ольга", "", "11111111244")),
        "hanna": issuer.issue(pki.accredited, "hanna", subject=person("Жалобина", "Анна", "", "11111111345")),
    }


@pytest.fixture
def keys(pki: Any, trusted: Any, more_officials: dict[str, Any], sergey: Any, olga: Any, hanna: Any) -> None:
    """The signatory, the certificate officer and the complaint handler have their keys configured."""
    for user, party in [(sergey, pki.official), (olga, more_officials["olga"]), (hanna, more_officials["hanna"])]:
        signing_certificate_add(user=user, certificate=party.pem, key_file=str(party.key))


def decide(application: Any, victor: Any, sergey: Any, *, sitting: Any = None) -> Notice:
    notice = decide_and_issue(application, victor, sergey, sitting=sitting)
    assert notice is not None
    return notice


def content_of(file: Any) -> bytes:
    with file.open("rb") as fh:
        data: bytes = fh.read()
    return data


def words(content: bytes) -> str:
    return " ".join("".join(p.extract_text() for p in PdfReader(BytesIO(content)).pages).split())


def assert_signed(content: bytes, *, by: Any) -> SignedDocument:
    """The PDF's signature is recorded, made by ``by``'s certificate, verifies over exactly these
    bytes with the one verifier, and the stamp names the certificate."""
    signed = SignedDocument.objects.get(sha256=hashlib.sha256(content).hexdigest())
    assert signed.signed_by == by
    protocol = verifier.verify(content=content, signature=bytes(signed.signature), trust=TrustedListTrust())
    assert protocol.ok, protocol
    text = words(content)
    certificate = signed.certificate
    assert STAMP in text, text
    assert f"Сертификат: {certificate.serial}" in text
    assert f"Владелец: {certificate.owner}" in text
    # The stamp gives the days in Moscow time (the certificate's moments are in UTC).
    valid_from, valid_to = timezone.localtime(certificate.not_before), timezone.localtime(certificate.not_after)
    assert f"с {valid_from:%d.%m.%Y} по {valid_to:%d.%m.%Y}" in text
    return signed


@pytest.mark.parametrize("admitted", [True, False], ids=["admission_notice", "refusal_letter"])
def test_the_notice_is_signed_by_the_signatory_who_signed_the_decision(
    keys: None, alice: Any, victor: Any, sergey: Any, sitting: Any, admitted: bool
) -> None:
    notice = decide(registered_application(alice), victor, sergey, sitting=sitting if admitted else None)

    content = content_of(notice.pdf)
    signed = assert_signed(content, by=sergey)
    assert signed.file_name == notice.pdf.name and signed.certificate.owner == "Сергеев Сергей Сергеевич"
    assert "Подписал:" not in words(content)  # the qualified stamp replaces the simple one


def test_the_notice_emailed_with_its_password_is_signed_again_and_the_sig_travels_with_it(
    keys: None, rita: Any, victor: Any, sergey: Any, sitting: Any
) -> None:
    application = paper_application(rita, email="anna.k@example.ru")
    mail.outbox.clear()
    notice = decide(application, victor, sergey, sitting=sitting)

    message = next(m for m in mail.outbox if m.to == ["anna.k@example.ru"])
    [(pdf_name, pdf, _pdf_type), (sig_name, sig, sig_type)] = message.attachments
    assert sig_name == f"{pdf_name}.sig" and sig_type == "application/pkcs7-signature"
    assert pdf != content_of(notice.pdf)  # this copy holds the password, the stored one does not
    signed = assert_signed(pdf, by=sergey)
    assert bytes(signed.signature) == sig and signed.file_name == ""
    assert verifier.verify(content=pdf, signature=sig, trust=TrustedListTrust()).ok


def test_the_decision_on_attestation_and_the_certificate_and_its_duplicate_are_signed(
    keys: None, certificate: Any, sergey: Any, olga: Any
) -> None:
    decision = certificate.decision
    assert_signed(content_of(decision.pdf), by=sergey)
    assert_signed(content_of(certificate.pdf), by=olga)

    with TestCase.captureOnCommitCallbacks(execute=True):
        registry_services.certificate_duplicate_issue(
            certificate=certificate,
            by=olga,
            request_date=certificate.issued_on,
            request_channel="portal",
            reason="Утерян",
        )
    certificate.refresh_from_db()
    duplicate = content_of(certificate.pdf)
    assert "ДУБЛИКАТ" in words(duplicate)
    assert_signed(duplicate, by=olga)


def test_the_complaint_answer_is_signed_by_the_handler_p95(keys: None, alice: Any, hanna: Any) -> None:
    complaint = appeals_services.complaint_file(data=complaint_data(), channel="portal", complainant=alice)
    with TestCase.captureOnCommitCallbacks(execute=True):
        appeals_services.complaint_decide(
            complaint=complaint,
            by=hanna,
            handler_position=POSITION,
            outcome="refuse",
            refusal_ground="unfounded",
            text="Доводы не подтвердились.",
        )
    complaint.refresh_from_db()
    content = content_of(complaint.answer_pdf)
    assert_signed(content, by=hanna)
    assert complaint.answer_digest in words(content).replace(" ", "")  # the content's digest stays printed


def test_a_corrected_edition_is_signed_by_who_corrected_it_and_the_replaced_copy_is_not(
    keys: None, alice: Any, victor: Any, sergey: Any
) -> None:
    notice = decide(registered_application(alice), victor, sergey)
    with TestCase.captureOnCommitCallbacks(execute=True):
        edition = services.notice_correct(
            notice=notice,
            by=sergey,
            changes={"postal_address": "119019, г. Москва, ул. Арбат, д. 2"},
            reason="Опечатка в адресе",
            basis=LetterEdition.Basis.OWN_FINDING,
        )
    content = content_of(edition.pdf)
    assert "ИСПРАВЛЕННЫЙ ЭКЗЕМПЛЯР" in words(content)
    assert_signed(content, by=sergey)
    replaced = content_of(edition.previous_pdf)
    assert not SignedDocument.objects.filter(sha256=hashlib.sha256(replaced).hexdigest()).exists()
    assert "ЗАМЕНЁН" in words(replaced) and "Сертификат:" not in words(replaced)


def test_without_a_certificate_the_document_goes_out_unsigned_as_before(
    alice: Any, victor: Any, sergey: Any, sitting: Any
) -> None:
    notice = decide(registered_application(alice), victor, sergey, sitting=sitting)

    text = words(content_of(notice.pdf))
    assert "Сертификат:" not in text and "Подписал: Подписнов Сергей" in text
    assert not SignedDocument.objects.exists()


def test_when_signatures_are_required_an_official_without_a_certificate_cannot_sign(
    settings: Any, pki: Any, trusted: Any, alice: Any, victor: Any, sergey: Any, olga: Any, hanna: Any
) -> None:
    settings.QES_SIGNING_REQUIRED = True
    application = registered_application(alice)
    services.application_start_review(application=application, by=victor)
    decision = services.decision_draft(
        application=application, by=victor, kind="refusal", grounds=["a_training"], explanation="71 час."
    )
    assert not services.decision_can_sign(decision=decision, user=sergey)
    with pytest.raises(
        DomainError, match=r"сертификат ключа подписи не настроен \(должностное лицо: Подписнов Сергей\)"
    ) as exc:
        services.decision_sign(decision=decision, by=sergey)
    assert exc.value.status == 409
    decision.refresh_from_db()
    assert decision.state == Decision.State.DRAFT
    complaint = appeals_services.complaint_file(data=complaint_data(), channel="portal", complainant=alice)
    assert not appeals_services.complaint_can_decide(complaint=complaint, user=hanna)

    signing_certificate_add(user=sergey, certificate=pki.official.pem, key_file=str(pki.official.key))
    assert services.decision_can_sign(decision=decision, user=sergey)
    with TestCase.captureOnCommitCallbacks(execute=True):
        services.decision_sign(decision=decision, by=sergey)
    assert_signed(content_of(Notice.objects.get(application=application).pdf), by=sergey)


def test_the_signature_downloads_by_the_pdfs_digest_and_the_cabinet_links_it(
    keys: None, alice: Any, victor: Any, sergey: Any, sitting: Any, client: Any
) -> None:
    application = registered_application(alice)
    notice = decide(application, victor, sergey, sitting=sitting)
    signed = SignedDocument.objects.get(file_name=notice.pdf.name)
    url = reverse("frontend:document_signature", args=[signed.sha256])

    response = client.get(url)  # whoever holds the PDF: no account needed
    assert response.status_code == 200 and response.content == bytes(signed.signature)
    assert response["Content-Type"] == "application/pkcs7-signature"
    assert ".pdf.sig" in response["Content-Disposition"]
    assert client.get(url.replace(signed.sha256, "0" * 64)).status_code == 404
    assert client.get(url.replace(signed.sha256, "not-a-digest")).status_code == 404

    page = client_for(alice).get(reverse("frontend:cabinet_application", args=[application.pk]))
    assert f'href="{url}"' in page.content.decode()


def test_signing_certificate_add_configures_an_officials_key(pki: Any, sergey: Any, tmp_path: Path) -> None:
    certificate = tmp_path / "official.pem"
    certificate.write_bytes(pki.official.pem)
    out = StringIO()
    call_command(
        "signing_certificate_add",
        "--user",
        sergey.email,
        "--certificate",
        str(certificate),
        "--key",
        str(pki.official.key),
        stdout=out,
    )
    row = SigningCertificate.objects.get(user=sergey, active=True)
    assert row.owner == "Сергеев Сергей Сергеевич" and row.serial in out.getvalue()


def test_the_demo_signs_with_its_own_pki_and_a_second_run_reuses_it(tmp_path: Path, sergey: Any) -> None:
    from core.qes.demo import demo_signatures_load

    report = demo_signatures_load(folder=tmp_path, officials=[sergey])
    assert report is not None and report.officials == [sergey.email]
    first = SigningCertificate.objects.get(user=sergey, active=True)
    demo_signatures_load(folder=tmp_path, officials=[sergey])
    assert SigningCertificate.objects.get(user=sergey, active=True) == first

    from core.qes.signer import signer_for

    signer = signer_for(sergey)
    assert signer is not None
    content = b"%PDF-1.7 demo"
    assert verifier.verify(content=content, signature=signer.sign(content), trust=TrustedListTrust()).ok
