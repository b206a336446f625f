"""The decision on attestation reaches the applicant (p.59, p.64, p.12(v)): the cabinet, the e-mail
given on a paper application, or the post recorded by the registrar; a refusal's term ends at the
dispatch."""

from io import BytesIO

import pytest
from django.core import mail
from django.test import TestCase
from django.urls import reverse
from django.utils import timezone
from pypdf import PdfReader

from core.errors import DomainError
from core.models import AuditEvent, Deadline
from exam.admission import services as exam_services
from exam.models import Attachment
from registry import selectors
from registry.models import AttestationDecision
from registry.services import attestation_decision_dispatch, attestation_decision_draft, attestation_decision_sign
from registry.tasks import certificate_pdf_sweep
from tests.conftest import cleaned, client_for, complete_payload, make_bank, make_sitting, open_sitting, pass_the_test


def paper_attempt(rita, victor, sergey, eva, *, email: str, correct: int):
    """A paper applicant without a cabinet account, admitted, who took the test."""
    from exam.testing.services.bank import blueprint_set

    make_bank()
    blueprint_set(counts={"T1": 20, "T2": 20}, by=None)
    sitting = make_sitting(eva, days_ahead=1)
    application = exam_services.application_register_paper(
        by=rita,
        channel="in_person",
        received_at=timezone.now(),
        cleaned=cleaned(complete_payload(email=email)),
        paper_documents=list(Attachment.Kind.values),
    )
    exam_services.application_start_review(application=application, by=victor)
    decision = exam_services.decision_draft(application=application, by=victor, kind="admission", sitting=sitting)
    exam_services.decision_sign(decision=decision, by=sergey)
    open_sitting(sitting)
    application.refresh_from_db()
    return pass_the_test(application.exam_credential, correct=correct)


def sign(attempt, sergey, *, run_tasks: bool = True) -> AttestationDecision:
    decision = attestation_decision_draft(attempt=attempt)
    assert decision is not None
    with TestCase.captureOnCommitCallbacks(execute=run_tasks):
        attestation_decision_sign(decision=decision, by=sergey)
    decision.refresh_from_db()
    return decision


def dispatch_term(decision) -> Deadline:
    return Deadline.objects.get(kind=selectors.DEADLINE_DECISION_DISPATCH, case_id=decision.pk)


def test_a_cabinet_candidate_gets_the_decision_in_the_cabinet_and_that_is_the_dispatch(exam_setup, sergey):
    decision = sign(pass_the_test(exam_setup["credential"], correct=30), sergey)
    assert decision.dispatch_channel == "cabinet" and decision.dispatched_at is not None
    assert not Deadline.objects.filter(kind=selectors.DEADLINE_DECISION_DISPATCH).exists()
    assert AuditEvent.objects.filter(verb="attestation_decision_dispatch", case_id=decision.pk).exists()


def test_a_paper_applicant_with_an_email_gets_the_refusal_by_email(rita, victor, sergey, eva):
    attempt = paper_attempt(rita, victor, sergey, eva, email="anna.k@example.ru", correct=30)
    mail.outbox.clear()
    decision = sign(attempt, sergey)
    message = next(m for m in mail.outbox if m.to == ["anna.k@example.ru"])
    assert message.subject == "Решение об отказе в аттестации" and "30 из 40" in message.body
    (filename, content, mimetype) = message.attachments[0]
    assert filename.endswith(".pdf") and mimetype == "application/pdf"
    assert "Алексеева" in "".join(p.extract_text() for p in PdfReader(BytesIO(content)).pages)
    assert decision.dispatch_channel == "email" and decision.dispatch_reference == "anna.k@example.ru"
    assert dispatch_term(decision).completed_at == decision.dispatched_at
    assert certificate_pdf_sweep() == 0


def test_a_lost_email_is_sent_by_the_sweeper(rita, victor, sergey, eva):
    attempt = paper_attempt(rita, victor, sergey, eva, email="anna.k@example.ru", correct=30)
    decision = sign(attempt, sergey, run_tasks=False)
    assert not decision.pdf and decision.dispatched_at is None
    mail.outbox.clear()
    assert certificate_pdf_sweep() == 1
    decision.refresh_from_db()
    assert decision.dispatch_channel == "email" and [m.to for m in mail.outbox] == [["anna.k@example.ru"]]


def test_a_paper_refusal_waits_for_the_registrar_and_its_term_ends_at_the_dispatch(
    rita, victor, sergey, eva, olga, audrey
):
    decision = sign(paper_attempt(rita, victor, sergey, eva, email="", correct=30), sergey)
    assert decision.pdf and decision.dispatched_at is None
    term = dispatch_term(decision)
    assert term.completed_at is None and term.role == "registrar"
    assert term.due_on == Deadline.objects.get(kind=selectors.DEADLINE_DECISION, case_id=decision.pk).due_on
    url = reverse("frontend:attestation_decision", args=[decision.pk])
    page = client_for(rita).get(url).content.decode()
    assert "ожидает отправки почтой" in page and 'id="dispatch"' in page
    assert client_for(rita).get(reverse("frontend:attestation_decision_pdf", args=[decision.pk])).status_code == 200
    page = client_for(audrey).get(url).content.decode()
    assert "ожидает отправки почтой" in page and 'id="dispatch"' not in page
    assert certificate_pdf_sweep() == 0  # nothing to e-mail: it waits for the post

    for outsider in (olga, sergey):
        with pytest.raises(DomainError) as err:
            attestation_decision_dispatch(decision=decision, by=outsider, channel="post", reference="12712345678901")
        assert err.value.status == 403
    with pytest.raises(DomainError) as err:
        attestation_decision_dispatch(decision=decision, by=rita, channel="post", reference="RA12345678RU")
    assert "почтовый идентификатор" in err.value.message and "reference" in err.value.fields
    assert dispatch_term(decision).completed_at is None

    response = client_for(rita).post(
        reverse("frontend:attestation_decision_dispatch", args=[decision.pk]),
        {"channel": "post", "reference": "ra123456789ru"},
        follow=True,
    )
    page = response.content.decode()
    assert "Отправка документа отмечена" in page and "RA123456789RU" in page and 'id="dispatch"' not in page
    decision.refresh_from_db()
    assert decision.dispatch_channel == "post" and decision.dispatched_by == rita
    assert dispatch_term(decision).completed_at == decision.dispatched_at
    event = AuditEvent.objects.get(verb="attestation_decision_dispatch", case_id=decision.pk)
    assert event.actor == rita and event.reason == "RA123456789RU"

    with pytest.raises(DomainError) as err:
        attestation_decision_dispatch(decision=decision, by=rita, channel="in_person", reference="")
    assert err.value.code == "already_dispatched" and err.value.status == 409


def test_a_paper_attestation_letter_waits_for_the_registrar_among_the_open_terms(rita, victor, sergey, eva):
    """A decision of attestation to an applicant with neither a cabinet nor an e-mail is listed for
    the registrar like a refusal, until its dispatch is recorded."""
    decision = sign(paper_attempt(rita, victor, sergey, eva, email="", correct=40), sergey)
    assert decision.kind == "attested" and decision.dispatched_at is None
    term = dispatch_term(decision)
    assert term.completed_at is None and term.role == "registrar"
    decision = attestation_decision_dispatch(decision=decision, by=rita, channel="in_person", reference="Вручено")
    assert decision.dispatch_channel == "in_person" and decision.dispatch_reference == "Вручено"
    assert dispatch_term(decision).completed_at == decision.dispatched_at


def test_a_decision_is_emailed_once_whatever_runs_it_again(rita, victor, sergey, eva):
    """The task, its retry and the sweeper may all reach the same letter: one e-mail goes out."""
    from registry.services import attestation_decision_email

    attempt = paper_attempt(rita, victor, sergey, eva, email="anna.k@example.ru", correct=30)
    decision = sign(attempt, sergey)
    mail.outbox.clear()
    assert decision.dispatch_channel == "email"
    stale = AttestationDecision.objects.get(pk=decision.pk)
    stale.dispatched_at = None  # as a second task read it, before the first one sent it
    attestation_decision_email(decision=stale)
    assert mail.outbox == []


def test_an_unsigned_decision_cannot_be_dispatched(rita, victor, sergey, eva):
    decision = attestation_decision_draft(attempt=paper_attempt(rita, victor, sergey, eva, email="", correct=30))
    assert decision is not None
    with pytest.raises(DomainError) as err:
        attestation_decision_dispatch(decision=decision, by=rita, channel="post", reference="12712345678901")
    assert err.value.status == 409
