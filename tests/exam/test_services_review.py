"""Review, the decision on admission, signing and the notice (p.47-54)."""

from datetime import timedelta
from io import BytesIO

import pytest
from django.test import TestCase
from django.utils import timezone
from pypdf import PdfReader

from core import calendar
from core.errors import DomainError, NotFound
from core.models import AuditEvent, Deadline, Notification
from exam.admission import selectors, services
from exam.models import Application, Decision, ExamCredential, Notice
from tests.conftest import complete_payload, make_user, registered_application


def pdf_text(notice: Notice) -> str:
    with notice.pdf.open("rb") as fh:
        return "\n".join(page.extract_text() for page in PdfReader(BytesIO(fh.read())).pages)


def under_review(candidate, reviewer, payload=None):
    application = registered_application(candidate, payload)
    return services.application_start_review(application=application, by=reviewer)


def test_reviewer_takes_the_file_and_becomes_responsible_for_the_deadline(alice, victor):
    application = under_review(alice, victor)
    assert application.status == Application.Status.UNDER_REVIEW
    assert application.reviewer == victor
    assert Deadline.objects.get(kind=selectors.DEADLINE_DECISION).assignee == victor


def test_colleague_cannot_take_or_open_a_file_already_taken(alice, victor, vera):
    application = under_review(alice, victor)
    with pytest.raises(NotFound):
        selectors.application_get(user=vera, pk=application.pk)
    with pytest.raises(NotFound):
        services.application_start_review(application=application, by=vera)


def test_admission_is_drafted_with_a_sitting_and_signed_by_another_official(alice, victor, sergey, sitting):
    application = under_review(alice, victor)
    decision = services.decision_draft(application=application, by=victor, kind="admission", sitting=sitting)
    application.refresh_from_db()
    assert application.status == Application.Status.DECISION_DRAFTED
    assert Notification.objects.filter(recipient=sergey, subject__startswith="Проект решения на подпись").exists()
    with TestCase.captureOnCommitCallbacks(execute=True):
        services.decision_sign(decision=decision, by=sergey)
    application.refresh_from_db()
    decision.refresh_from_db()
    assert application.status == Application.Status.ADMITTED
    assert decision.signed_by == sergey
    # The notice is issued at once (p.52-53): PDF with name, date, time, place and login.
    notice = Notice.objects.get(application=application)
    credential = ExamCredential.objects.get(application=application)
    text = pdf_text(notice)
    start = timezone.localtime(sitting.starts_at)
    for expected in [
        "Уведомление о допуске",
        "Алексеева Алиса Петровна",
        start.strftime("%d.%m.%Y"),
        start.strftime("%H:%M"),
        "дистанционно",
        credential.login,
    ]:
        assert expected in text, expected
    assert credential.password_hash == ""  # not issued until the candidate asks to see it
    # The decision deadline is met, the notice deadline opened and met.
    decision_deadline = Deadline.objects.get(kind=selectors.DEADLINE_DECISION)
    notice_deadline = Deadline.objects.get(kind=selectors.DEADLINE_NOTICE)
    assert decision_deadline.completed_at and notice_deadline.completed_at
    assert notice_deadline.due_on == calendar.add_working_days(calendar.moscow_date(decision.signed_at), 5)
    assert Notification.objects.filter(
        recipient=alice, subject="Уведомление о допуске к аттестационному испытанию"
    ).exists()
    trail = list(
        AuditEvent.objects.filter(case_id=application.pk, action="transition")
        .order_by("id")
        .values_list("from_state", "to_state")
    )
    assert trail == [
        ("", "draft"),
        ("draft", "registered"),
        ("registered", "under_review"),
        ("under_review", "decision_drafted"),
        ("decision_drafted", "admitted"),
    ]


def test_drafter_cannot_sign_own_decision(alice, double, sitting):
    application = under_review(alice, double)
    decision = services.decision_draft(application=application, by=double, kind="admission", sitting=sitting)
    with pytest.raises(DomainError) as err:
        services.decision_sign(decision=decision, by=double)
    assert err.value.code == "drafter_cannot_sign"
    assert "не может подписать тот, кто его подготовил" in err.value.message
    decision.refresh_from_db()
    assert decision.state == Decision.State.DRAFT
    application.refresh_from_db()
    assert application.status == Application.Status.DECISION_DRAFTED


def test_reviewer_without_signatory_role_cannot_sign(alice, victor, vera, sitting):
    application = under_review(alice, victor)
    decision = services.decision_draft(application=application, by=victor, kind="admission", sitting=sitting)
    with pytest.raises(DomainError) as err:
        services.decision_sign(decision=decision, by=vera)
    assert err.value.status == 403


def test_admission_needs_all_three_criteria(alice, victor, sitting):
    payload = complete_payload()
    payload["additional_education"][0]["assessment_hours"] = 71
    application = under_review(alice, victor, payload)
    with pytest.raises(DomainError) as err:
        services.decision_draft(application=application, by=victor, kind="admission", sitting=sitting)
    assert err.value.code == "criteria_not_met"
    assert "72" in err.value.message
    assert not Decision.objects.exists()


def test_refusal_for_71_hours_names_the_ground_and_is_issued_as_a_letter(alice, victor, sergey):
    payload = complete_payload()
    payload["additional_education"][0]["assessment_hours"] = 71
    application = under_review(alice, victor, payload)
    criteria = selectors.application_criteria(application)
    assert not criteria.training.met and criteria.higher_education.met and criteria.experience.met
    decision = services.decision_draft(
        application=application,
        by=victor,
        kind="refusal",
        grounds=["a_training"],
        explanation="Программа повышения квалификации содержит 71 час по оценке условий труда.",
    )
    with TestCase.captureOnCommitCallbacks(execute=True):
        services.decision_sign(decision=decision, by=sergey)
    application.refresh_from_db()
    assert application.status == Application.Status.REFUSED
    notice = Notice.objects.get(application=application)
    assert notice.kind == Notice.Kind.REFUSAL_LETTER
    text = pdf_text(notice)
    assert "Об отказе в аттестационном испытании" in text
    assert "71 час" in text
    assert "Заместитель директора" in text  # p.50: the signer's real position
    assert not ExamCredential.objects.exists()


def test_a_refusal_letter_is_signed_only_by_a_deputy_director(alice, victor, sergey):
    """p.50: a refusal letter is signed by a deputy director; the director or an official may not."""
    director = make_user("dir@mintrud.test", last="Главнов", first="Глеб", roles=("signatory",), position="director")
    official = make_user("off@mintrud.test", last="Простов", first="Пётр", roles=("signatory",), position="")
    application = under_review(alice, victor)
    decision = services.decision_draft(
        application=application, by=victor, kind="refusal", grounds=["a_training"], explanation="71 час."
    )
    for signer in (director, official):
        with pytest.raises(DomainError) as err:
            services.decision_sign(decision=decision, by=signer)
        assert err.value.code == "signatory_position" and "п. 50" in err.value.message
    services.decision_sign(decision=decision, by=sergey)
    decision.refresh_from_db()
    assert decision.state == Decision.State.SIGNED and decision.signed_by == sergey


def test_an_admission_notice_is_signed_by_the_director_or_a_deputy(alice, victor, sitting):
    """p.49: the director of the Department or a deputy signs; a signatory with no such position may not."""
    director = make_user("dir@mintrud.test", last="Главнов", first="Глеб", roles=("signatory",), position="director")
    official = make_user("off@mintrud.test", last="Простов", first="Пётр", roles=("signatory",), position="official")
    application = under_review(alice, victor)
    decision = services.decision_draft(application=application, by=victor, kind="admission", sitting=sitting)
    with pytest.raises(DomainError) as err:
        services.decision_sign(decision=decision, by=official)
    assert err.value.code == "signatory_position" and "п. 49" in err.value.message
    with TestCase.captureOnCommitCallbacks(execute=True):
        services.decision_sign(decision=decision, by=director)
    text = pdf_text(Notice.objects.get(application=application))
    assert "Директор Департамента условий и охраны" in text and "Главнов" in text


def test_refusal_needs_a_ground_and_an_explanation(alice, victor):
    application = under_review(alice, victor)
    with pytest.raises(DomainError) as err:
        services.decision_draft(application=application, by=victor, kind="refusal", grounds=[], explanation="")
    assert set(err.value.fields) == {"grounds", "explanation"}
    with pytest.raises(DomainError):
        services.decision_draft(application=application, by=victor, kind="refusal", grounds=["z"], explanation="x")
    application.refresh_from_db()
    assert application.status == Application.Status.UNDER_REVIEW


def test_admission_needs_a_future_sitting_with_free_seats(alice, oscar, victor, eva):
    from tests.conftest import make_sitting

    full = make_sitting(eva, capacity=1)
    first = under_review(alice, victor)
    services.decision_draft(application=first, by=victor, kind="admission", sitting=full)
    second = under_review(oscar, victor)
    with pytest.raises(DomainError) as err:
        services.decision_draft(application=second, by=victor, kind="admission", sitting=full)
    assert "нет свободных мест" in err.value.message


def test_signatory_returns_a_draft_with_the_reason(alice, victor, sergey, sitting):
    application = under_review(alice, victor)
    decision = services.decision_draft(application=application, by=victor, kind="admission", sitting=sitting)
    services.decision_return(decision=decision, by=sergey, reason="Укажите другой сеанс.")
    application.refresh_from_db()
    decision.refresh_from_db()
    assert application.status == Application.Status.UNDER_REVIEW
    assert decision.state == Decision.State.RETURNED
    assert Notification.objects.filter(recipient=victor, body="Укажите другой сеанс.").exists()
    with pytest.raises(DomainError):
        services.decision_sign(decision=decision, by=sergey)  # a returned draft cannot be signed
    # The reviewer drafts again; the decision deadline still runs from registration.
    services.decision_draft(application=application, by=victor, kind="admission", sitting=sitting)
    assert Deadline.objects.filter(kind=selectors.DEADLINE_DECISION, completed_at__isnull=True).count() == 1


def test_exam_password_is_stored_hashed_and_each_showing_replaces_it(alice, victor, sergey, sitting, oscar):
    application = under_review(alice, victor)
    decision = services.decision_draft(application=application, by=victor, kind="admission", sitting=sitting)
    with TestCase.captureOnCommitCallbacks(execute=True):
        services.decision_sign(decision=decision, by=sergey)
    credential = ExamCredential.objects.get()
    first = services.exam_password_issue(credential=credential, by=alice)
    credential.refresh_from_db()
    assert len(first) == 12 and first not in credential.password_hash
    assert credential.password_hash.startswith("sha256$") and len(credential.password_hash) > 80
    assert credential.check_password(first)
    second = services.exam_password_issue(credential=credential, by=alice)
    credential.refresh_from_db()
    assert credential.check_password(second) and not credential.check_password(first)
    assert not AuditEvent.objects.filter(data__icontains=first).exists()
    with pytest.raises(NotFound):
        services.exam_password_issue(credential=credential, by=oscar)


def test_sitting_that_started_before_signing_blocks_the_signature(alice, victor, sergey, sitting):
    application = under_review(alice, victor)
    decision = services.decision_draft(application=application, by=victor, kind="admission", sitting=sitting)
    import time_machine

    with time_machine.travel(sitting.starts_at + timedelta(minutes=1)), pytest.raises(DomainError) as err:
        services.decision_sign(decision=decision, by=sergey)
    assert err.value.code == "sitting_passed"


def test_timeline_shows_each_step_with_its_date_and_next_deadline(alice, victor, sergey, sitting):
    application = registered_application(alice)
    steps = {s.code: s for s in selectors.application_timeline(application)}
    assert steps["received"].done_at and steps["registered"].done_at
    assert steps["decision"].due_on == calendar.add_working_days(application.registration_date, 20)
    services.application_start_review(application=application, by=victor)
    decision = services.decision_draft(application=application, by=victor, kind="admission", sitting=sitting)
    with TestCase.captureOnCommitCallbacks(execute=True):
        services.decision_sign(decision=decision, by=sergey)
    application.refresh_from_db()
    steps = {s.code: s for s in selectors.application_timeline(application)}
    assert all(steps[c].done_at for c in ["received", "registered", "under_review", "decision", "notice"])
    assert steps["decision"].detail == "Допуск к аттестационному испытанию"
    assert steps["notice"].due_on is None


# --- A refusal of admission cancelled on an upheld complaint (p.88-89) --------------------------------


def refused_admission(candidate, reviewer, signatory):
    payload = complete_payload()
    payload["additional_education"][0]["assessment_hours"] = 71
    application = under_review(candidate, reviewer, payload)
    decision = services.decision_draft(
        application=application, by=reviewer, kind="refusal", grounds=["a_training"], explanation="71 час."
    )
    with TestCase.captureOnCommitCallbacks(execute=True):
        services.decision_sign(decision=decision, by=signatory)
    application.refresh_from_db()
    return application, decision


def test_a_cancelled_refusal_of_admission_returns_the_file_to_review_with_a_new_term(alice, victor, sergey):
    application, refusal = refused_admission(alice, victor, sergey)
    term_from = calendar.today()
    services.application_admission_refusal_cancel(
        application=application, by=victor, reason="Жалоба удовлетворена.", term_from=term_from
    )
    application.refresh_from_db()
    refusal.refresh_from_db()
    assert application.status == Application.Status.REGISTERED and application.reviewer is None
    assert refusal.state == Decision.State.CANCELLED and refusal.cancel_reason == "Жалоба удовлетворена."
    assert refusal.outgoing_number  # the letter that went out keeps its number
    term = Deadline.objects.get(kind=selectors.DEADLINE_DECISION, completed_at__isnull=True)
    assert (term.started_on, term.due_on) == (term_from, calendar.add_working_days(term_from, 20))
    assert AuditEvent.objects.filter(verb="decision_cancel", data__decision=refusal.pk).exists()
    event = AuditEvent.objects.get(verb="reopen_review")
    assert (event.from_state, event.to_state) == ("refused", "registered")
    note = Notification.objects.get(recipient=alice, subject__startswith="Отказ в допуске отменён")
    assert "20 рабочих дней" in note.body and term.due_on.strftime("%d.%m.%Y") in note.body
    assert application in selectors.review_queue(user=victor)


def test_the_new_decision_after_a_cancelled_refusal_is_signed_by_another_official(alice, victor, vera, sergey, sitting):
    application, _refusal = refused_admission(alice, victor, sergey)
    services.application_admission_refusal_cancel(
        application=application, by=victor, reason="Жалоба удовлетворена.", term_from=calendar.today()
    )
    application = services.application_start_review(application=application, by=vera)
    # The entry the refusal rested on is corrected from the document (72 hours, not 71).
    entry = application.additional_education.get()
    services.entry_correct(
        application=application, entry=entry, field="assessment_hours", value=72, reason="72 ч.", by=vera
    )
    decision = services.decision_draft(application=application, by=vera, kind="admission", sitting=sitting)
    with pytest.raises(DomainError) as err:
        services.decision_sign(decision=decision, by=vera)  # the drafter signs nothing
    assert err.value.status == 403
    with TestCase.captureOnCommitCallbacks(execute=True):
        services.decision_sign(decision=decision, by=sergey)
    application.refresh_from_db()
    assert application.status == Application.Status.ADMITTED
    assert selectors.decision_current(application) == decision
    assert list(application.decisions.filter(state=Decision.State.SIGNED)) == [decision]
    assert Deadline.objects.filter(kind=selectors.DEADLINE_DECISION, completed_at__isnull=True).count() == 0


def test_a_cancelled_refusal_of_a_paper_application_stops_the_return_of_originals(alice, victor, sergey, rita):
    from exam.admission.selectors import DEADLINE_ORIGINALS_RETURN
    from exam.models import Attachment, OriginalsReturn
    from tests.conftest import cleaned

    payload = complete_payload()
    payload["additional_education"][0]["assessment_hours"] = 71
    application = services.application_register_paper(
        by=rita,
        channel="mail",
        received_at=timezone.now() - timedelta(hours=1),
        cleaned=cleaned(payload),
        paper_documents=list(Attachment.Kind.values),
    )
    services.application_start_review(application=application, by=victor)
    decision = services.decision_draft(
        application=application, by=victor, kind="refusal", grounds=["a_training"], explanation="71 час."
    )
    services.decision_sign(decision=decision, by=sergey)
    assert OriginalsReturn.objects.filter(application=application).exists()
    services.application_admission_refusal_cancel(
        application=application, by=victor, reason="Жалоба удовлетворена.", term_from=calendar.today()
    )
    assert not OriginalsReturn.objects.filter(application=application).exists()
    returned = Deadline.objects.get(kind=DEADLINE_ORIGINALS_RETURN)
    assert returned.completed_at is not None and returned.cancelled_at is not None
    notice_term = Deadline.objects.get(kind=selectors.DEADLINE_NOTICE)
    assert notice_term.cancelled_at is not None
    assert AuditEvent.objects.filter(verb="originals_return_cancel").exists()


def test_only_a_signed_refusal_of_admission_can_be_cancelled(alice, victor, sergey, sitting):
    application = under_review(alice, victor)
    with pytest.raises(DomainError):
        services.application_admission_refusal_cancel(
            application=application, by=victor, reason="Жалоба.", term_from=calendar.today()
        )
    decision = services.decision_draft(application=application, by=victor, kind="admission", sitting=sitting)
    services.decision_sign(decision=decision, by=sergey)
    with pytest.raises(DomainError):
        services.application_admission_refusal_cancel(
            application=Application.objects.get(pk=application.pk),
            by=victor,
            reason="Жалоба.",
            term_from=calendar.today(),
        )
    decision.refresh_from_db()
    assert decision.state == Decision.State.SIGNED
