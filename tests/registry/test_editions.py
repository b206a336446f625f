"""Editions of an issued certificate: a corrected edition (p.78(g), p.88(a)) changes only the
holder's names and the areas, keeps the number and the dates, signs the record again and replaces
the previous edition; a duplicate keeps everything and is handed over like the original; neither
is issued by anyone but the certificate officer, nor on an annulled certificate."""

from datetime import timedelta
from io import BytesIO
from urllib.parse import urlparse

import pytest
from django.db import transaction
from django.test import Client, TestCase
from pypdf import PdfReader

from core import calendar
from core.canonical import canonical_json
from core.errors import DomainError
from core.models import AuditEvent, Notification
from registry import selectors, signing
from registry.documents import qr_url
from registry.models import AnnulmentReason, AreaOfActivity, Certificate, CertificateEdition
from registry.services import (
    annulment_confirm,
    annulment_request,
    certificate_can_correct,
    certificate_can_issue_duplicate,
    certificate_correct,
    certificate_duplicate_issue,
    certificate_handover,
)
from tests.conftest import published_certificate


def pdf_text(source) -> str:
    """The words of a PDF (a stored file or its bytes), single-spaced."""
    if not isinstance(source, bytes):
        with source.open("rb") as fh:
            source = fh.read()
    return " ".join("".join(p.extract_text() for p in PdfReader(BytesIO(source)).pages).split())


def qr_path(certificate) -> str:
    target = urlparse(qr_url(certificate))
    return f"{target.path}?{target.query}"


def correct_surname(certificate, by, surname="Алексеева-Смирнова", **kwargs):
    options = {
        "reason": "Фамилия в заявлении указана с ошибкой",
        "basis": CertificateEdition.Basis.EXPERT_REQUEST,
        "request_date": calendar.today(),
        "request_channel": "portal",
        **kwargs,
    }
    with TestCase.captureOnCommitCallbacks(execute=True):
        edition = certificate_correct(certificate=certificate, by=by, changes={"last_name": surname}, **options)
    certificate.refresh_from_db()
    return edition


def test_a_correction_changes_the_name_keeps_the_number_and_dates_and_signs_the_record_again(certificate, olga):
    number, issued_on, expires_on, signed_at = (
        certificate.number,
        certificate.issued_on,
        certificate.expires_on,
        certificate.signed_at,
    )
    edition = correct_surname(certificate, olga)

    assert certificate.last_name == "Алексеева-Смирнова" and certificate.first_name == "Алиса"
    assert (certificate.number, certificate.issued_on, certificate.expires_on) == (number, issued_on, expires_on)
    assert certificate.signed_at > signed_at
    record = selectors.certificate_record(certificate)
    assert record["name"] == "Алексеева-Смирнова Алиса Петровна"
    assert signing.verify(record, certificate.signature, certificate.key_id)
    assert selectors.certificate_verified_status(certificate) == "valid"
    # The registry finds the expert by the corrected surname.
    [entry] = selectors.registry_search(query="Алексеева-Смирнова").items
    assert entry.certificate == certificate

    original, corrected = selectors.certificate_editions(certificate)
    assert corrected == edition and corrected.is_current and corrected.kind == "corrected"
    assert corrected.changes == {"last_name": {"old": "Алексеева", "new": "Алексеева-Смирнова"}}
    assert corrected.basis == "expert_request" and corrected.request_date == calendar.today()
    assert corrected.issued_by == olga
    assert original.kind == "original" and original.replaced_at is not None and not original.is_current
    # The replaced edition's file stays as issued; its copy is stamped replaced; the new one is
    # marked corrected.
    assert "Алексеева Алиса Петровна" in pdf_text(original.pdf) and "ЗАМЕНЁН" not in pdf_text(original.pdf)
    stamped = pdf_text(original.replaced_pdf)
    assert "ЭКЗЕМПЛЯР ЗАМЕНЁН" in stamped and "исправленный экземпляр № 2" in stamped
    assert "Алексеева Алиса Петровна" in stamped and number in stamped
    text = pdf_text(corrected.pdf)
    assert "ИСПРАВЛЕННЫЙ ЭКЗЕМПЛЯР" in text and "Алексеева-Смирнова" in text and number in text
    assert certificate.pdf.name == corrected.pdf.name != original.pdf.name

    # The public history says a corrected edition was issued, and which field, not what it said.
    history = certificate.history.get(kind="corrected")
    assert history.on == calendar.today() and "фамилия" in history.detail
    assert "Алексеева" not in history.detail
    event = AuditEvent.objects.get(verb="certificate_correct")
    assert event.actor == olga and event.reason == "Фамилия в заявлении указана с ошибкой"
    assert Notification.objects.filter(recipient=certificate.candidate, subject__contains="исправленный").exists()


def test_the_areas_can_be_corrected_and_the_open_data_feed_gives_the_entry_again(certificate, olga):
    updated_at = certificate.updated_at
    area = AreaOfActivity.objects.get(code="01")
    with TestCase.captureOnCommitCallbacks(execute=True):
        edition = certificate_correct(
            certificate=certificate,
            by=olga,
            changes={"areas": [area]},
            reason="Область 02 указана ошибочно",
            basis=CertificateEdition.Basis.OFFICER_FINDING,
        )
    certificate.refresh_from_db()
    assert list(certificate.areas.values_list("code", flat=True)) == ["01"]
    assert certificate.areas_text == area.title and certificate.updated_at > updated_at
    assert selectors.certificate_record(certificate)["areas"] == [area.title]
    assert edition.changes["areas"]["new"] == [area.title] and len(edition.changes["areas"]["old"]) == 2
    assert "области деятельности" in certificate.history.get(kind="corrected").detail


@pytest.mark.parametrize(
    "changes", [{"number": "2026-99999"}, {"issued_on": "2020-01-01"}, {"expires_on": "2040-01-01"}]
)
def test_the_number_and_the_dates_are_not_corrected(certificate, olga, changes):
    with pytest.raises(DomainError) as err:
        certificate_correct(
            certificate=certificate,
            by=olga,
            changes=changes,
            reason="Ошибка",
            basis=CertificateEdition.Basis.OFFICER_FINDING,
        )
    assert err.value.code == "not_correctable"
    assert certificate.editions.count() == 1 and not AuditEvent.objects.filter(verb="certificate_correct").exists()


def test_a_correction_needs_a_change_a_reason_and_its_basis(certificate, olga):
    def correct(**kwargs):
        options = {
            "changes": {"last_name": "Алексеевская"},
            "reason": "Ошибка",
            "basis": CertificateEdition.Basis.OFFICER_FINDING,
            **kwargs,
        }
        with pytest.raises(DomainError) as err:
            certificate_correct(certificate=certificate, by=olga, **options)
        return err.value

    assert correct(changes={"last_name": "Алексеева", "first_name": "Алиса"}).code == "no_changes"
    assert "reason" in correct(reason="").fields
    assert "request_date" in correct(basis=CertificateEdition.Basis.EXPERT_REQUEST, request_channel="mail").fields
    future = calendar.today() + timedelta(days=1)
    assert "request_date" in correct(basis="expert_request", request_date=future, request_channel="mail").fields
    before = certificate.issued_on - timedelta(days=1)
    assert "request_date" in correct(basis="expert_request", request_date=before, request_channel="mail").fields
    assert "request_channel" in correct(basis="expert_request", request_date=calendar.today()).fields
    assert "basis_reference" in correct(basis=CertificateEdition.Basis.COMPLAINT).fields
    assert "basis" in correct(basis=CertificateEdition.Basis.ISSUE).fields
    assert "first_name" in correct(changes={"first_name": " "}).fields
    assert certificate.editions.count() == 1


def edition_refusals(certificate, user) -> set[str]:
    """The codes with which a correction and a duplicate are refused to ``user``."""
    codes = set()
    with pytest.raises(DomainError) as err:
        correct_surname(certificate, user)
    codes.add(err.value.code)
    with pytest.raises(DomainError) as err:
        certificate_duplicate_issue(
            certificate=certificate, by=user, request_date=calendar.today(), request_channel="mail", reason="Утрата"
        )
    codes.add(err.value.code)
    return codes


def test_only_the_certificate_officer_issues_editions(certificate, olga, sergey, audrey):
    for user in (sergey, audrey):
        assert not certificate_can_correct(certificate=certificate, user=user)
        assert not certificate_can_issue_duplicate(certificate=certificate, user=user)
        assert edition_refusals(certificate, user) == {"forbidden"}
    assert certificate_can_correct(certificate=certificate, user=olga)
    assert certificate_can_issue_duplicate(certificate=certificate, user=olga)
    assert certificate.editions.count() == 1


def test_an_annulled_certificate_is_neither_corrected_nor_duplicated(certificate, olga, sergey):
    annulment = annulment_request(
        certificate=certificate, by=olga, reason=AnnulmentReason.objects.get(code="court"), basis="Решение № 1"
    )
    annulment_confirm(annulment=annulment, by=sergey)
    certificate.refresh_from_db()
    assert not certificate_can_correct(certificate=certificate, user=olga)
    assert not certificate_can_issue_duplicate(certificate=certificate, user=olga)
    assert edition_refusals(certificate, olga) == {"annulled"}


def test_the_qr_code_of_a_replaced_edition_is_genuine_but_not_current(certificate, olga):
    printed = qr_path(certificate)
    old = Client().get(f"/api/v1/registry/certificates/{certificate.number}/").json()
    correct_surname(certificate, olga)

    page = Client().get(printed).content.decode()
    assert 'data-qr="replaced"' in page and "заменённому экземпляру" in page
    assert 'data-status="valid"' in page and "Алексеева-Смирнова Алиса Петровна" in page
    assert 'data-qr="mismatch"' not in page
    verify = (
        Client()
        .post(
            "/api/v1/registry/verify/",
            {"record": old["record"], "signature": old["signature"], "key_id": old["key_id"]},
            content_type="application/json",
        )
        .json()
    )
    assert verify["verdict"] == "valid" and verify["current"] is False
    assert "заменённого экземпляра" in verify["message"]
    # The new edition's code is the current record.
    assert 'data-qr="valid"' in Client().get(qr_path(certificate)).content.decode()
    # A record signed with another name that no edition ever carried is still a mismatch.
    forged = dict(selectors.certificate_record(certificate), name="Алексеева Алиса Ивановна")
    key_id, signature = signing.sign(forged)
    assert selectors.record_check(forged, signature, key_id).verdict == "mismatch"
    payload = signing.b64encode(canonical_json(forged))
    assert selectors.qr_check(payload, signature, key_id, certificate=certificate) == "mismatch"


def test_a_duplicate_keeps_the_values_is_marked_and_handed_over_like_the_original(certificate, olga):
    certificate_handover(certificate=certificate, by=olga, method="in_person")
    signature = Certificate.objects.get(pk=certificate.pk).signature
    with TestCase.captureOnCommitCallbacks(execute=True):
        duplicate = certificate_duplicate_issue(
            certificate=certificate,
            by=olga,
            request_date=calendar.today(),
            request_channel="in_person",
            reason="Сертификат утрачен",
        )
    certificate.refresh_from_db()
    assert certificate.signature == signature  # nothing in the record changed
    original, current = selectors.certificate_editions(certificate)
    assert current == duplicate and duplicate.kind == "duplicate" and duplicate.number == 2
    assert duplicate.changes == {} and original.replaced_at is not None
    text = pdf_text(current.pdf)
    assert "ДУБЛИКАТ" in text and "Алексеева Алиса Петровна" in text and certificate.number in text
    assert "выдан дубликат № 2" in pdf_text(original.replaced_pdf)
    assert certificate.history.filter(kind="duplicate", on=calendar.today()).exists()
    assert AuditEvent.objects.filter(verb="certificate_duplicate_issue", actor=olga).exists()
    # The old QR code carries the same record: still valid.
    assert selectors.certificate_verified_status(certificate) == "valid"

    certificate_handover(certificate=certificate, by=olga, method="mail", tracking_number="12712312345678")
    duplicate.refresh_from_db()
    certificate.refresh_from_db()
    assert duplicate.handover == "mail" and duplicate.tracking_number == "12712312345678"
    assert duplicate.handover_at is not None
    assert certificate.handover == "in_person" and certificate.tracking_number == ""  # the original's
    handed = certificate.history.filter(kind="handed_over").order_by("at", "id").last()
    assert handed.detail.startswith("Дубликат (экземпляр № 2)")


def test_an_entry_made_without_editions_gets_its_original_when_first_corrected(db, olga):
    entry = published_certificate("2025-00042", "Борисов", "Борис", "Борисович")
    assert not entry.editions.exists()
    correct_surname(entry, olga, surname="Борисова")
    original, corrected = selectors.certificate_editions(entry)
    assert original.kind == "original" and original.replaced_at is not None
    assert original.record["name"] == "Борисов Борис Борисович"
    assert corrected.kind == "corrected" and corrected.record["name"] == "Борисова Борис Борисович"


def test_a_complaints_remedy_corrects_inside_its_own_transaction(certificate, olga):
    """The appeals app will call certificate_correct in the transaction of a complaint's remedy: the
    service must not insist on being the outermost one."""
    with transaction.atomic():
        edition = certificate_correct(
            certificate=certificate,
            by=olga,
            changes={"first_name": "Алисия"},
            reason="Ошибка в имени",
            basis=CertificateEdition.Basis.COMPLAINT,
            basis_reference="Жалоба № Ж-12 от 01.12.2026",
        )
    assert edition.basis == "complaint" and edition.basis_reference == "Жалоба № Ж-12 от 01.12.2026"
    assert edition.request_date is None


def test_the_sweeper_renders_the_new_edition_and_the_stamped_copy_a_lost_task_left(certificate, olga):
    from registry.tasks import certificate_pdf_sweep

    # The render task is queued after the commit; here it never runs, as if it were lost.
    certificate_correct(
        certificate=certificate,
        by=olga,
        changes={"first_name": "Алисия"},
        reason="Ошибка в имени",
        basis=CertificateEdition.Basis.OFFICER_FINDING,
    )
    original, corrected = selectors.certificate_editions(certificate)
    assert not corrected.pdf and not original.replaced_pdf
    assert certificate_pdf_sweep() == 1
    original, corrected = selectors.certificate_editions(certificate)
    assert "Алисия" in pdf_text(corrected.pdf) and "ЗАМЕНЁН" in pdf_text(original.replaced_pdf)
    assert certificate_pdf_sweep() == 0
