"""PDF documents of the admission procedure: the admission notice and the refusal letter."""

from __future__ import annotations

from datetime import datetime, timedelta
from urllib.parse import urlsplit

from django.conf import settings
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from core.letters import LetterPrint, addressee_of
from core.pdf import render_pdf
from core.qes.documents import Stamp
from core.site import absolute_url, site_url
from exam.models import Application, Decision, ExamCredential, Submission


def notice_print(*, decision: Decision, issued_at: datetime) -> LetterPrint:
    """The letter as first issued: the application's particulars, the decision's outgoing number
    and signature."""
    return LetterPrint(
        addressee=addressee_of(decision.application),
        outgoing_number=decision.outgoing_number,
        issued_at=issued_at,
        signer=decision.signed_by,
        signed_at=decision.signed_at,
    )


def notice_context(
    *, decision: Decision, issued_at: datetime, password: str | None = None, letter: LetterPrint | None = None
) -> dict[str, object]:
    application = decision.application
    credential = getattr(application, "exam_credential", None)
    sitting = decision.sitting
    return {
        "decision": decision,
        "application": application,
        "letter": letter or notice_print(decision=decision, issued_at=issued_at),
        "sitting": sitting,
        "sitting_start": timezone.localtime(sitting.starts_at) if sitting else None,
        "credential": credential,
        "password": password,
        "exam_system_url": exam_system_url(),
    }


def render_notice_pdf(
    *,
    decision: Decision,
    issued_at: datetime,
    password: str | None = None,
    letter: LetterPrint | None = None,
    stamp: Stamp | None = None,
) -> bytes:
    """The admission notice (p.53) or the refusal letter (p.50, p.21); ``letter``: a corrected
    edition, or one marked as replaced (core.letters); ``stamp``: its qualified signature's."""
    template = (
        "exam/pdf/admission_notice.html" if decision.kind == Decision.Kind.ADMISSION else "exam/pdf/refusal_letter.html"
    )
    context = notice_context(decision=decision, issued_at=issued_at, password=password, letter=letter)
    return render_pdf(template, {**context, "qes_stamp": stamp})


def render_receipt_pdf(*, application: Application) -> bytes:
    """The receipt of a registered application (p.41): its number, the time of receipt, the date of
    registration, the documents in the order of p.15 and the term of the decision (p.12(a))."""
    from exam.admission.selectors import DEADLINE_DECISION, application_deadlines

    assert application.registered_at is not None and application.received_at is not None
    deadlines = {d.kind: d for d in application_deadlines(application)}
    review = deadlines.get(DEADLINE_DECISION)
    return render_pdf(
        "exam/pdf/registration_receipt.html",
        {
            "application": application,
            "letter": LetterPrint(
                addressee=addressee_of(application),
                outgoing_number=None,
                issued_at=timezone.localtime(application.registered_at),
                signer=None,
                signed_at=None,
            ),
            "received_at": timezone.localtime(application.received_at),
            "attachments": application.attachments.in_paragraph_order(),
            "submission": application.submissions.filter(outcome=Submission.Outcome.ACCEPTED).order_by("-pk").first(),
            "review_due": review.due_on if review else None,
            "registered_by": application.registered_by,  # staff only: the portal registers by itself
            "printed_at": timezone.localtime(),
        },
    )


def exam_system_url() -> str:
    """The address of the testing system the admission notice names (p.53)."""
    return absolute_url(reverse("frontend:exam_login"))


def sitting_ics(*, credential: ExamCredential) -> bytes:
    """The sitting of an admitted candidate as an iCalendar entry (RFC 5545): when, where, the
    testing system's address and login (never the password), with an alarm the day before."""
    from icalendar import Alarm, Calendar, Event

    sitting = credential.sitting
    assert sitting is not None
    application = credential.application
    place = sitting.place_label
    calendar = Calendar()
    calendar.add("prodid", "-//Mintrud//SOUT attestation//RU")
    calendar.add("version", "2.0")
    event = Event()
    event.add("uid", f"sitting-{sitting.pk}-credential-{credential.pk}@{urlsplit(site_url()).hostname}")
    event.add("dtstamp", timezone.now())
    event.add("dtstart", sitting.starts_at)
    event.add("dtend", sitting.starts_at + timedelta(minutes=sitting.entry_window_minutes) + settings.EXAM_DURATION)
    event.add("summary", _("Аттестационное испытание эксперта СОУТ"))
    event.add("location", exam_system_url() if sitting.is_remote else place)
    event.add("url", exam_system_url())
    event.add(
        "description",
        _(
            "Заявление № %(number)s. Место: %(place)s. Система тестирования: %(url)s, логин %(login)s. "
            "Вход открыт %(minutes)s мин. с начала; пароль выдаётся в личном кабинете."
        )
        % {
            "number": application.registration_number,
            "place": place,
            "url": exam_system_url(),
            "login": credential.login,
            "minutes": sitting.entry_window_minutes,
        },
    )
    alarm = Alarm()
    alarm.add("action", "DISPLAY")
    alarm.add("description", _("Завтра аттестационное испытание"))
    alarm.add("trigger", timedelta(days=-1))
    event.add_component(alarm)
    calendar.add_component(event)
    return calendar.to_ical()
