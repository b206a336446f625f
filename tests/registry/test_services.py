"""Decisions on attestation, certificates, annulment (p.59-64)."""

from datetime import date, timedelta
from io import BytesIO

import pytest
import time_machine
from dateutil.relativedelta import relativedelta
from django.urls import reverse
from pypdf import PdfReader

from core import calendar
from core.errors import DomainError
from core.models import AuditEvent, Deadline, Notification
from registry import selectors, signing
from registry.models import AnnulmentReason, AreaOfActivity, AttestationDecision, Certificate
from registry.services import (
    annulment_confirm,
    annulment_request,
    attestation_decision_draft,
    attestation_decision_sign,
    certificate_handover,
)
from tests.conftest import pass_the_test, run_concurrently


def test_a_pass_is_drafted_as_attested_signed_and_issued(exam_setup, sergey, olga):
    attempt = pass_the_test(exam_setup["credential"], correct=36)
    decision = attestation_decision_draft(attempt=attempt)
    assert decision.kind == "attested" and decision.status == "draft" and decision.score == 36
    deadline = Deadline.objects.get(kind=selectors.DEADLINE_DECISION)
    assert deadline.due_on == calendar.add_working_days(decision.test_date, 15)
    assert attestation_decision_draft(attempt=attempt) == decision  # idempotent
    from django.test import TestCase

    with TestCase.captureOnCommitCallbacks(execute=True):
        attestation_decision_sign(decision=decision, by=sergey)
    decision.refresh_from_db()
    assert decision.status == "signed" and decision.pdf
    assert Notification.objects.filter(recipient=exam_setup["candidate"], subject="Решение об аттестации").exists()
    with decision.pdf.open("rb") as fh:
        text = "".join(p.extract_text() for p in PdfReader(BytesIO(fh.read())).pages)
    assert "Решение об аттестации" in text and "36 из 40" in text


def test_a_fail_is_a_refusal_of_attestation(exam_setup, sergey):
    decision = attestation_decision_draft(attempt=pass_the_test(exam_setup["credential"], correct=35))
    assert decision.kind == "refused"
    attestation_decision_sign(decision=decision, by=sergey)
    assert not Deadline.objects.filter(kind=selectors.DEADLINE_CERTIFICATE).exists()


def test_the_certificate_has_a_number_dates_areas_a_pdf_and_a_signed_record(certificate, settings):
    assert certificate.number == f"{certificate.issued_on.year}-00001"
    assert certificate.expires_on == certificate.issued_on + relativedelta(years=5)
    assert certificate.status == "valid" and certificate.published_at is not None
    assert set(certificate.areas.values_list("code", flat=True)) == {"01", "02"}
    with certificate.pdf.open("rb") as fh:
        text = "".join(p.extract_text() for p in PdfReader(BytesIO(fh.read())).pages)
    assert "СЕРТИФИКАТ ЭКСПЕРТА" in text and "Алексеева Алиса Петровна" in text and certificate.number in text
    record = selectors.certificate_record(certificate)
    assert signing.verify(record, certificate.signature, certificate.key_id)
    assert list(certificate.history.values_list("kind", flat=True)) == ["issued", "published"]
    assert Deadline.objects.get(kind=selectors.DEADLINE_PUBLISH).completed_at is not None


def test_one_changed_character_fails_the_signature(certificate):
    record = selectors.certificate_record(certificate)
    assert signing.verify(record, certificate.signature, certificate.key_id)
    tampered = dict(record, name=record["name"].replace("Алиса", "Алиса "))
    assert not signing.verify(tampered, certificate.signature, certificate.key_id)
    last_digit = record["expires_on"][-1]
    tampered = dict(record, expires_on=record["expires_on"][:-1] + ("8" if last_digit == "9" else "9"))
    assert tampered["expires_on"] != record["expires_on"]
    assert not signing.verify(tampered, certificate.signature, certificate.key_id)
    signature = certificate.signature
    forged = signature[:10] + ("B" if signature[10] != "B" else "C") + signature[11:]
    assert not signing.verify(record, forged, certificate.key_id)
    assert not signing.verify(record, certificate.signature, "unknown-key")


def test_a_key_outside_its_validity_period_does_not_verify(certificate):
    from registry.models import SigningKey

    SigningKey.objects.filter(key_id=certificate.key_id).update(valid_to=certificate.signed_at - timedelta(seconds=1))
    assert not signing.verify(selectors.certificate_record(certificate), certificate.signature, certificate.key_id)


def test_a_term_of_years_ends_on_the_same_date_of_its_last_year():
    """Civil Code art. 192: issued on 22.11.2026 for 5 years, valid through 22.11.2031 (a Saturday,
    not moved: a period of validity, not a term to act)."""
    from registry.services import expiry_date

    assert expiry_date(date(2026, 11, 22)) == date(2031, 11, 22)
    assert expiry_date(date(2028, 2, 29)) == date(2033, 2, 28)


def test_expiry_five_years_later_flips_the_status_the_day_after(certificate):
    five_years = certificate.issued_on + relativedelta(years=5)
    assert certificate.status_on(five_years) == "valid"
    assert certificate.status_on(five_years + timedelta(days=1)) == "expired"
    with time_machine.travel((five_years + timedelta(days=1)).isoformat() + "T10:00:00+03:00"):
        assert Certificate.objects.get(pk=certificate.pk).status == "expired"
        [entry] = selectors.registry_search(status="expired").items
        assert entry.certificate == certificate and entry.status == "expired"
        assert selectors.registry_search(status="valid").items == []


def test_annulment_needs_a_reason_a_basis_and_another_signatory(certificate, olga, sergey):
    from registry.forms import AnnulmentRequestForm

    reason = AnnulmentReason.objects.get(code="court")
    form = AnnulmentRequestForm({"reason": reason.pk, "basis": "  "})
    assert not form.is_valid() and form.errors["basis"] == ["Обязательное поле."]
    with pytest.raises(DomainError):
        annulment_request(certificate=certificate, by=olga, reason=reason, basis="")
    annulment = annulment_request(certificate=certificate, by=olga, reason=reason, basis="Решение суда № 2-123/2026")
    with pytest.raises(DomainError):
        annulment_request(certificate=certificate, by=olga, reason=reason, basis="ещё раз")
    annulment_confirm(annulment=annulment, by=sergey)
    certificate.refresh_from_db()
    assert certificate.status == "annulled" and certificate.annulled_on == calendar.today()
    assert signing.verify(selectors.certificate_record(certificate), certificate.signature, certificate.key_id)
    assert selectors.certificate_record(certificate)["annulment_reason"].startswith(
        "Вступившее в законную силу решение суда"
    )
    assert certificate.history.filter(kind="annulled", detail__contains="2-123/2026").exists()
    assert Certificate.objects.filter(pk=certificate.pk).exists()  # never deleted
    assert AuditEvent.objects.filter(verb="certificate_annul", actor=sergey).exists()


def test_the_officer_who_asked_cannot_confirm_the_annulment(certificate, olga):
    from tests.conftest import make_user

    both = make_user("both@mintrud.test", last="Двойнова", first="Дина", roles=("certificate_officer", "signatory"))
    annulment = annulment_request(
        certificate=certificate, by=both, reason=AnnulmentReason.objects.first(), basis="Письмо № 1"
    )
    with pytest.raises(DomainError) as err:
        annulment_confirm(annulment=annulment, by=both)
    assert err.value.code == "same_person"


def test_handover_by_mail_needs_a_tracking_number(certificate, olga):
    for wrong in ("12", "1271231234567X", "RA12345678RU", "1234567890123"):
        with pytest.raises(DomainError) as err:
            certificate_handover(certificate=certificate, by=olga, method="mail", tracking_number=wrong)
        assert "tracking_number" in err.value.fields
    term = Deadline.objects.get(kind=selectors.DEADLINE_CERTIFICATE, case_id=certificate.decision_id)
    assert term.completed_at is None  # issued, not yet handed over: p.12(v) covers both
    certificate_handover(certificate=certificate, by=olga, method="mail", tracking_number="ra 123456789 ru")
    term.refresh_from_db()
    assert term.completed_at is not None
    certificate.refresh_from_db()
    assert certificate.tracking_number == "RA123456789RU"  # an international item (UPU S10)
    certificate_handover(certificate=certificate, by=olga, method="mail", tracking_number="12712312345678")
    certificate.refresh_from_db()
    assert certificate.handover == "mail" and certificate.tracking_number == "12712312345678"


def test_issuing_needs_a_signed_attestation_and_an_officer(exam_setup, sergey, olga, victor):
    from registry.services import certificate_issue

    decision = attestation_decision_draft(attempt=pass_the_test(exam_setup["credential"]))
    areas = list(AreaOfActivity.objects.all()[:1])
    with pytest.raises(DomainError):
        certificate_issue(decision=decision, by=olga, areas=areas)  # not signed yet
    attestation_decision_sign(decision=decision, by=sergey)
    with pytest.raises(DomainError) as err:
        certificate_issue(decision=decision, by=victor, areas=areas)
    assert err.value.status == 403
    with pytest.raises(DomainError):
        certificate_issue(decision=decision, by=olga, areas=[])
    certificate_issue(decision=decision, by=olga, areas=areas)
    with pytest.raises(DomainError) as err:
        certificate_issue(decision=decision, by=olga, areas=areas)
    assert err.value.code == "already_issued"
    assert Certificate.objects.count() == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_fifty_concurrent_issues_get_distinct_consecutive_numbers(tasks_queued_not_run):
    from registry.services import certificate_issue
    from tests.conftest import ensure_reference_lists, finished_attempt_row, make_user

    ensure_reference_lists()

    officer = make_user("off@mintrud.test", last="Офицерова", first="Ольга", roles=("certificate_officer",))
    signer = make_user("sig@mintrud.test", last="Подписнов", first="Павел", roles=("signatory",))
    decisions = []
    for n in range(50):
        decision = attestation_decision_draft(attempt=finished_attempt_row(n))
        attestation_decision_sign(decision=decision, by=signer)
        decisions.append(decision)
    areas = list(AreaOfActivity.objects.all()[:1])
    _results, errors = run_concurrently(
        *[(lambda d=d: certificate_issue(decision=d, by=officer, areas=areas, publish=False)) for d in decisions],
        timeout=180,
    )
    assert not errors, errors
    numbers = sorted(int(n.split("-")[1]) for n in Certificate.objects.values_list("number", flat=True))
    assert numbers == list(range(1, 51))
    assert AttestationDecision.objects.filter(certificate__isnull=False).count() == 50


def test_finalising_the_final_attempt_drafts_the_decision_by_itself(exam_setup, sergey):
    from django.test import TestCase

    with TestCase.captureOnCommitCallbacks(execute=True):
        attempt = pass_the_test(exam_setup["credential"], correct=38)  # submitted through the exam service
    decision = AttestationDecision.objects.get(attempt=attempt)
    assert decision.kind == "attested" and decision.status == "draft" and decision.score == 38
    deadline = Deadline.objects.get(kind=selectors.DEADLINE_DECISION)
    assert deadline.due_on == calendar.add_working_days(decision.test_date, 15)
    # The signatory is told, in the message that counts the decisions awaiting signature.
    assert Notification.objects.filter(recipient=sergey, link=reverse("frontend:attestation_queue"), count=1).exists()


def test_publication_is_due_ten_working_days_from_issue_across_the_may_holidays(exam_setup, sergey, olga):
    from registry.services import certificate_issue

    decision = attestation_decision_draft(attempt=pass_the_test(exam_setup["credential"]))
    attestation_decision_sign(decision=decision, by=sergey)
    with time_machine.travel("2026-04-30T11:00:00+03:00", tick=False):  # Thursday; 1, 9 and 11 May are off
        certificate = certificate_issue(
            decision=decision, by=olga, areas=list(AreaOfActivity.objects.all()[:1]), publish=False
        )
    assert certificate.issued_on.isoformat() == "2026-04-30"
    deadline = Deadline.objects.get(kind=selectors.DEADLINE_PUBLISH)
    assert deadline.due_on.isoformat() == "2026-05-18" and deadline.completed_at is None


def test_a_number_format_without_the_year_does_not_start_again_next_year(settings, db):
    from django.db import transaction

    from registry.services import certificate_number_next

    settings.CERTIFICATE_NUMBER_FORMAT = "{seq:06d}"
    with transaction.atomic():
        numbers = [
            certificate_number_next(issued_on=date(2026, 12, 30)),
            certificate_number_next(issued_on=date(2027, 1, 11)),
        ]
    assert numbers == ["000001", "000002"]
    settings.CERTIFICATE_NUMBER_FORMAT = "{year}-{seq:05d}"
    with transaction.atomic():
        numbers = [
            certificate_number_next(issued_on=date(2026, 12, 30)),
            certificate_number_next(issued_on=date(2027, 1, 11)),
        ]
    assert numbers == ["2026-00001", "2027-00001"]


def test_an_expired_certificate_can_be_annulled_and_the_audit_says_it_was_expired(certificate, olga, sergey):
    reason = AnnulmentReason.objects.get(code="court")
    after_expiry = certificate.expires_on + timedelta(days=10)
    with time_machine.travel(after_expiry.isoformat() + "T10:00:00+03:00"):
        annulment = annulment_request(certificate=certificate, by=olga, reason=reason, basis="Решение суда № 5")
        annulment_confirm(annulment=annulment, by=sergey)
        certificate.refresh_from_db()
        assert certificate.status == "annulled"
    event = AuditEvent.objects.get(verb="certificate_annul")
    assert (event.from_state, event.to_state) == ("expired", "annulled")


def test_the_basis_document_is_stored_with_the_annulment(certificate, olga):
    from tests.conftest import png_bytes, upload

    annulment = annulment_request(
        certificate=certificate,
        by=olga,
        reason=AnnulmentReason.objects.get(code="court"),
        basis="Решение суда № 6",
        basis_file=upload("скан.png", png_bytes(), "image/png"),
    )
    annulment.refresh_from_db()
    with annulment.basis_file.open("rb") as fh:
        assert fh.read() == png_bytes()
    assert annulment.basis_file.name.endswith(".png")
    with pytest.raises(DomainError) as err:
        annulment_request(
            certificate=certificate,
            by=olga,
            reason=AnnulmentReason.objects.get(code="court"),
            basis="ещё раз",
            basis_file=upload("скан.pdf", b"not a document"),
        )
    assert "basis_file" in err.value.fields


def test_the_decision_letter_says_attested_or_refused_as_its_kind(exam_setup, alice, sergey):
    from registry.documents import render_decision_pdf
    from tests.registry.test_editions import pdf_text

    passed = attestation_decision_draft(attempt=pass_the_test(exam_setup["credential"], correct=38))
    text = pdf_text(render_decision_pdf(decision=passed))
    assert "Решение об аттестации на право" in text and "удовлетворительный" in text
    assert "неудовлетворительный" not in text
    failed = AttestationDecision(application=passed.application, kind=AttestationDecision.Kind.REFUSED, score=35)
    failed.test_date = passed.test_date
    text = pdf_text(render_decision_pdf(decision=failed))
    assert "Решение об отказе в аттестации" in text and "неудовлетворительный" in text
