"""Informing the candidate of the decision (p.52-54) and the testing-system password (p.53).

A candidate with a cabinet account is informed in the cabinet and by e-mail at once; an applicant
on paper without one gets the letter by e-mail with the PDF when the application gives an address,
otherwise the registrar posts it and records the dispatch. The term of p.12(b) ends at the dispatch."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, time, timedelta
from typing import TypeVar, Unpack

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core import calendar
from core.dispatch import (
    dispatch_by_email,
    dispatch_can_record,
    dispatch_check,
    dispatch_record,
    dispatch_refuse_twice,
    dispatch_to_cabinet,
)
from core.errors import DomainError, NotFound, allowed
from core.files import file_store
from core.letters import Correction, letter_correct, letter_correct_check
from core.models import LetterEdition, OutgoingLetter, User
from core.qes.documents import document_record, document_sign, signing_refusal
from core.roles import Role, has_role, require_role
from core.services import audit_record, deadline_open, notification_send
from exam.admission.documents import notice_print, render_notice_pdf
from exam.admission.selectors import DEADLINE_NOTICE, DEADLINE_ORIGINALS_RETURN
from exam.models import Application, Channel, Decision, ExamCredential, Notice, OriginalsReturn, Submission

# No look-alike characters (0/O, 1/l/I): the password may be read off paper.
PASSWORD_ALPHABET = "abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"
PASSWORD_LENGTH = 12


def notice_issue(*, decision: Decision) -> Notice:
    """Issue the admission notice or refusal letter of a signed decision: the PDF and, for a
    candidate with a cabinet account, the cabinet with an e-mail, which is its dispatch (p.52).
    Without an account the letter waits for notice_email or notice_dispatch. Idempotent: a second
    call returns the notice already issued."""
    existing = Notice.objects.filter(decision=decision).first()
    if existing is not None:
        return existing
    if decision.state != Decision.State.SIGNED:
        raise DomainError(_("Решение ещё не подписано."), code="decision_not_signed", status=409)
    kind = Notice.Kind.ADMISSION_NOTICE if decision.kind == Decision.Kind.ADMISSION else Notice.Kind.REFUSAL_LETTER
    issued_at = timezone.now()
    # Signed with the key of the signatory who signed the decision (p.49-50), the stamp printed on it.
    issued = document_sign(
        official=decision.signed_by,
        render=lambda stamp: render_notice_pdf(decision=decision, issued_at=issued_at, stamp=stamp),
    )
    pdf = issued.content
    with transaction.atomic():
        application = Application.objects.select_for_update().get(pk=decision.application_id)
        existing = Notice.objects.filter(decision=decision).first()
        if existing is not None:
            return existing
        notice = Notice(application=application, decision=decision, kind=kind, issued_at=issued_at)
        file_store(file=notice.pdf, name=f"{kind}-{application.pk}.pdf", content=pdf)
        notice.pdf_sha256 = hashlib.sha256(pdf).hexdigest()
        notice.save()
        document_record(issued=issued, file_name=notice.pdf.name, title=_notice_title(notice, application))
        audit_record(
            case=application,
            actor=None,
            verb="notice_issued",
            action="event",
            from_state=application.status,
            to_state=application.status,
            data={"notice": notice.pk, "kind": kind, "sha256": notice.pdf_sha256},
        )
        if application.candidate:
            dispatch_to_cabinet(
                letter=notice,
                case=application,
                recipient=application.candidate,
                subject=lambda: str(notice.get_kind_display()),
                body=lambda: (
                    _("По заявлению № %(n)s принято решение. Документ доступен в личном кабинете.")
                    % {"n": application.registration_number}
                ),
                link=application.cabinet_url(),
                deadline_kind=DEADLINE_NOTICE,
                verb="notice_dispatch",
            )
    return notice


def _notice_title(notice: Notice, application: Application) -> str:
    return _("%(kind)s по заявлению № %(n)s") % {
        "kind": notice.get_kind_display(),
        "n": application.registration_number,
    }


def notice_emailable(notice: Notice) -> bool:
    application = notice.application
    return notice.dispatched_at is None and application.candidate_id is None and bool(application.email)


def notice_email(*, notice: Notice) -> Notice:
    """E-mail the letter with its PDF to the address given on a paper application without a
    cabinet account (p.52: electronically): that is its dispatch, which ends the term of p.12(b).
    The admission notice carries the testing-system password (p.53), issued now for this copy only.
    A no-op when it already went out or has nowhere to go; OSError from the mail server, for the
    task to retry."""
    application = notice.application
    if not notice_emailable(notice):
        return notice

    def content(locked: Notice) -> bytes:
        credential = getattr(application, "exam_credential", None)
        admitted = Application.objects.filter(pk=application.pk, status=Application.Status.ADMITTED).exists()
        if locked.kind == Notice.Kind.ADMISSION_NOTICE and credential is not None and admitted:
            # Only while the admission stands, and only once the letter is claimed: a retry or a
            # second task never replaces the password of a copy already sent.
            password = _password_set(credential, by=None, data={"sent_to": "email"})
            # This copy differs from the stored one by the password: it is signed again (by the
            # signatory of the decision) and its signature recorded, so the attached .sig matches it.
            issued = document_sign(
                official=locked.decision.signed_by,
                render=lambda stamp: render_notice_pdf(
                    decision=locked.decision, issued_at=locked.issued_at, password=password, stamp=stamp
                ),
            )
            document_record(issued=issued, file_name="", title=_notice_title(locked, application))
            return issued.content
        with locked.pdf.open("rb") as fh:
            return fh.read()

    return dispatch_by_email(
        letter=notice,
        case=application,
        deadline_kind=DEADLINE_NOTICE,
        verb="notice_dispatch",
        to=application.email,
        subject=str(notice.get_kind_display()),
        body=_(
            "Здравствуйте, %(name)s!\n\nПо заявлению № %(n)s принято решение: %(kind)s.\n\nДокумент во вложении (PDF)."
        )
        % {"name": application.full_name, "n": application.registration_number, "kind": notice.get_kind_display()},
        filename=f"{notice.kind}-{application.pk}.pdf",
        content=content,
    )


def notice_dispatch(*, notice: Notice, by: User, channel: str, reference: str) -> Notice:
    """The registrar records that the letter was sent on paper to an applicant with neither a
    cabinet account nor an e-mail address: by registered mail with acknowledgement of receipt and
    its tracking number, or handed over in person (p.52). This ends the term of p.12(b)."""
    return _record_on_paper(
        notice, by=by, channel=channel, reference=reference, deadline_kind=DEADLINE_NOTICE, verb="notice_dispatch"
    )


def signatory_position_check(by: User, decision: Decision) -> None:
    """Who signs the letter of a decision on admission: an admission notice the director of the
    Department or a deputy (p.49), a refusal letter a deputy director (p.50)."""
    if decision.kind == Decision.Kind.REFUSAL:
        if by.position != User.Position.DEPUTY_DIRECTOR:
            raise DomainError(
                _(
                    "Письмо об отказе в аттестационном испытании подписывает заместитель директора Департамента (п. 50)."
                ),
                code="signatory_position",
                status=403,
            )
    elif by.position not in (User.Position.DIRECTOR, User.Position.DEPUTY_DIRECTOR):
        raise DomainError(
            _("Уведомление о допуске подписывает директор Департамента или его заместитель (п. 49)."),
            code="signatory_position",
            status=403,
        )


def _correct_check(notice: Notice, *, by: User) -> None:
    require_role(by, Role.SIGNATORY, message=_("Исправленное письмо подписывает подписант."))
    signatory_position_check(by, notice.decision)
    letter_correct_check(notice)
    signing_refusal(by)


def notice_can_correct(*, notice: Notice, user: User) -> bool:
    """Whether notice_correct would accept this user: a signatory of the position the letter's kind
    needs (p.49-50), once the letter was sent."""
    return allowed(lambda: _correct_check(notice, by=user))


def notice_correct(*, notice: Notice, by: User, **correction: Unpack[Correction]) -> LetterEdition:
    """p.78(g), p.88(a): issue a corrected edition of the admission notice or refusal letter, for a
    typo in the addressee's particulars it prints (name, postal or e-mail address; core.letters).
    The decision itself is not touched. Signed by a signatory who may sign that kind of letter
    (p.49-50), with a new outgoing number, sent like the letter: the cabinet, the e-mail, or the
    post recorded by the registrar. Plain atomic: a complaint's remedy may call it inside its own
    transaction."""
    with transaction.atomic():
        application = Application.objects.select_for_update().get(pk=notice.application_id)
        decision = notice.decision
        return letter_correct(
            letter=notice,
            case=application,
            kind=OutgoingLetter.Kind(notice.kind),
            by=by,
            **correction,
            original=notice_print(decision=decision, issued_at=notice.issued_at),
            render=lambda letter, stamp: render_notice_pdf(
                decision=decision, issued_at=letter.issued_at, letter=letter, stamp=stamp
            ),
            check=lambda locked: _correct_check(locked, by=by),
            recipient=application.candidate,
            link=application.cabinet_url(),
        )


P = TypeVar("P", Notice, OriginalsReturn)


def _record_on_paper(letter: P, *, by: User, channel: str, reference: str, deadline_kind: str, verb: str) -> P:
    """The registrar's record of what went to the applicant on paper (core.dispatch), once, on the
    locked application and letter."""
    reference = dispatch_check(by=by, channel=channel, reference=reference)
    with transaction.atomic():
        application = Application.objects.select_for_update().get(pk=letter.application_id)
        locked = type(letter)._default_manager.select_for_update().get(pk=letter.pk)
        dispatch_refuse_twice(locked)
        dispatch_record(
            letter=locked,
            case=application,
            deadline_kind=deadline_kind,
            channel=channel,
            reference=reference,
            by=by,
            verb=verb,
        )
    return locked


def notice_can_dispatch(*, notice: Notice, user: User) -> bool:
    """Whether notice_dispatch would record a paper dispatch of the notice by this user."""
    return dispatch_can_record(letter=notice, by=user)


def originals_return_open(*, application: Application, decision: Decision, at: datetime) -> OriginalsReturn | None:
    """p.54: a refusal of admission signed on an application received on paper opens the return of
    the documents the applicant handed in, with its own term (p.12(b): informing, 5 working days of
    the decision). Nothing to return for an electronic application. Runs inside decision_sign's
    transaction, on the locked application. (A return not made when its refusal was cancelled on a
    complaint is removed then: exam.admission.services.review.application_admission_refusal_cancel.)"""
    if decision.kind != Decision.Kind.REFUSAL or application.channel not in Channel.paper():
        return None
    if OriginalsReturn.objects.filter(application=application).exists():
        # Returned already after an earlier refusal, since cancelled on a complaint: nothing is left.
        return None
    accepted = application.submissions.filter(outcome=Submission.Outcome.ACCEPTED).order_by("-received_at").first()
    originals = OriginalsReturn.objects.create(
        application=application,
        decision=decision,
        documents=accepted.paper_documents if accepted is not None else [],
        opened_at=at,
    )
    deadline_open(
        case=application,
        kind=DEADLINE_ORIGINALS_RETURN,
        role=Role.REGISTRAR,
        started_on=calendar.moscow_date(at),
        working_days=settings.NOTICE_DEADLINE_WORKING_DAYS,
    )
    return originals


def originals_return_record(
    *, originals_return: OriginalsReturn, by: User, channel: str, reference: str
) -> OriginalsReturn:
    """p.54: the registrar records that the paper documents went back to the applicant, handed over
    in person or sent by registered mail with its tracking number (core.dispatch). This ends the
    term of the return, once."""
    return _record_on_paper(
        originals_return,
        by=by,
        channel=channel,
        reference=reference,
        deadline_kind=DEADLINE_ORIGINALS_RETURN,
        verb="originals_returned",
    )


def originals_return_can_record(*, originals_return: OriginalsReturn, user: User) -> bool:
    """Whether originals_return_record would record the return by this user."""
    return dispatch_can_record(letter=originals_return, by=user)


def exam_password_issue(*, credential: ExamCredential, by: User, ip: str | None = None) -> str:
    """Generate the testing-system password and return it for showing once (p.53). Only its hash is
    kept; issuing again replaces the previous password. The candidate issues their own; for an
    application received on paper, the registrar prints it on the notice."""
    _password_check(credential.application, by=by)
    return _password_set(credential, by=by, ip=ip)


def _password_check(application: Application, *, by: User) -> None:
    if by.is_staff:
        permitted = has_role(by, Role.REGISTRAR) and application.channel in Channel.paper()
    else:
        permitted = application.candidate_id == by.pk
    if not permitted:
        raise NotFound(_("Уведомление не найдено."))
    if application.status != Application.Status.ADMITTED:
        raise DomainError(_("Заявитель не допущен к испытанию."), code="not_admitted", status=409)


def exam_password_can_issue(*, application: Application, user: User) -> bool:
    """Whether exam_password_issue would give this user a password for the application."""
    return allowed(lambda: _password_check(application, by=user))


def _password_set(
    credential: ExamCredential, *, by: User | None, ip: str | None = None, data: dict[str, str] | None = None
) -> str:
    """A new password replaces the previous one; only its hash is kept, and the issue is audited."""
    password = "".join(secrets.choice(PASSWORD_ALPHABET) for _i in range(PASSWORD_LENGTH))
    with transaction.atomic():
        locked = ExamCredential.objects.select_for_update().get(pk=credential.pk)
        reissue = bool(locked.password_hash)
        locked.set_password(password)
        locked.password_issued_at = timezone.now()
        locked.password_issued_to = by
        locked.save(update_fields=["password_hash", "password_issued_at", "password_issued_to"])
        audit_record(
            case=credential.application,
            actor=by,
            verb="exam_password_reissued" if reissue else "exam_password_issued",
            action="event",
            data={"login": locked.login, **(data or {})},
            ip=ip,
        )
    return password


# The reminder goes out from this hour (Moscow) of the day before the sitting, not at midnight.
REMINDER_HOUR = 9


def exam_reminder_due_at(sitting_start: datetime) -> datetime:
    """When the reminder of a sitting is due: REMINDER_HOUR o'clock the day before it, Moscow time."""
    day_before = calendar.moscow_date(sitting_start) - timedelta(days=1)
    return datetime.combine(day_before, time(REMINDER_HOUR), tzinfo=calendar.MOSCOW)


def exam_reminder_send(*, credential: ExamCredential) -> bool:
    """Remind an admitted candidate of the sitting the day before it (p.53: date, time, place and
    the testing system), in the cabinet and by e-mail (core.services.notification_send). Exactly
    once: the credential's row is locked and marked in the same transaction. False when there is
    nothing to send (sent already, the sitting past, no cabinet account, not due yet)."""
    from exam.admission.documents import exam_system_url

    now = timezone.now()
    with transaction.atomic():
        locked = (
            ExamCredential.objects.select_for_update(of=("self",))
            .select_related("sitting", "application__candidate")
            .filter(pk=credential.pk)
            .first()
        )
        if locked is None or locked.reminder_sent_at is not None or locked.sitting is None:
            return False
        sitting, application = locked.sitting, locked.application
        if application.candidate is None or application.status != Application.Status.ADMITTED:
            return False
        if not exam_reminder_due_at(sitting.starts_at) <= now < sitting.starts_at:
            return False
        locked.reminder_sent_at = now
        locked.save(update_fields=["reminder_sent_at"])
        start = timezone.localtime(sitting.starts_at, calendar.MOSCOW)
        notification_send(
            recipient=application.candidate,
            subject=_("Напоминание: аттестационное испытание %(date)s") % {"date": f"{start:%d.%m.%Y}"},
            body=_(
                "Аттестационное испытание по заявлению № %(number)s начнётся %(date)s в %(time)s (МСК). "
                "Место: %(place)s. Система тестирования: %(url)s, логин %(login)s. "
                "Вход открыт %(minutes)s мин. с начала. Пароль выдаётся в личном кабинете."
            )
            % {
                "number": application.registration_number,
                "date": f"{start:%d.%m.%Y}",
                "time": f"{start:%H:%M}",
                "place": sitting.place_label,
                "url": exam_system_url(),
                "login": locked.login,
                "minutes": sitting.entry_window_minutes,
            },
            link=application.cabinet_url(),
        )
        audit_record(case=application, actor=None, verb="exam_reminder_send")
    return True


def exam_reminders_send_due() -> int:
    """Send every reminder due now (the beat runs it hourly); how many went out."""
    now = timezone.now()
    due = ExamCredential.objects.filter(
        reminder_sent_at__isnull=True,
        sitting__starts_at__gt=now,
        sitting__starts_at__lte=now + timedelta(days=2),
        application__status=Application.Status.ADMITTED,
        application__candidate__isnull=False,
    ).values_list("pk", flat=True)
    return sum(exam_reminder_send(credential=credential) for credential in ExamCredential.objects.filter(pk__in=due))
