"""The admission notice or refusal letter reaches the applicant (p.12(b), p.52-53): the cabinet, the
e-mail given on a paper application, or the post recorded by the registrar; the term ends at the
dispatch, not at the rendering."""

import re
from datetime import date, datetime
from io import BytesIO
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core import mail
from django.test import TestCase
from django.urls import reverse
from django.utils import timezone
from pypdf import PdfReader

from core.errors import DomainError
from core.models import AuditEvent, Deadline
from exam.admission import selectors, services
from exam.models import Attachment, ExamCredential, Notice
from exam.tasks import notice_issue_pending
from tests.conftest import cleaned, client_for, complete_payload, make_sitting, registered_application

MSK = ZoneInfo("Europe/Moscow")


def at(day: int, hour: int = 11) -> datetime:
    """A working week of September 2026 without holidays: Monday 14 to Friday 18."""
    return datetime(2026, 9, day, hour, 0, tzinfo=MSK)


def paper_application(rita, *, email: str):
    """An application received by registered mail, with no cabinet account behind it."""
    return services.application_register_paper(
        by=rita,
        channel="mail",
        received_at=timezone.now(),
        cleaned=cleaned(complete_payload(email=email)),
        paper_documents=list(Attachment.Kind.values),
    )


def decide(application, victor, sergey, *, sitting=None, run_tasks: bool = True) -> Notice | None:
    services.application_start_review(application=application, by=victor)
    if sitting is not None:
        decision = services.decision_draft(application=application, by=victor, kind="admission", sitting=sitting)
    else:
        decision = services.decision_draft(
            application=application, by=victor, kind="refusal", grounds=["a_training"], explanation="71 час."
        )
    with TestCase.captureOnCommitCallbacks(execute=run_tasks):
        services.decision_sign(decision=decision, by=sergey)
    return Notice.objects.filter(application=application).first()


def notice_term(application) -> Deadline:
    return Deadline.objects.get(kind=selectors.DEADLINE_NOTICE, case_id=application.pk)


def pdf_text(content: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(BytesIO(content)).pages)


def test_a_cabinet_candidate_is_informed_in_the_cabinet_and_that_is_the_dispatch(alice, victor, sergey):
    application = registered_application(alice)
    notice = decide(application, victor, sergey)
    assert notice is not None
    assert notice.dispatch_channel == "cabinet" and notice.dispatched_at >= notice.issued_at
    assert notice.dispatched_by is None and notice.dispatch_reference == alice.email
    assert notice_term(application).completed_at == notice.dispatched_at
    assert alice.notifications.filter(subject="Письмо об отказе в аттестационном испытании").exists()


def test_a_paper_applicant_with_an_email_gets_the_letter_by_email(rita, victor, sergey):
    application = paper_application(rita, email="anna.k@example.ru")
    mail.outbox.clear()
    notice = decide(application, victor, sergey)
    assert notice is not None
    message = next(m for m in mail.outbox if m.to == ["anna.k@example.ru"])
    assert message.subject == "Письмо об отказе в аттестационном испытании"
    assert application.registration_number in message.body
    (filename, content, mimetype) = message.attachments[0]
    assert filename.endswith(".pdf") and mimetype == "application/pdf"
    assert "Алексеева Алиса Петровна" in pdf_text(content)
    notice.refresh_from_db()
    assert notice.dispatch_channel == "email" and notice.dispatch_reference == "anna.k@example.ru"
    assert notice_term(application).completed_at == notice.dispatched_at
    assert AuditEvent.objects.filter(verb="notice_dispatch", case_id=application.pk, actor=None).count() == 1


def test_an_emailed_admission_notice_carries_the_testing_system_password(rita, victor, sergey, sitting):
    """p.53: without a cabinet to show it in, the password goes on the e-mailed copy of the notice."""
    application = paper_application(rita, email="anna.k@example.ru")
    mail.outbox.clear()
    decide(application, victor, sergey, sitting=sitting)
    message = next(m for m in mail.outbox if m.to == ["anna.k@example.ru"])
    text = pdf_text(message.attachments[0][1])
    credential = ExamCredential.objects.get(application=application)
    assert credential.login in text
    password = re.search(r"Пароль системы\s+тестирования\s+(\S+)", text).group(1)  # type: ignore[union-attr]
    assert credential.check_password(password)
    assert AuditEvent.objects.filter(verb="exam_password_issued", actor=None, case_id=application.pk).exists()
    stored = Notice.objects.get(application=application)
    with stored.pdf.open("rb") as fh:
        assert password not in pdf_text(fh.read())  # the stored copy never holds it


def test_a_failed_send_leaves_the_password_as_it_was_and_a_sent_notice_is_not_sent_again(
    rita, victor, sergey, sitting, monkeypatch
):
    """The letter is claimed before the password is set: a mail server failure undoes both, and a
    retry or the sweeper reaching a notice already sent sends nothing and issues no new password."""
    from django.core.mail import EmailMessage

    from exam.admission.services.notices import notice_email

    application = paper_application(rita, email="anna.k@example.ru")

    def down(self, fail_silently=False):
        raise ConnectionRefusedError("the mail server is down")

    decide(application, victor, sergey, sitting=sitting, run_tasks=False)
    notice = services.notice_issue(decision=application.decisions.get())
    with monkeypatch.context() as patch, pytest.raises(OSError):
        patch.setattr(EmailMessage, "send", down)
        notice_email(notice=notice)
    credential = ExamCredential.objects.get(application=application)
    notice.refresh_from_db()
    assert notice.dispatched_at is None and not credential.password_hash
    assert not AuditEvent.objects.filter(verb__startswith="exam_password", case_id=application.pk).exists()

    mail.outbox.clear()
    notice_email(notice=notice)
    credential.refresh_from_db()
    first_hash = credential.password_hash
    assert len(mail.outbox) == 1 and first_hash
    stale = Notice.objects.get(pk=notice.pk)
    stale.dispatched_at = None  # as a second task read it before the first one sent it
    notice_email(notice=stale)
    credential.refresh_from_db()
    assert len(mail.outbox) == 1 and credential.password_hash == first_hash


def test_a_paper_letter_waits_for_the_registrar_and_its_term_ends_at_the_dispatch(rita, victor, sergey):
    with time_machine.travel(at(14), tick=False):
        application = paper_application(rita, email="")
        notice = decide(application, victor, sergey)
    assert notice is not None and notice.pdf
    assert notice.dispatched_at is None
    term = notice_term(application)
    assert term.completed_at is None and term.due_on == date(2026, 9, 21)
    url = reverse("frontend:staff_application", args=[application.pk])
    page = client_for(rita).get(url).content.decode()
    assert "ожидает отправки почтой" in page and 'id="dispatch"' in page
    notice_step = next(s for s in selectors.application_timeline(application) if s.code == "notice")
    assert notice_step.done_at is None and notice_step.due_on == date(2026, 9, 21)

    with pytest.raises(DomainError) as err:
        services.notice_dispatch(notice=notice, by=victor, channel="post", reference="12712345678901")
    assert err.value.status == 403
    with pytest.raises(DomainError) as err:
        services.notice_dispatch(notice=notice, by=rita, channel="post", reference="РПО 1")
    assert "почтовый идентификатор" in err.value.message and "reference" in err.value.fields
    with pytest.raises(DomainError) as err:
        services.notice_dispatch(notice=notice, by=rita, channel="pigeon", reference="")
    assert "channel" in err.value.fields
    assert notice_term(application).completed_at is None

    with time_machine.travel(at(16), tick=False):
        response = client_for(rita).post(
            reverse("frontend:staff_notice_dispatch", args=[application.pk]),
            {"channel": "post", "reference": "127 123 45678901"},
            follow=True,
        )
    page = response.content.decode()
    assert "Отправка документа отмечена" in page and "12712345678901" in page
    assert "ожидает отправки почтой" not in page and 'id="dispatch"' not in page
    notice.refresh_from_db()
    assert notice.dispatched_at == at(16) and notice.dispatch_channel == "post" and notice.dispatched_by == rita
    assert notice_term(application).completed_at == at(16)
    event = AuditEvent.objects.get(verb="notice_dispatch", case_id=application.pk)
    assert event.actor == rita and event.reason == "12712345678901" and event.data["channel"] == "post"
    notice_step = next(s for s in selectors.application_timeline(application) if s.code == "notice")
    assert notice_step.done_at == at(16)

    with pytest.raises(DomainError) as err:
        services.notice_dispatch(notice=notice, by=rita, channel="in_person", reference="")
    assert err.value.code == "already_dispatched" and err.value.status == 409
    assert "уже направлен" in err.value.message


def test_a_letter_handed_over_in_person_needs_no_tracking_number(rita, victor, sergey):
    application = paper_application(rita, email="")
    notice = decide(application, victor, sergey)
    assert notice is not None
    notice = services.notice_dispatch(notice=notice, by=rita, channel="in_person", reference="")
    assert notice.dispatch_channel == "in_person" and notice.dispatched_by == rita
    assert notice_term(application).completed_at is not None


def test_the_registrar_records_no_dispatch_from_the_file_of_a_reviewer(rita, victor, sergey):
    application = paper_application(rita, email="")
    decide(application, victor, sergey)
    response = client_for(victor).post(
        reverse("frontend:staff_notice_dispatch", args=[application.pk]),
        {"channel": "post", "reference": "12712345678901"},
    )
    assert response.status_code == 404
    assert Notice.objects.get(application=application).dispatched_at is None


def test_the_sweeper_emails_a_lost_letter_and_leaves_the_postal_ones_to_the_registrar(rita, victor, sergey, eva):
    emailed = paper_application(rita, email="anna.k@example.ru")
    assert decide(emailed, victor, sergey, run_tasks=False) is None  # the notice task was lost
    mail.outbox.clear()
    assert notice_issue_pending() == 1
    assert Notice.objects.get(application=emailed).dispatch_channel == "email"
    assert [m.to for m in mail.outbox] == [["anna.k@example.ru"]]
    assert notice_issue_pending() == 0

    posted = paper_application(rita, email="")
    decide(posted, victor, sergey, sitting=make_sitting(eva))
    assert Notice.objects.get(application=posted).dispatched_at is None
    assert notice_issue_pending() == 0
