"""Every letter the ministry sends has its own outgoing number from one series across the kinds:
the admission notice, the refusal letter, the decision on attestation, the complaint answer."""

import importlib
import subprocess
import sys
from datetime import timedelta
from io import BytesIO

import pytest
from django.apps import apps
from django.test import TestCase
from django.urls import reverse
from django.utils import timezone
from pypdf import PdfReader

from appeals import services as appeals
from appeals.models import Complaint
from core.models import Counter, OutgoingLetter
from exam.admission.services import notice_issue
from exam.models import Decision
from registry.models import AttestationDecision
from tests.conftest import client_for, complaint_data, finished_attempt_row, make_user, registered_application
from tests.exam.test_concurrency import _race as race


def pdf_text(field_file) -> str:
    with field_file.open("rb") as fh:
        return "\n".join(page.extract_text() for page in PdfReader(BytesIO(fh.read())).pages)


def test_the_admission_notice_and_the_attestation_decision_of_one_application_print_different_numbers(
    certificate, settings
):
    admission = Decision.objects.get(application=certificate.decision.application)
    notice = notice_issue(decision=admission)
    attestation = AttestationDecision.objects.get(pk=certificate.decision_id)
    year = timezone.localtime().year
    assert admission.outgoing_number == f"ИСХ-{year}-00001"
    assert attestation.outgoing_number == f"ИСХ-{year}-00002"
    notice_text, decision_text = pdf_text(notice.pdf), pdf_text(attestation.pdf)
    assert f"№ ИСХ-{year}-00001" in notice_text and f"№ ИСХ-{year}-00002" in decision_text
    # Not the application's number with the pk of a row of either table, which both once printed.
    registration = admission.application.registration_number
    assert f"{registration}/" not in notice_text and f"{registration}/" not in decision_text
    journal = list(OutgoingLetter.objects.values_list("number", "kind"))
    assert journal == [(f"ИСХ-{year}-00001", "admission_notice"), (f"ИСХ-{year}-00002", "attestation_decision")]


def test_the_numbers_are_shown_where_the_letters_are(certificate, alice, sergey):
    admission = Decision.objects.get(application=certificate.decision.application)
    notice_issue(decision=admission)
    application = admission.application
    page = client_for(alice).get(reverse("frontend:cabinet_application", args=[application.pk])).content.decode()
    assert admission.outgoing_number in page and certificate.decision.outgoing_number in page
    staff = client_for(sergey)
    assert admission.outgoing_number in staff.get(application.staff_url()).content.decode()
    decision_page = staff.get(reverse("frontend:attestation_decision", args=[certificate.decision_id]))
    assert certificate.decision.outgoing_number in decision_page.content.decode()


def test_a_refusal_letter_and_a_complaint_answer_continue_the_same_series(alice, oscar, victor, sergey, hanna):
    from exam.admission import services

    application = registered_application(oscar)
    services.application_start_review(application=application, by=victor)
    refusal = services.decision_draft(
        application=application, by=victor, kind="refusal", grounds=["a_experience"], explanation="Опыт менее 3 лет."
    )
    refusal = services.decision_sign(decision=refusal, by=sergey)
    from exam.admission.api.serializers import DecisionSerializer

    assert DecisionSerializer(refusal).data["outgoing_number"] == refusal.outgoing_number
    complaint = appeals.complaint_file(data=complaint_data(), channel="portal", complainant=alice)
    complaint = appeals.complaint_decide(
        complaint=complaint, by=hanna, outcome="refuse", refusal_ground="unfounded", text="Нет.", handler_position="Зам"
    )
    with TestCase.captureOnCommitCallbacks(execute=True):
        answered = appeals.complaint_answer(complaint=complaint)
    year = timezone.localtime().year
    assert (refusal.outgoing_number, answered.outgoing_number) == (f"ИСХ-{year}-00001", f"ИСХ-{year}-00002")
    assert f"№ ИСХ-{year}-00002" in pdf_text(answered.answer_pdf)
    page = client_for(alice).get(reverse("frontend:cabinet_complaint", args=[complaint.pk])).content.decode()
    assert answered.outgoing_number in page
    # Rendering again (a retry) keeps the number.
    assert appeals.complaint_answer(complaint=answered).outgoing_number == answered.outgoing_number
    assert OutgoingLetter.objects.count() == 2


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_eight_letters_of_two_kinds_signed_in_parallel_get_eight_distinct_numbers(tasks_queued_not_run, settings):
    settings.OUTGOING_NUMBER_FORMAT = "{year}-{seq:05d}"
    from exam.admission import services
    from exam.models import Application
    from registry.services import attestation_decision_draft, attestation_decision_sign

    reviewer = make_user("rev@mintrud.test", last="Ревьюев", first="Роман", roles=("reviewer",))
    signer = make_user("sig@mintrud.test", last="Подписнов", first="Павел", roles=("signatory",))
    letters = []
    for n in range(4):
        candidate = make_user(f"c{n}@example.ru", last="Кандидатов", first="Кирилл")
        application = Application.objects.create(
            candidate=candidate, status="decision_drafted", registration_number=f"З-{n}", last_name="Кандидатов"
        )
        draft = Decision.objects.create(
            application=application, kind="refusal", grounds=["b"], explanation="Не все документы.", drafted_by=reviewer
        )
        letters.append(lambda draft=draft: services.decision_sign(decision=draft, by=signer))
    for n in range(4):
        decision = attestation_decision_draft(attempt=finished_attempt_row(n))
        letters.append(lambda decision=decision: attestation_decision_sign(decision=decision, by=signer))
    _results, errors = race(letters)
    assert not errors, errors
    numbers = [*Decision.objects.values_list("outgoing_number", flat=True)]
    numbers += AttestationDecision.objects.values_list("outgoing_number", flat=True)
    assert len(numbers) == 8 and len(set(numbers)) == 8 and all(numbers)
    assert sorted(int(n.split("-")[1]) for n in numbers) == list(range(1, 9))
    assert OutgoingLetter.objects.count() == 8


def test_letters_signed_before_the_numbers_get_them_in_the_order_they_were_signed(certificate, alice, hanna):
    """The data migration: existing rows, ordered by signing time across the kinds."""
    admission = Decision.objects.get(application=certificate.decision.application)
    attestation = certificate.decision
    complaint = appeals.complaint_file(data=complaint_data(), channel="portal", complainant=alice)
    complaint = appeals.complaint_decide(
        complaint=complaint, by=hanna, outcome="refuse", refusal_ground="unfounded", text="Нет.", handler_position="Зам"
    )
    appeals.complaint_answer(complaint=complaint)
    # As before the migration: no numbers; signed in the order complaint answer, decision, notice.
    base = timezone.now() - timedelta(days=10)
    Complaint.objects.filter(pk=complaint.pk).update(outgoing_number=None, answer_signed_at=base)
    AttestationDecision.objects.filter(pk=attestation.pk).update(outgoing_number=None, signed_at=base + timedelta(1))
    Decision.objects.filter(pk=admission.pk).update(outgoing_number=None, signed_at=base + timedelta(2))
    OutgoingLetter.objects.all().delete()
    Counter.objects.filter(scope="outgoing").delete()

    importlib.import_module("appeals.migrations.0005_outgoing_numbers_backfill").backfill(apps, None)

    year = timezone.localtime(base).year
    complaint.refresh_from_db()
    attestation.refresh_from_db()
    admission.refresh_from_db()
    assert complaint.outgoing_number == f"ИСХ-{year}-00001"
    assert attestation.outgoing_number == f"ИСХ-{year}-00002"
    assert admission.outgoing_number == f"ИСХ-{year}-00003"
    assert list(OutgoingLetter.objects.values_list("kind", flat=True)) == [
        "complaint_answer",
        "attestation_decision",
        "admission_notice",
    ]
    assert Counter.objects.get(scope="outgoing", year=year).value == 3  # new letters continue from here


@pytest.mark.parametrize("bad", ["ИСХ-{year}", "{seq}-{month}", "{seq:05d}" + "x" * 40])
def test_a_bad_outgoing_number_format_stops_the_start(bad, settings):
    result = subprocess.run(
        [sys.executable, "-c", "import django; from django.conf import settings; settings.DEBUG"],
        env={"DJANGO_SETTINGS_MODULE": "config.settings", "OUTGOING_NUMBER_FORMAT": bad, "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        check=False,
        cwd=settings.BASE_DIR,
    )
    assert result.returncode != 0 and "OUTGOING_NUMBER_FORMAT" in result.stderr
