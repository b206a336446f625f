"""Informing the candidate of the decision (p.52-54) and the testing-system password (p.53)."""

from __future__ import annotations

import hashlib
import secrets

from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core.errors import DomainError, NotFound
from core.models import User
from core.roles import Role, has_role
from core.services import audit_record, deadline_close, notification_send
from exam.documents import render_notice_pdf
from exam.models import Application, Channel, Decision, ExamCredential, Notice
from exam.selectors import DEADLINE_NOTICE

# No look-alike characters (0/O, 1/l/I): the password may be read off paper.
PASSWORD_ALPHABET = "abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"
PASSWORD_LENGTH = 12


def notice_issue(*, decision: Decision) -> Notice:
    """Issue the admission notice or refusal letter of a signed decision: the PDF and the cabinet,
    with an e-mail to the candidate. Idempotent: a second call returns the notice already issued."""
    existing = Notice.objects.filter(decision=decision).first()
    if existing is not None:
        return existing
    if decision.state != Decision.State.SIGNED:
        raise DomainError(_("Решение ещё не подписано."), code="decision_not_signed", status=409)
    kind = Notice.Kind.ADMISSION_NOTICE if decision.kind == Decision.Kind.ADMISSION else Notice.Kind.REFUSAL_LETTER
    issued_at = timezone.now()
    pdf = render_notice_pdf(decision=decision, issued_at=issued_at)
    with transaction.atomic():
        application = Application.objects.select_for_update().get(pk=decision.application_id)
        existing = Notice.objects.filter(decision=decision).first()
        if existing is not None:
            return existing
        notice = Notice(application=application, decision=decision, kind=kind, issued_at=issued_at)
        notice.pdf.save(f"{kind}-{application.pk}.pdf", ContentFile(pdf), save=False)
        notice.pdf_sha256 = hashlib.sha256(pdf).hexdigest()
        notice.save()
        deadline_close(case=application, kind=DEADLINE_NOTICE)
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
            notification_send(
                recipient=application.candidate,
                subject=str(notice.get_kind_display()),
                body=_("По заявлению № %(n)s принято решение. Документ доступен в личном кабинете.")
                % {"n": application.registration_number},
                link=application.cabinet_url(),
            )
    return notice


def exam_password_issue(*, credential: ExamCredential, by: User, ip: str | None = None) -> str:
    """Generate the testing-system password and return it for showing once (p.53). Only its hash is
    kept; issuing again replaces the previous password. The candidate issues their own; for an
    application received on paper, the registrar prints it on the notice."""
    application = credential.application
    if by.is_staff:
        allowed = has_role(by, Role.REGISTRAR) and application.channel in Channel.paper()
    else:
        allowed = application.candidate_id == by.pk
    if not allowed:
        raise NotFound(_("Уведомление не найдено."))
    if application.status != Application.Status.ADMITTED:
        raise DomainError(_("Заявитель не допущен к испытанию."), code="not_admitted", status=409)
    password = "".join(secrets.choice(PASSWORD_ALPHABET) for _i in range(PASSWORD_LENGTH))
    with transaction.atomic():
        locked = ExamCredential.objects.select_for_update().get(pk=credential.pk)
        reissue = bool(locked.password_hash)
        locked.set_password(password)
        locked.password_issued_at = timezone.now()
        locked.password_issued_to = by
        locked.save(update_fields=["password_hash", "password_issued_at", "password_issued_to"])
        audit_record(
            case=application,
            actor=by,
            verb="exam_password_reissued" if reissue else "exam_password_issued",
            action="event",
            data={"login": locked.login},
            ip=ip,
        )
    return password
