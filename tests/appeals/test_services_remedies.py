"""The remedies of an upheld complaint (p.88-89): each done by the service of its own step, in one
transaction; the remedy counts as done only when that service has completed."""

import pytest
from django.test import TestCase
from django.urls import reverse

from appeals import services
from appeals.models import Complaint
from core import calendar
from core.errors import DomainError
from core.models import AuditEvent, Deadline, LetterEdition
from exam.admission import services as admission
from exam.admission.selectors import DEADLINE_DECISION
from exam.models import Application, Decision
from registry.models import AttestationDecision, CertificateEdition
from registry.services import attestation_decision_draft, attestation_decision_sign
from tests.conftest import (
    certify,
    client_for,
    complaint_data,
    complete_payload,
    fill_application,
    make_user,
    pass_the_test,
    registered_application,
    run_concurrently,
    sign_and_submit,
)
from tests.exam.test_services_notices import decide

POSITION = "Заместитель Министра труда и социальной защиты Российской Федерации"


def upheld(complainant, hanna, remedy, *, subject="e"):
    complaint = services.complaint_file(data=complaint_data(subject=subject), channel="portal", complainant=complainant)
    with TestCase.captureOnCommitCallbacks(execute=True):
        services.complaint_decide(
            complaint=complaint,
            by=hanna,
            handler_position=POSITION,
            outcome="uphold",
            remedy=remedy,
            text="Решение принято по основаниям, не предусмотренным Регламентом.",
        )
    complaint.refresh_from_db()
    return complaint


def remedy_term(complaint):
    return Deadline.objects.get(kind="complaint.remedy", case_id=complaint.pk)


def refused_admission(candidate, reviewer, signatory):
    payload = complete_payload()
    payload["additional_education"][0]["assessment_hours"] = 71
    application = registered_application(candidate, payload)
    admission.application_start_review(application=application, by=reviewer)
    decision = admission.decision_draft(
        application=application, by=reviewer, kind="refusal", grounds=["a_training"], explanation="71 час."
    )
    with TestCase.captureOnCommitCallbacks(execute=True):
        admission.decision_sign(decision=decision, by=signatory)
    application.refresh_from_db()
    return application


def test_a_refusal_to_accept_is_cancelled_by_the_registrar_and_only_then_the_remedy_is_done(alice, rita, hanna, olga):
    application = admission.application_start(candidate=alice)
    fill_application(application, alice, attachments=False)
    sign_and_submit(application, alice)
    complaint = upheld(alice, hanna, "cancel_not_accepted", subject="d")
    term = remedy_term(complaint)
    assert term.role == "registrar" and term.due_on == calendar.add_working_days(calendar.today(), 5)
    for wrong in (hanna, olga):
        with pytest.raises(DomainError) as err:
            services.complaint_remedy_carry_out(complaint=complaint, by=wrong)
        assert err.value.status == 403
    assert remedy_term(complaint).completed_at is None
    with pytest.raises(DomainError):  # a note does not do a remedy that has its own service
        services.complaint_remedy_done(complaint=complaint, by=olga, note="Зарегистрировано")
    services.complaint_remedy_carry_out(complaint=complaint, by=rita)
    application.refresh_from_db()
    assert application.status == Application.Status.REGISTERED and application.registration_number
    assert remedy_term(complaint).completed_at is not None
    done = AuditEvent.objects.get(verb="complaint_remedy_done", case_id=complaint.pk)
    assert done.actor == rita and done.data["service"] == "application_refusal_to_accept_cancel"
    assert done.data["registration_number"] == application.registration_number
    with pytest.raises(DomainError) as err:
        services.complaint_remedy_carry_out(complaint=complaint, by=rita)
    assert err.value.code == "remedy_done"


def test_a_refusal_of_admission_is_cancelled_with_a_new_term_from_the_complaint_decision(alice, victor, sergey, hanna):
    application = refused_admission(alice, victor, sergey)
    complaint = upheld(alice, hanna, "cancel_admission_refusal")
    assert remedy_term(complaint).role == "complaint_handler"
    services.complaint_remedy_carry_out(complaint=complaint, by=hanna)
    application.refresh_from_db()
    assert application.status == Application.Status.REGISTERED
    assert application.decisions.get().state == Decision.State.CANCELLED
    decided_on = calendar.moscow_date(complaint.decided_at)
    term = Deadline.objects.get(kind=DEADLINE_DECISION, case_id=application.pk, completed_at__isnull=True)
    assert (term.started_on, term.due_on) == (decided_on, calendar.add_working_days(decided_on, 20))
    assert complaint.number in application.decisions.get().cancel_reason
    done = AuditEvent.objects.get(verb="complaint_remedy_done", case_id=complaint.pk)
    assert done.data["service"] == "application_admission_refusal_cancel"


def test_a_refusal_of_attestation_is_cancelled_and_a_new_decision_drafted(exam_setup, alice, sergey, hanna):
    refusal = attestation_decision_draft(attempt=pass_the_test(exam_setup["credential"], correct=30))
    attestation_decision_sign(decision=refusal, by=sergey)
    complaint = upheld(alice, hanna, "cancel_attestation_refusal")
    services.complaint_remedy_carry_out(complaint=complaint, by=hanna)
    refusal.refresh_from_db()
    assert refusal.superseded
    new = AttestationDecision.objects.get(superseded=False)
    assert new.status == "draft"
    done = AuditEvent.objects.get(verb="complaint_remedy_done", case_id=complaint.pk)
    assert done.data == {
        "remedy": "cancel_attestation_refusal",
        "service": "attestation_refusal_cancel",
        "decision": refusal.pk,
        "new_decision": new.pk,
    }


def test_the_certificate_remedy_is_done_when_the_certificate_is_issued(exam_setup, alice, sergey, hanna, olga):
    attempt = pass_the_test(exam_setup["credential"], correct=40)
    complaint = upheld(alice, hanna, "issue_certificate", subject="b")
    assert remedy_term(complaint).role == "certificate_officer"
    with pytest.raises(DomainError):  # issued by the registry, not by a note
        services.complaint_remedy_done(complaint=complaint, by=olga, note="Выдан")
    assert not services.complaint_can_carry_out_remedy(complaint=complaint, user=olga)
    certificate = certify(attempt, sergey, olga)
    term = remedy_term(complaint)
    assert term.completed_at is not None and term.cancelled_at is None
    done = AuditEvent.objects.get(verb="complaint_remedy_done", case_id=complaint.pk)
    assert done.actor == olga and done.data["service"] == "certificate_issue"
    assert done.data["certificate"] == certificate.number


@pytest.mark.parametrize(
    ("remedy", "subject"),
    [
        ("cancel_admission_refusal", "e"),
        ("correct_errors", "g"),  # nothing issued yet: no document to correct
    ],
)
def test_a_remedy_that_cannot_apply_to_the_application_is_not_chosen(alice, hanna, remedy, subject):
    registered_application(alice)  # registered, not refused
    complaint = services.complaint_file(data=complaint_data(subject=subject), channel="portal", complainant=alice)
    with pytest.raises(DomainError) as err:
        services.complaint_decide(
            complaint=complaint,
            by=hanna,
            handler_position=POSITION,
            outcome="uphold",
            remedy=remedy,
            text="Да.",
        )
    assert err.value.code == "remedy_not_applicable" and "remedy" in err.value.fields
    complaint.refresh_from_db()
    assert complaint.status == Complaint.Status.REGISTERED


def test_other_measures_are_closed_by_the_certificate_officers_note(alice, hanna, olga):
    registered_application(alice)
    complaint = upheld(alice, hanna, "other")
    assert services.complaint_can_record_remedy(complaint=complaint, user=olga)
    assert not services.complaint_can_carry_out_remedy(complaint=complaint, user=olga)
    services.complaint_remedy_done(complaint=complaint, by=olga, note="Проведена проверка, виновные наказаны.")
    assert remedy_term(complaint).completed_at is not None
    assert AuditEvent.objects.get(verb="complaint_remedy_done", case_id=complaint.pk).data["service"] == "note"


def test_the_complaint_page_shows_the_remedy_form_to_its_official_with_the_target(alice, victor, sergey, hanna, rita):
    application = refused_admission(alice, victor, sergey)
    complaint = upheld(alice, hanna, "cancel_admission_refusal")
    url = reverse("frontend:complaint_staff", args=[complaint.pk])
    page = client_for(hanna).get(url).content.decode()
    assert 'id="remedy-carry-out"' in page and application.registration_number in page
    assert "Отказано в аттестационном испытании" in page  # the target at its stage
    assert 'id="remedy-carry-out"' not in client_for(rita).get(url).content.decode()
    client = client_for(hanna)
    carry_out = reverse("frontend:complaint_remedy_carry_out", args=[complaint.pk])
    client.post(carry_out, {})  # not confirmed: nothing happens
    assert remedy_term(complaint).completed_at is None
    client.post(carry_out, {"confirm": "on"})
    assert remedy_term(complaint).completed_at is not None
    page = client.get(url).content.decode()
    assert "data-remedy-done" in page and 'id="remedy-carry-out"' not in page


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_double_click_carries_the_remedy_out_once():
    victor = make_user("victor@mintrud.test", last="Рассмотрин", first="Виктор", roles=("reviewer",))
    sergey = make_user("sergey@mintrud.test", last="Подписнов", first="Сергей", roles=("signatory",))
    hanna = make_user("hanna@mintrud.test", last="Жалобина", first="Анна", roles=("complaint_handler",))
    alice = make_user("alice@example.ru", last="Алексеева", first="Алиса", patronymic="Петровна")
    application = refused_admission(alice, victor, sergey)
    complaint = upheld(alice, hanna, "cancel_admission_refusal")
    results, errors = run_concurrently(
        *[lambda: services.complaint_remedy_carry_out(complaint=complaint, by=hanna) for _ in range(2)]
    )
    assert len(results) == 1 and len(errors) == 1 and isinstance(errors[0], DomainError), errors
    assert AuditEvent.objects.filter(verb="reopen_review", case_id=application.pk).count() == 1
    assert AuditEvent.objects.filter(verb="complaint_remedy_done", case_id=complaint.pk).count() == 1


# --- Correction of errors (p.78(g), p.88(a)): a corrected edition by the document's own service --------


def corrected_on(complaint, by, document, **changes):
    with TestCase.captureOnCommitCallbacks(execute=True):
        return services.complaint_remedy_carry_out(
            complaint=complaint, by=by, correction=services.ErrorCorrection(document=document, changes=changes)
        )


def test_a_certificate_is_corrected_on_a_complaint_of_subject_g_and_only_then_the_remedy_is_done(
    exam_setup, alice, sergey, hanna, olga
):
    certificate = certify(pass_the_test(exam_setup["credential"], correct=40), sergey, olga)
    complaint = upheld(alice, hanna, "correct_errors", subject="g")
    assert remedy_term(complaint).due_on == calendar.add_working_days(calendar.today(), 5)  # p.87, p.89
    assert services.complaint_can_carry_out_remedy(complaint=complaint, user=olga)
    corrected_on(complaint, olga, "certificate", last_name="Алексеева-Петрова")
    certificate.refresh_from_db()
    assert certificate.last_name == "Алексеева-Петрова" and certificate.number
    edition = CertificateEdition.objects.get(certificate=certificate, kind="corrected")
    assert edition.basis == CertificateEdition.Basis.COMPLAINT
    assert complaint.number in edition.basis_reference and complaint.registered_on.strftime("%d.%m.%Y") in (
        edition.basis_reference
    )
    assert edition.changes["last_name"] == {"old": "Алексеева", "new": "Алексеева-Петрова"}
    assert remedy_term(complaint).completed_at is not None
    done = AuditEvent.objects.get(verb="complaint_remedy_done", case_id=complaint.pk)
    assert done.actor == olga and done.data["service"] == "certificate_correct"
    assert done.data["certificate"] == certificate.number and done.data["edition"] == edition.number
    assert not services.complaint_can_carry_out_remedy(complaint=complaint, user=olga)


def test_a_letter_is_corrected_on_the_complaint_by_the_signatory(alice, victor, sergey, hanna):
    application = registered_application(alice)
    notice = decide(application, victor, sergey)
    complaint = upheld(alice, hanna, "correct_errors", subject="g")
    corrected_on(complaint, sergey, "notice", last_name="Алексеева-Петрова")
    edition = LetterEdition.objects.get()
    assert edition.letter == notice and edition.basis == LetterEdition.Basis.COMPLAINT
    assert complaint.number in edition.basis_reference
    assert edition.changes == {"last_name": ["Алексеева", "Алексеева-Петрова"]}
    assert remedy_term(complaint).completed_at is not None
    done = AuditEvent.objects.get(verb="complaint_remedy_done", case_id=complaint.pk)
    assert done.data["service"] == "notice_correct" and done.data["outgoing_number"] == edition.outgoing_number


def test_a_correction_by_a_wrong_role_is_refused_and_nothing_changes(exam_setup, alice, sergey, hanna, olga, rita):
    certificate = certify(pass_the_test(exam_setup["credential"], correct=40), sergey, olga)
    complaint = upheld(alice, hanna, "correct_errors", subject="g")
    attempts = [
        (rita, "certificate"),  # not a role that corrects documents
        (sergey, "certificate"),  # a signatory does not issue certificates
        (olga, "attestation_decision"),  # a certificate officer does not sign letters
    ]
    for wrong, document in attempts:
        with pytest.raises(DomainError) as err:
            corrected_on(complaint, wrong, document, last_name="Алексеева-Петрова")
        assert err.value.status == 403
    with pytest.raises(DomainError) as err:  # what to correct must be said
        services.complaint_remedy_carry_out(complaint=complaint, by=olga)
    assert "document" in err.value.fields
    certificate.refresh_from_db()
    assert certificate.last_name == "Алексеева" and not CertificateEdition.objects.filter(kind="corrected").exists()
    assert not LetterEdition.objects.exists()
    assert remedy_term(complaint).completed_at is None
    assert not AuditEvent.objects.filter(verb="complaint_remedy_done", case_id=complaint.pk).exists()


def test_a_note_does_not_close_the_correction_of_errors(exam_setup, alice, sergey, hanna, olga):
    certify(pass_the_test(exam_setup["credential"], correct=40), sergey, olga)
    complaint = upheld(alice, hanna, "correct_errors", subject="g")
    assert not services.complaint_can_record_remedy(complaint=complaint, user=olga)
    with pytest.raises(DomainError) as err:
        services.complaint_remedy_done(complaint=complaint, by=olga, note="Исправлено.")
    assert err.value.code == "no_remedy"
    assert remedy_term(complaint).completed_at is None


def test_the_complaint_page_offers_the_correction_filled_with_the_current_values(
    exam_setup, alice, sergey, hanna, olga, rita
):
    certificate = certify(pass_the_test(exam_setup["credential"], correct=40), sergey, olga)
    complaint = upheld(alice, hanna, "correct_errors", subject="g")
    url = reverse("frontend:complaint_staff", args=[complaint.pk])
    page = client_for(olga).get(url).content.decode()
    assert 'data-correct-document="certificate"' in page and 'value="Алексеева"' in page
    assert 'data-correct-document="attestation_decision"' not in page  # the signatory's, not hers
    signatory_page = client_for(sergey).get(url).content.decode()
    assert 'data-correct-document="attestation_decision"' in signatory_page
    assert 'data-correct-document="certificate"' not in signatory_page
    assert 'id="remedy-carry-out"' not in client_for(rita).get(url).content.decode()
    assert 'id="remedy-note"' not in page
    carry_out = reverse("frontend:complaint_remedy_carry_out", args=[complaint.pk])
    form = {
        "document": "certificate",
        "last_name": "Алексеева-Петрова",
        "first_name": "Алиса",
        "patronymic": "Петровна",
        "areas": [a.pk for a in certificate.areas.all()],
    }
    client_for(olga).post(carry_out, form)  # not confirmed: nothing happens
    assert remedy_term(complaint).completed_at is None
    with TestCase.captureOnCommitCallbacks(execute=True):
        client_for(olga).post(carry_out, {**form, "confirm": "on"})
    certificate.refresh_from_db()
    assert certificate.last_name == "Алексеева-Петрова" and remedy_term(complaint).completed_at is not None
    page = client_for(olga).get(url).content.decode()
    assert "data-remedy-done" in page and 'id="remedy-carry-out"' not in page


def test_a_signatory_sees_only_the_complaints_whose_letters_are_theirs_to_correct(alice, victor, sergey, hanna):
    from appeals.selectors import complaint_get
    from core.errors import NotFound

    application = registered_application(alice)
    decide(application, victor, sergey)
    registered = services.complaint_file(data=complaint_data(subject="e"), channel="portal", complainant=alice)
    to_correct = upheld(alice, hanna, "correct_errors", subject="g")
    assert complaint_get(user=sergey, pk=to_correct.pk) == to_correct
    with pytest.raises(NotFound):
        complaint_get(user=sergey, pk=registered.pk)
    assert client_for(sergey).get(reverse("frontend:complaint_staff", args=[registered.pk])).status_code == 404
