"""Attestation decisions (p.59), expert certificates (p.60-62), the registry (p.63) and annulment."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date
from typing import Any, Unpack

from dateutil.relativedelta import relativedelta
from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models import QuerySet
from django.db.models.fields.files import FieldFile
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from core import calendar, dates
from core.dispatch import (
    dispatch_by_email,
    dispatch_can_record,
    dispatch_check,
    dispatch_record,
    dispatch_refuse_twice,
    dispatch_to_cabinet,
    tracking_number_clean,
)
from core.errors import DomainError, allowed
from core.files import file_store
from core.letters import Correction, letter_correct, letter_correct_check
from core.models import Deadline, LetterEdition, OutgoingLetter, User
from core.qes.documents import document_record, document_sign, signing_refusal
from core.roles import Role, has_role, require_role, users_with_role
from core.services import (
    MessageText,
    audit_record,
    case_transition,
    counter_next,
    deadline_close,
    deadline_open,
    notification_gather,
    notification_send,
    outgoing_number_assign,
    transition_check,
)
from core.text import text_required
from core.uploads import CheckedFile, check_upload
from exam.admission.services.persons import person_lock
from exam.models import Application, Attempt, Channel
from registry import signing
from registry.models import (
    Annulment,
    AnnulmentReason,
    AreaOfActivity,
    AttestationDecision,
    Certificate,
    CertificateEdition,
    CertificateHistory,
    ExpertiseFinding,
    Surname,
)
from registry.selectors import (
    DEADLINE_CERTIFICATE,
    DEADLINE_DECISION,
    DEADLINE_DECISION_DISPATCH,
    DEADLINE_PUBLISH,
    certificate_record,
    record_fixed_fields,
    search_key,
)
from registry.signals import certificate_issued

# --- Attestation decisions ------------------------------------------------------------------------


def _lock_person(application: Application) -> None:
    """Lock the person (p.58: their last test decides; exam.admission.services.persons): drafting and
    superseding decisions of one person take turns, so that two attempts ending at once leave one
    current decision. An advisory lock, not the account's row: signing and issuing write rows that
    refer to the account (a key-share lock), and a row lock here would deadlock with them."""
    person_lock(application.person_key)


def _decisions_of_person(application: Application) -> QuerySet[AttestationDecision]:
    return AttestationDecision.objects.filter(application__person_key=application.person_key)


def _kind_for(attempt: Attempt) -> str:
    return AttestationDecision.Kind.ATTESTED if attempt.passed else AttestationDecision.Kind.REFUSED


def _carried_out(decision: AttestationDecision, *, final: Attempt | None) -> bool:
    """Whether a decision is final and stays as it is: a certificate was issued on it, or it is a
    refusal on an earlier test that already reached the applicant (a document of its day). A
    decision on the current result that no longer matches it (an appeal changed the score) is
    never final unless a certificate was issued on it."""
    if Certificate.objects.filter(decision_id=decision.pk).exists():
        return True
    on_final = final is not None and decision.attempt_id == final.pk
    return (
        not on_final
        and decision.kind == AttestationDecision.Kind.REFUSED
        and decision.status == AttestationDecision.Status.SIGNED
        and decision.dispatched_at is not None
    )


def _stale(decision: AttestationDecision, *, final: Attempt | None) -> bool:
    if final is None or decision.attempt_id != final.pk:
        return True
    return decision.kind != _kind_for(final) or decision.score != (final.score or 0)


def _supersede(decision: AttestationDecision, *, by: User | None, reason: str) -> None:
    """Mark one decision superseded, end its open terms (cancelled: nothing is left to do on it)
    and write the audit record. The caller holds the row lock."""
    decision.superseded, decision.superseded_at, decision.superseded_reason = True, timezone.now(), reason[:300]
    decision.save(update_fields=["superseded", "superseded_at", "superseded_reason"])
    for kind in (DEADLINE_DECISION, DEADLINE_CERTIFICATE, DEADLINE_DECISION_DISPATCH):
        deadline_close(case=decision, kind=kind, cancelled=True)
    audit_record(
        case=decision,
        actor=by,
        verb="attestation_decision_supersede",
        action="event",
        from_state=decision.status,
        to_state=decision.status,
        reason=reason,
    )


def attestation_decisions_supersede_stale(
    *, application: Application, by: User | None, reason: str
) -> list[AttestationDecision]:
    """p.58: the last test taken is final. Every decision of the person that is not carried out and
    does not match their current result (the last finished attempt, as it stands after any appeal)
    is superseded, with its open terms closed: signing, issuing, publishing and dispatching refuse
    it from then on. Runs in the caller's transaction (an attempt finished, a result changed, a
    decision is drafted) under the lock on the person."""
    from exam.testing.selectors import final_result

    _lock_person(application)
    open_ones = _decisions_of_person(application).filter(superseded=False).select_for_update(of=("self",))
    decisions = list(open_ones.order_by("pk"))
    if not decisions:
        return []  # a first test: nothing to supersede, and the final result is not read
    final = final_result(application)
    superseded = []
    for decision in decisions:
        if _stale(decision, final=final) and not _carried_out(decision, final=final):
            _supersede(decision, by=by, reason=reason)
            superseded.append(decision)
    return superseded


def attestation_decision_draft(
    *, attempt: Attempt, started_on: date | None = None, by: User | None = None, reason: str = ""
) -> AttestationDecision | None:
    """After the candidate's final attempt (p.58) the system drafts the decision on attestation
    (p.59): attested on a pass, refusal otherwise. Its term is 15 working days from the test
    (p.12(v)), or from ``started_on`` (the appeal's decision) for a decision that replaces one.
    Whatever decision of the person it makes stale is superseded first. Idempotent; an attempt that
    is not the person's last gets no decision."""
    from exam.testing.selectors import final_result

    with transaction.atomic():
        locked = Attempt.objects.select_for_update(of=("self",)).select_related("application").get(pk=attempt.pk)
        if locked.is_active:
            return None
        attestation_decisions_supersede_stale(
            application=locked.application,
            by=by,
            reason=reason
            or _("Результат испытания от %(date)s изменился или не является последним (п. 58).")
            % {"date": calendar.moscow_date(locked.started_at).strftime("%d.%m.%Y")},
        )
        current = locked.attestation_decisions.filter(superseded=False).first()
        final = final_result(locked.application)
        if current is not None or final is None or final.pk != locked.pk:
            return current
        test_date = calendar.moscow_date(locked.started_at)
        decision = AttestationDecision.objects.create(
            application=locked.application,
            attempt=locked,
            kind=_kind_for(locked),
            score=locked.score or 0,
            question_count=locked.question_count,
            test_date=test_date,
        )
        audit_record(
            case=decision,
            actor=None,
            verb="attestation_decision_draft",
            to_state=decision.status,
            data={"attempt": locked.pk, "score": decision.score, "kind": decision.kind},
        )
        deadline_open(
            case=decision,
            kind=DEADLINE_DECISION,
            role=Role.SIGNATORY,
            started_on=started_on or test_date,
            working_days=settings.ATTESTATION_DECISION_WORKING_DAYS,
        )
        # One message to each signatory counting the drafts sent to them since they last looked, not
        # one each: a sitting of thousands ends with thousands of drafts within minutes. It counts
        # what was sent, which stays true when some are signed meanwhile; what waits now is the
        # queue's (and the dashboard's) figure.
        for signatory in users_with_role(Role.SIGNATORY).order_by("pk"):  # locked in one order
            notification_gather(
                recipient=signatory,
                key="attestation_decisions_to_sign",
                subject=lambda count: (
                    ngettext(
                        "%(count)s решение по результатам испытания направлено на подпись",
                        "%(count)s решений по результатам испытаний направлено на подпись",
                        count,
                    )
                    % {"count": count}
                ),
                body=lambda: (
                    _("Последнее: %(name)s — %(kind)s.")
                    % {"name": locked.application.short_name, "kind": decision.get_kind_display()}
                ),
                link=reverse("frontend:attestation_queue"),
            )
    return decision


def attestation_refusal_cancel_check(decision: AttestationDecision) -> None:
    """What attestation_refusal_cancel needs, as a domain error when it is missing: a signed refusal
    of attestation that is still the person's current decision (p.58)."""
    if decision.kind != AttestationDecision.Kind.REFUSED or decision.status != AttestationDecision.Status.SIGNED:
        raise DomainError(
            _("Отменяется подписанное решение об отказе в аттестации."), code="not_signed_refusal", status=409
        )
    _require_current(decision)


def attestation_refusal_cancel(
    *, decision: AttestationDecision, by: User, reason: str, term_from: date
) -> AttestationDecision | None:
    """p.88-89: a signed refusal of attestation is cancelled on an upheld complaint (on a ground of
    p.78). It is superseded (kept, never current again, its open terms ended: p.58's one current
    decision per person) and a new decision is drafted by attestation_decision_draft, the one
    drafting path, on the same attempt's result, with its term of p.12(v) from ``term_from`` (the
    complaint's decision); a signatory signs it as usual. Returns the new draft.

    Who may carry it out is the caller's rule (the remedy of a complaint). Runs inside the caller's
    transaction: a plain atomic block, never a durable one."""
    reason = text_required(reason, field="reason", label=_("Основание отмены"))
    with transaction.atomic():
        # The person first, as drafting and superseding take it, then the decision.
        _lock_person(decision.application)
        locked = (
            AttestationDecision.objects.select_for_update(of=("self",))
            .select_related("application", "attempt")
            .get(pk=decision.pk)
        )
        attestation_refusal_cancel_check(locked)
        _supersede(locked, by=by, reason=_("Отменено по жалобе: %(reason)s") % {"reason": reason})
        audit_record(
            case=locked,
            actor=by,
            verb="attestation_refusal_cancel",
            action="event",
            reason=reason,
            data={"outgoing_number": locked.outgoing_number, "term_from": term_from.isoformat()},
        )
        new = attestation_decision_draft(attempt=locked.attempt, started_on=term_from, by=by, reason=reason)
        candidate = locked.application.candidate
        if candidate is not None:
            days = settings.ATTESTATION_DECISION_WORKING_DAYS
            notification_send(
                recipient=candidate,
                subject=lambda: _("Решение об отказе в аттестации отменено"),
                body=lambda: (
                    ngettext(
                        "Решение об отказе в аттестации (исх. № %(out)s) отменено: %(reason)s\nНовое решение будет "
                        "принято в течение %(days)d рабочего дня, не позднее %(date)s.",
                        "Решение об отказе в аттестации (исх. № %(out)s) отменено: %(reason)s\nНовое решение будет "
                        "принято в течение %(days)d рабочих дней, не позднее %(date)s.",
                        days,
                    )
                    % {
                        "out": locked.outgoing_number or "—",
                        "reason": reason,
                        "days": days,
                        "date": calendar.add_working_days(term_from, days).strftime("%d.%m.%Y"),
                    }
                ),
                link=locked.application.cabinet_url(),
            )
    return new


def attestation_decision_current_error(decision: AttestationDecision) -> str:
    """Why the decision can no longer be signed, turned into a certificate or sent (p.58), or ""
    when it can: it was superseded, its attempt is not the person's last finished one, or the
    attempt's result is no longer the one it states. The one rule the services that sign, issue,
    publish and dispatch check (and the pages ask, to offer the action)."""
    from exam.testing.selectors import final_result

    if decision.superseded:
        # A decision superseded before the moment and the reason were recorded shows no empty date.
        said = (
            _("Решение заменено %(date)s") % {"date": timezone.localtime(decision.superseded_at).strftime("%d.%m.%Y")}
            if decision.superseded_at
            else _("Решение заменено")
        )
        return f"{said}: {decision.superseded_reason}" if decision.superseded_reason else f"{said}."
    attempt = decision.attempt
    final = final_result(decision.application)
    if final is None or final.pk != attempt.pk:
        return _("Решение относится не к последнему испытанию заявителя: действует результат последнего (п. 58).")
    if _stale(decision, final=final):
        return _("Результат испытания изменился после подготовки решения: действует новое решение.")
    return ""


def _require_current(decision: AttestationDecision) -> None:
    error = attestation_decision_current_error(decision)
    if error:
        raise DomainError(error, code="superseded", status=409)


# --- What the pages may offer: the checks the services run, as predicates -------------------------


def _sign_check(decision: AttestationDecision, *, by: User) -> None:
    _require_current(decision)
    transition_check(case=decision, name="sign")
    signing_refusal(by)  # the decision's PDF is signed with the signatory's qualified key


def attestation_decision_can_sign(*, decision: AttestationDecision, user: User) -> bool:
    """Whether attestation_decision_sign would accept: a signatory, a draft still current (p.58),
    whose qualified certificate is configured when signatures are required."""
    return has_role(user, Role.SIGNATORY) and allowed(lambda: _sign_check(decision, by=user))


def _issue_check(decision: AttestationDecision, *, by: User) -> None:
    if decision.status != AttestationDecision.Status.SIGNED or decision.kind != AttestationDecision.Kind.ATTESTED:
        raise DomainError(
            _("Сертификат выдаётся по подписанному решению об аттестации."), code="not_attested", status=409
        )
    if Certificate.objects.filter(decision=decision).exists():
        raise DomainError(_("Сертификат по этому решению уже выдан."), code="already_issued", status=409)
    _require_current(decision)
    signing_refusal(by)  # the certificate's PDF is signed with the officer's qualified key


def certificate_can_issue(*, decision: AttestationDecision, user: User) -> bool:
    """Whether certificate_issue would issue on the decision (the areas aside): a certificate officer,
    a signed decision of attestation, still current, with no certificate yet."""
    return has_role(user, Role.CERTIFICATE_OFFICER) and allowed(lambda: _issue_check(decision, by=user))


def _dispatch_check(decision: AttestationDecision) -> None:
    if decision.status != AttestationDecision.Status.SIGNED or not decision.pdf:
        raise DomainError(_("Решение ещё не подписано или не сформировано."), code="not_signed", status=409)
    _require_current(decision)


def attestation_decision_can_dispatch(*, decision: AttestationDecision, user: User) -> bool:
    """Whether attestation_decision_dispatch would record the paper dispatch: a registrar, a signed
    decision with its PDF, still current, not sent yet."""
    return dispatch_can_record(letter=decision, by=user) and allowed(lambda: _dispatch_check(decision))


def _confirm_check(annulment: Annulment, *, by: User) -> None:
    if annulment.requested_by_id == by.pk:
        raise DomainError(_("Аннулирование подтверждает не тот, кто его подготовил."), code="same_person", status=403)
    transition_check(case=annulment, name="confirm")


def annulment_can_confirm(*, annulment: Annulment, user: User) -> bool:
    """Whether annulment_confirm would accept: a signatory other than the one who asked, while the
    annulment waits for confirmation."""
    return has_role(user, Role.SIGNATORY) and allowed(lambda: _confirm_check(annulment, by=user))


def attestation_result_changed(*, attempt: Attempt, by: User | None, reason: str) -> AttestationDecision | None:
    """An upheld appeal (p.65) changed the result of a finished attempt: the decisions it made stale
    are superseded and, if the attempt is the person's last, a new decision is drafted with its own
    term from today, in the same transaction."""
    return attestation_decision_draft(attempt=attempt, started_on=calendar.today(), by=by, reason=reason)


def attempt_finished_supersede(*, attempt: Attempt) -> None:
    """A later attempt of the person ended (p.58): their earlier decisions not carried out are
    superseded now, in the attempt's own transaction; the new decision is drafted after the commit
    (a task, with the sweeper as the safety net)."""
    from core.tasks import enqueue
    from registry.tasks import attestation_decision_draft as draft_task

    attestation_decisions_supersede_stale(
        application=attempt.application,
        by=None,
        reason=_("Завершено более позднее испытание заявителя (%(date)s); окончательный результат — последний (п. 58).")
        % {"date": calendar.moscow_date(attempt.started_at).strftime("%d.%m.%Y")},
    )
    attempt_id = attempt.pk
    transaction.on_commit(lambda: enqueue(draft_task, attempt_id))


def attestation_decision_sign(*, decision: AttestationDecision, by: User) -> AttestationDecision:
    """A signatory signs the decision; the candidate receives it in the cabinet, by e-mail and as a
    PDF (rendered after commit). On attestation the certificate officer issues the certificate within
    the same term."""
    from core.tasks import enqueue
    from registry.tasks import decision_render_pdf

    require_role(by, Role.SIGNATORY, message=_("Подписывать решения может только подписант."))
    with transaction.atomic(durable=True):
        locked = (
            AttestationDecision.objects.select_for_update(of=("self",))
            .select_related("application")
            .get(pk=decision.pk)
        )
        _sign_check(locked, by=by)
        locked.signed_by = by
        locked.signed_at = timezone.now()
        outgoing_number_assign(letter=locked, kind=OutgoingLetter.Kind.ATTESTATION_DECISION, signed_at=locked.signed_at)
        case_transition(
            case=locked, name="sign", by=by, fields=("signed_by", "signed_at"), reason=str(locked.get_kind_display())
        )
        decision_id = locked.pk
        transaction.on_commit(lambda: enqueue(decision_render_pdf, decision_id))
        deadline_close(case=locked, kind=DEADLINE_DECISION)
        decision_deadline = Deadline.objects.filter(
            case_type=ContentType.objects.get_for_model(AttestationDecision),
            case_id=locked.pk,
            kind=DEADLINE_DECISION,
        ).first()
        started_on = decision_deadline.started_on if decision_deadline else locked.test_date
        if locked.kind == AttestationDecision.Kind.ATTESTED:
            deadline_open(
                case=locked,
                kind=DEADLINE_CERTIFICATE,
                role=Role.CERTIFICATE_OFFICER,
                started_on=started_on,
                working_days=settings.ATTESTATION_DECISION_WORKING_DAYS,
            )
        candidate = locked.application.candidate
        if candidate is not None:
            dispatch_to_cabinet(
                letter=locked,
                case=locked,
                recipient=candidate,
                subject=lambda: str(locked.get_kind_display()),
                body=lambda: (
                    _(
                        "Результат аттестационного испытания: %(score)d из %(total)d. Документ доступен в личном кабинете."
                    )
                    % {"score": locked.score, "total": locked.question_count}
                ),
                link=locked.application.cabinet_url(),
                deadline_kind=None,
                verb="attestation_decision_dispatch",
            )
        else:
            # p.64: the refusal reaches an applicant without a cabinet by e-mail or by registered
            # mail within the term of p.12(v); so does a decision of attestation (the registrar finds
            # both among the open terms). The term ends at the dispatch.
            deadline_open(
                case=locked,
                kind=DEADLINE_DECISION_DISPATCH,
                role=Role.REGISTRAR,
                started_on=started_on,
                working_days=settings.ATTESTATION_DECISION_WORKING_DAYS,
            )
    return locked


def attestation_decision_email(*, decision: AttestationDecision) -> AttestationDecision:
    """E-mail the signed decision with its PDF to the address given on a paper application without
    a cabinet account (p.64: electronically): that is its dispatch. A no-op when it already went
    out, has no PDF yet or has nowhere to go; OSError from the mail server, for the task to retry."""
    application = decision.application
    if not attestation_decision_emailable(decision):
        return decision
    return dispatch_by_email(
        letter=decision,
        case=decision,
        deadline_kind=DEADLINE_DECISION_DISPATCH,
        verb="attestation_decision_dispatch",
        to=application.email,
        subject=str(decision.get_kind_display()),
        body=_(
            "Здравствуйте, %(name)s!\n\nПо заявлению № %(n)s принято решение по результатам аттестационного "
            "испытания: %(kind)s (%(score)d из %(total)d).\n\nРешение во вложении (PDF)."
        )
        % {
            "name": application.full_name,
            "n": application.registration_number,
            "kind": decision.get_kind_display(),
            "score": decision.score,
            "total": decision.question_count,
        },
        filename=f"decision-{decision.pk}.pdf",
        file=decision.pdf,
        still_due=lambda locked: not attestation_decision_current_error(locked),  # superseded meanwhile
    )


def attestation_decision_emailable(decision: AttestationDecision) -> bool:
    application = decision.application
    return (
        decision.status == AttestationDecision.Status.SIGNED
        and not decision.superseded
        and decision.dispatched_at is None
        and bool(decision.pdf)
        and application.candidate_id is None
        and bool(application.email)
    )


def attestation_decision_dispatch(
    *, decision: AttestationDecision, by: User, channel: str, reference: str
) -> AttestationDecision:
    """The registrar records that the signed decision was sent on paper to an applicant with
    neither a cabinet account nor an e-mail address: by registered mail with its tracking number, or
    handed over in person (p.64). For a refusal this ends the term of p.12(v)."""
    reference = dispatch_check(by=by, channel=channel, reference=reference)
    with transaction.atomic(durable=True):
        locked = AttestationDecision.objects.select_for_update().get(pk=decision.pk)
        _dispatch_check(locked)
        dispatch_refuse_twice(locked)
        dispatch_record(
            letter=locked,
            case=locked,
            deadline_kind=DEADLINE_DECISION_DISPATCH,
            channel=channel,
            reference=reference,
            by=by,
            verb="attestation_decision_dispatch",
        )
    return locked


def _correct_check(decision: AttestationDecision, *, by: User) -> None:
    require_role(by, Role.SIGNATORY, message=_("Исправленное решение подписывает подписант."))
    if decision.status != AttestationDecision.Status.SIGNED or not decision.pdf or decision.superseded:
        raise DomainError(_("Исправляется подписанное и действующее решение."), code="not_correctable", status=409)
    letter_correct_check(decision)
    signing_refusal(by)


def attestation_decision_can_correct(*, decision: AttestationDecision, user: User) -> bool:
    """Whether attestation_decision_correct would accept this user: a signatory, a signed decision
    not superseded, once it was sent."""
    return allowed(lambda: _correct_check(decision, by=user))


def attestation_decision_correct(
    *, decision: AttestationDecision, by: User, **correction: Unpack[Correction]
) -> LetterEdition:
    """p.78(g), p.88(a): issue a corrected edition of the decision on attestation, for a typo in the
    addressee's particulars it prints (name, postal or e-mail address; core.letters). The decision
    (its kind, the score) is not touched. Signed by a signatory (p.59), with a new outgoing number,
    sent like the decision (p.64): the cabinet, the e-mail, or the post recorded by the registrar.
    Plain atomic: a complaint's remedy may call it inside its own transaction."""
    from registry.documents import decision_print, render_decision_pdf

    application = decision.application
    return letter_correct(
        letter=decision,
        case=decision,
        kind=OutgoingLetter.Kind.ATTESTATION_DECISION,
        by=by,
        **correction,
        original=decision_print(decision=decision),
        render=lambda letter, stamp: render_decision_pdf(decision=decision, letter=letter, stamp=stamp),
        check=lambda locked: _correct_check(locked, by=by),
        recipient=application.candidate,
        link=application.cabinet_url(),
    )


# --- Certificates ---------------------------------------------------------------------------------


def _sign_record(certificate: Certificate) -> None:
    signing.publish_current_key()  # a new key is valid from now: sign after it is published
    certificate.signed_at = timezone.now()
    record = certificate_record(certificate)
    certificate.key_id, certificate.signature = signing.sign(record)
    certificate.record_seal = signing.seal(record, certificate.signature, certificate.key_id)


def certificate_issue(
    *, decision: AttestationDecision, by: User, areas: list[AreaOfActivity], publish: bool = True
) -> Certificate:
    """Issue the expert certificate on a signed decision of attestation (p.60-62): a gap-free
    number, the issue date, the expiry date (CERTIFICATE_VALIDITY_YEARS), the areas of activity, the
    signed record, then the PDF in the form of Order 32n with its QR code (rendered after commit);
    unless told otherwise, the registry entry (p.63) at once."""
    from core.tasks import enqueue
    from registry.tasks import certificate_render_pdf

    require_role(
        by, Role.CERTIFICATE_OFFICER, message=_("Выдавать сертификаты может только специалист по сертификатам.")
    )
    if not areas:
        raise DomainError(_("Укажите хотя бы одну область деятельности."), fields={"areas": [_("Обязательное поле.")]})
    if any(not a.active for a in areas):
        raise DomainError(_("Область деятельности исключена из перечня."), fields={"areas": [_("Неверное значение.")]})
    with transaction.atomic(durable=True):
        locked = (
            AttestationDecision.objects.select_for_update(of=("self",))
            .select_related("application")
            .get(pk=decision.pk)
        )
        _issue_check(locked, by=by)
        application = locked.application
        issued_on = calendar.today()
        certificate = Certificate.objects.create(
            number=certificate_number_next(issued_on=issued_on),
            decision=locked,
            candidate=application.candidate,
            last_name=application.last_name,
            first_name=application.first_name,
            patronymic=application.patronymic,
            search_last=search_key(application.last_name),
            search_name=search_key(application.full_name),
            issued_on=issued_on,
            expires_on=expiry_date(issued_on),
            areas_text="; ".join(a.title for a in areas),
        )
        certificate.areas.set(areas)
        Surname.objects.get_or_create(word=certificate.search_last)
        _sign_record(certificate)
        certificate.save(update_fields=["key_id", "signature", "signed_at", "record_seal"])
        _edition_original(certificate, by=by)
        CertificateHistory.objects.create(certificate=certificate, kind=CertificateHistory.Kind.ISSUED, on=issued_on)
        audit_record(
            case=certificate,
            actor=by,
            verb="certificate_issue",
            to_state=Certificate.Status.VALID,
            data={"number": certificate.number, "areas": [a.code for a in areas]},
        )
        # The PDF is rendered after the commit: the number's lock is not held for a second per PDF.
        certificate_id = certificate.pk
        transaction.on_commit(lambda: enqueue(certificate_render_pdf, certificate_id))
        # The term of p.12(v) is for issuing *and handing over*: it ends at certificate_handover.
        deadline_open(
            case=certificate,
            kind=DEADLINE_PUBLISH,
            role=Role.CERTIFICATE_OFFICER,
            started_on=issued_on,
            working_days=settings.REGISTRY_PUBLISH_WORKING_DAYS,
        )
        if application.candidate is not None:
            notification_send(
                recipient=application.candidate,
                subject=lambda: _("Выдан сертификат эксперта № %(n)s") % {"n": certificate.number},
                body=lambda: (
                    _("Сертификат действителен до %(date)s. Сведения доступны в личном кабинете.")
                    % {"date": certificate.expires_on.strftime("%d.%m.%Y")}
                ),
                link=application.cabinet_url(),
            )
        if publish:
            certificate = certificate_publish(certificate=certificate, by=by)
        # In this transaction: what waited for the certificate (a complaint's remedy, p.89) is done
        # exactly when it is issued.
        certificate_issued.send(sender=Certificate, certificate=certificate, by=by)
    return certificate


def certificate_number_next(*, issued_on: date) -> str:
    """The next certificate number in CERTIFICATE_NUMBER_FORMAT (p.61): gap-free within the caller's
    transaction. The sequence starts again each year only when the number carries the year; a
    format without {year} counts across the years, so that no number is given twice."""
    number_format = settings.CERTIFICATE_NUMBER_FORMAT
    yearly = "{year" in number_format
    seq = counter_next(scope="certificate", year=issued_on.year if yearly else 0)
    return number_format.format(year=issued_on.year, seq=seq)


def decision_render(*, decision: AttestationDecision) -> AttestationDecision:
    """Render the PDF of a signed decision on attestation once."""
    from registry.documents import render_decision_pdf

    if decision.pdf or decision.status != AttestationDecision.Status.SIGNED:
        return decision
    # Signed with the key of the signatory who signed the decision (p.59), the stamp printed on it.
    issued = document_sign(
        official=decision.signed_by, render=lambda stamp: render_decision_pdf(decision=decision, stamp=stamp)
    )
    with transaction.atomic():
        locked = AttestationDecision.objects.select_for_update().get(pk=decision.pk)
        if not locked.pdf:
            file_store(file=locked.pdf, name=f"decision-{locked.pk}.pdf", content=issued.content)
            locked.save(update_fields=["pdf"])
            document_record(
                issued=issued,
                file_name=locked.pdf.name,
                title=_("%(kind)s, исх. № %(n)s") % {"kind": locked.get_kind_display(), "n": locked.outgoing_number},
            )
    return locked


def certificate_render(*, certificate: Certificate) -> Certificate:
    """Render the PDF of the certificate's current edition (Order 32n, with the QR code of the signed
    record; a corrected edition or a duplicate marked as such) once: it is the certificate's PDF and
    that edition's. The files of the editions before stay as they were."""
    from registry.documents import render_certificate_pdf

    if certificate.pdf:
        return certificate
    edition = certificate.editions.filter(replaced_at__isnull=True).first()
    # Signed with the key of the certificate officer who issued the edition (p.60-61).
    issued = document_sign(
        official=edition.issued_by if edition is not None else None,
        render=lambda stamp: render_certificate_pdf(certificate=certificate, edition=edition, stamp=stamp),
    )
    pdf = issued.content
    with transaction.atomic():
        locked = Certificate.objects.select_for_update().get(pk=certificate.pk)
        current = locked.editions.select_for_update().filter(replaced_at__isnull=True).first()
        if not locked.pdf and (current is None or edition is None or current.pk == edition.pk):
            suffix = f"-{current.number}" if current is not None and current.number > 1 else ""
            file_store(file=locked.pdf, name=f"certificate-{locked.number}{suffix}.pdf", content=pdf)
            locked.save(update_fields=["pdf"])
            if current is not None:
                current.pdf.name = locked.pdf.name  # one file: the certificate's current PDF is the edition's
                current.save(update_fields=["pdf"])
            document_record(
                issued=issued,
                file_name=locked.pdf.name,
                title=_("Сертификат эксперта № %(n)s") % {"n": locked.number},
            )
            audit_record(
                case=locked,
                actor=None,
                verb="certificate_pdf",
                action="event",
                data={"sha256": hashlib.sha256(pdf).hexdigest(), "edition": current.number if current else 1},
            )
    return locked


def expiry_date(issued_on: date) -> date:
    """The last day of validity (p.61): a term of years ends on the same date of its last year (Civil
    Code art. 192), not moved to a working day (a period of validity, not a term to act): issued on
    22.11.2026 for 5 years, valid through 22.11.2031. A date missing in the last year (29 February)
    gives the last day of that month. Certificates issued before keep their stored expiry."""
    return issued_on + relativedelta(years=settings.CERTIFICATE_VALIDITY_YEARS)


def certificate_publish(*, certificate: Certificate, by: User) -> Certificate:
    """Enter the certificate in the public registry (p.63), tracked against 10 working days."""
    require_role(
        by, Role.CERTIFICATE_OFFICER, message=_("Вносить сведения в реестр может только специалист по сертификатам.")
    )
    with transaction.atomic():
        locked = Certificate.objects.select_for_update(of=("self",)).select_related("decision").get(pk=certificate.pk)
        if locked.published_at is not None:
            return locked
        if locked.decision is not None and locked.decision.superseded:
            raise DomainError(_("Решение, на котором выдан сертификат, заменено."), code="superseded", status=409)
        locked.published_at = timezone.now()
        locked.updated_at = locked.published_at
        locked.save(update_fields=["published_at", "updated_at"])
        CertificateHistory.objects.create(
            certificate=locked, kind=CertificateHistory.Kind.PUBLISHED, on=calendar.today()
        )
        audit_record(case=locked, actor=by, verb="registry_publish", action="event")
        deadline_close(case=locked, kind=DEADLINE_PUBLISH)
    return locked


def certificate_handover(*, certificate: Certificate, by: User, method: str, tracking_number: str = "") -> Certificate:
    """Record how the certificate's current edition reached the expert (p.60): in person, or by
    registered mail with its tracking number. For the original this ends the term of p.12(v) for
    issuing and handing over the certificate; a corrected edition or a duplicate is handed over the
    same way, recorded on its edition."""
    require_role(by, Role.CERTIFICATE_OFFICER, message=_("Передачу сертификата отмечает специалист по сертификатам."))
    if method not in Certificate.Handover.values:
        raise DomainError(_("Укажите способ передачи."), fields={"method": [_("Неверное значение.")]})
    if method == Certificate.Handover.MAIL:
        tracking_number = tracking_number_clean(tracking_number, field="tracking_number")
    else:
        tracking_number = ""
    with transaction.atomic():
        locked = Certificate.objects.select_for_update().get(pk=certificate.pk)
        edition = _edition_current(locked)
        edition.handover, edition.handover_at, edition.tracking_number = method, timezone.now(), tracking_number
        edition.save(update_fields=["handover", "handover_at", "tracking_number"])
        detail = str(Certificate.Handover(method).label) + (f", {tracking_number}" if tracking_number else "")
        if edition.kind == CertificateEdition.Kind.ORIGINAL or locked.handover_at is None:
            # The certificate's own hand-over (p.60) is the original's, or the first edition's to
            # reach the expert: it ends the term of p.12(v).
            locked.handover, locked.handover_at, locked.tracking_number = method, edition.handover_at, tracking_number
            locked.save(update_fields=["handover", "handover_at", "tracking_number"])
            if locked.decision is not None:  # entries loaded from elsewhere (the generator) have none
                deadline_close(case=locked.decision, kind=DEADLINE_CERTIFICATE)
        else:
            detail = _("%(kind)s (экземпляр № %(n)d): %(how)s") % {
                "kind": edition.get_kind_display(),
                "n": edition.number,
                "how": detail,
            }
        CertificateHistory.objects.create(
            certificate=locked, kind=CertificateHistory.Kind.HANDED_OVER, on=calendar.today(), detail=detail
        )
        audit_record(
            case=locked,
            actor=by,
            verb="certificate_handover",
            action="event",
            data={"method": method, "tracking": tracking_number, "edition": edition.number},
        )
    return locked


# --- Editions: the corrected certificate and the duplicate ----------------------------------------

# What a correction may change (p.78(g): errors in the issued document): the holder's name and the
# areas of activity. The number and the dates are the certificate's and never change.
CORRECTABLE_FIELDS = ("last_name", "first_name", "patronymic", "areas")


def _edition_original(certificate: Certificate, *, by: User | None) -> CertificateEdition:
    """Edition 1 of a certificate just issued, or of an entry made without one (loaded from
    elsewhere) when its first edition after it is issued: the original, as the certificate stands."""
    return CertificateEdition.objects.create(
        certificate=certificate,
        number=1,
        kind=CertificateEdition.Kind.ORIGINAL,
        basis=CertificateEdition.Basis.ISSUE,
        record=record_fixed_fields(certificate_record(certificate)),
        pdf=certificate.pdf.name or "",
        issued_at=certificate.created_at,
        issued_by=by,
        handover=certificate.handover,
        handover_at=certificate.handover_at,
        tracking_number=certificate.tracking_number,
    )


def _edition_current(certificate: Certificate) -> CertificateEdition:
    """The current edition, locked; the caller holds the certificate's lock."""
    edition = certificate.editions.select_for_update().filter(replaced_at__isnull=True).first()
    return edition if edition is not None else _edition_original(certificate, by=None)


def _edition_check(certificate: Certificate, *, by: User) -> None:
    if certificate.annulled_on is not None:
        raise DomainError(
            _("Сертификат аннулирован: исправленный экземпляр и дубликат не выдаются."), code="annulled", status=409
        )
    signing_refusal(by)  # the edition's PDF is signed with the officer's qualified key


def _can_issue_edition(certificate: Certificate, user: User) -> bool:
    return has_role(user, Role.CERTIFICATE_OFFICER) and allowed(lambda: _edition_check(certificate, by=user))


def certificate_can_correct(*, certificate: Certificate, user: User) -> bool:
    """Whether certificate_correct would accept (the changes aside): a certificate officer, a
    certificate not annulled."""
    return _can_issue_edition(certificate, user)


def certificate_can_issue_duplicate(*, certificate: Certificate, user: User) -> bool:
    """Whether certificate_duplicate_issue would accept (the request aside): a certificate officer, a
    certificate not annulled."""
    return _can_issue_edition(certificate, user)


def _request_check(*, request_date: date | None, request_channel: str, issued_on: date) -> None:
    """The expert's request: its date (not in the future, not before the certificate) and channel."""
    if request_date is None:
        raise DomainError(_("Укажите дату заявления."), fields={"request_date": [_("Обязательное поле.")]})
    dates.date_argument(request_date, field="request_date", problem=dates.document_date_problem)
    if request_date < issued_on:
        problem = _("Дата заявления не может быть раньше выдачи сертификата (%(d)s).") % {
            "d": issued_on.strftime("%d.%m.%Y")
        }
        raise DomainError(problem, fields={"request_date": [problem]})
    if request_channel not in Channel.values:
        raise DomainError(_("Укажите способ подачи заявления."), fields={"request_channel": [_("Неверное значение.")]})


def _basis_check(
    *, basis: str, basis_reference: str, request_date: date | None, request_channel: str, issued_on: date
) -> None:
    """A correction rests on the expert's request (its date and channel), a complaint (its
    particulars) or the officer's own finding."""
    if basis == CertificateEdition.Basis.EXPERT_REQUEST:
        _request_check(request_date=request_date, request_channel=request_channel, issued_on=issued_on)
    elif basis == CertificateEdition.Basis.COMPLAINT:
        text_required(basis_reference, field="basis_reference", label=_("Реквизиты жалобы"))
    elif basis != CertificateEdition.Basis.OFFICER_FINDING:
        raise DomainError(_("Укажите основание исправления."), fields={"basis": [_("Неверное значение.")]})


def _changes_of(certificate: Certificate, changes: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The fields that the correction really changes, old and new (areas by their titles)."""
    unknown = sorted(set(changes) - set(CORRECTABLE_FIELDS))
    if unknown:
        raise DomainError(
            _(
                "Исправляются только фамилия, имя, отчество и области деятельности; номер и даты сертификата не меняются."
            ),
            code="not_correctable",
            fields={field: [_("Не исправляется.")] for field in unknown},
        )
    diff: dict[str, dict[str, Any]] = {}
    for field in ("last_name", "first_name", "patronymic"):
        if field not in changes:
            continue
        new = str(changes[field]).strip()
        if not new and field != "patronymic":
            raise DomainError(_("Обязательное поле."), fields={field: [_("Обязательное поле.")]})
        if new != getattr(certificate, field):
            diff[field] = {"old": getattr(certificate, field), "new": new}
    if "areas" in changes:
        areas: list[AreaOfActivity] = list(changes["areas"])
        if not areas:
            raise DomainError(
                _("Укажите хотя бы одну область деятельности."), fields={"areas": [_("Обязательное поле.")]}
            )
        if any(not a.active for a in areas):
            raise DomainError(
                _("Область деятельности исключена из перечня."), fields={"areas": [_("Неверное значение.")]}
            )
        old = [a for a in certificate.areas_text.split("; ") if a]
        new_titles = [a.title for a in areas]
        if set(new_titles) != set(old):
            diff["areas"] = {"old": old, "new": new_titles, "codes": [a.code for a in areas]}
    if not diff:
        raise DomainError(_("Сведения не изменились: исправлять нечего."), code="no_changes")
    return diff


def _edition_issue(
    certificate: Certificate,
    *,
    by: User,
    kind: str,
    basis: str,
    reason: str,
    basis_reference: str = "",
    request_date: date | None = None,
    request_channel: str = "",
    changes: dict[str, Any] | None = None,
) -> CertificateEdition:
    """The next edition of the locked certificate as it now stands: the current one is replaced (its
    file kept), the new one's PDF is rendered after the commit. The caller has applied the changes
    and signed the record."""
    from core.tasks import enqueue
    from registry.tasks import certificate_render_pdf

    previous = _edition_current(certificate)
    previous.replaced_at = timezone.now()
    previous.save(update_fields=["replaced_at"])
    edition = CertificateEdition.objects.create(
        certificate=certificate,
        number=previous.number + 1,
        kind=kind,
        basis=basis,
        basis_reference=basis_reference,
        request_date=request_date,
        request_channel=request_channel,
        reason=reason,
        changes=changes or {},
        record=record_fixed_fields(certificate_record(certificate)),
        issued_by=by,
    )
    certificate.pdf.name = ""  # the current PDF is the new edition's, rendered after the commit
    certificate.save(update_fields=["pdf"])
    certificate_id = certificate.pk  # the new edition's PDF and the replaced one's stamped copy
    transaction.on_commit(lambda: enqueue(certificate_render_pdf, certificate_id))
    return edition


def certificate_editions_render_replaced(*, certificate: Certificate) -> None:
    """Render once, for each replaced edition of the certificate, the copy stamped «заменён» with
    the edition that replaced it, from the edition's record: what the staff open of it from then
    on. The file as issued stays, for the audit."""
    from registry.documents import render_replaced_edition_pdf

    editions = {edition.number: edition for edition in certificate.editions.all()}
    for edition in editions.values():
        if edition.replaced_at is None or edition.replaced_pdf or edition.number + 1 not in editions:
            continue
        pdf = render_replaced_edition_pdf(edition=edition, successor=editions[edition.number + 1])
        with transaction.atomic():
            locked = CertificateEdition.objects.select_for_update().get(pk=edition.pk)
            if locked.replaced_pdf:
                continue
            name = f"certificate-{certificate.number}-{locked.number}-replaced.pdf"
            file_store(file=locked.replaced_pdf, name=name, content=pdf)
            locked.save(update_fields=["replaced_pdf"])
            audit_record(
                case=certificate,
                actor=None,
                verb="certificate_edition_replaced_pdf",
                action="event",
                data={"sha256": hashlib.sha256(pdf).hexdigest(), "edition": locked.number},
            )


def _edition_notify(certificate: Certificate, *, subject: MessageText) -> None:
    if certificate.candidate is not None:
        notification_send(
            recipient=certificate.candidate,
            subject=subject,
            body=lambda: _("Новый экземпляр сертификата доступен в личном кабинете; прежний экземпляр заменён."),
            link=certificate.decision.application.cabinet_url() if certificate.decision is not None else "",
        )


CORRECTED_FIELD_LABELS = {
    "last_name": gettext_lazy("фамилия"),
    "first_name": gettext_lazy("имя"),
    "patronymic": gettext_lazy("отчество"),
    "areas": gettext_lazy("области деятельности"),
}


def certificate_correct(
    *,
    certificate: Certificate,
    by: User,
    changes: dict[str, Any],
    reason: str,
    basis: str,
    basis_reference: str = "",
    request_date: date | None = None,
    request_channel: str = "",
) -> CertificateEdition:
    """Correct errors in the issued certificate (p.78(g), p.88(a)): the certificate officer issues a
    corrected edition with the same number and dates. ``changes`` may hold the holder's names
    (last_name, first_name, patronymic) and the areas of activity (``areas``: AreaOfActivity), no
    other field. The correction, its reason and its basis (the expert's request with its date and
    channel, a complaint's particulars, or the officer's own finding) are recorded on the edition;
    the certificate takes the corrected values, so the registry entry, the search and the open data
    show them; its record is signed again; the previous edition is replaced (its file kept); the PDF
    marked «Исправленный экземпляр» is rendered after the commit; the public history says a
    corrected edition was issued (which fields, not their values).

    Runs in a plain (not durable) transaction: a complaint's remedy calls it inside its own. The
    regulation sets no term for a correction at the expert's own request (p.78(g) refers to one
    without setting it); on a complaint of subject (g) the complaint's 5 working days run (p.87)."""
    require_role(by, Role.CERTIFICATE_OFFICER, message=_("Исправленный экземпляр выдаёт специалист по сертификатам."))
    reason = text_required(reason, field="reason", label=_("Причина исправления"))
    with transaction.atomic():
        locked = Certificate.objects.select_for_update(of=("self",)).select_related("decision").get(pk=certificate.pk)
        _edition_check(locked, by=by)
        _basis_check(
            basis=basis,
            basis_reference=basis_reference,
            request_date=request_date,
            request_channel=request_channel,
            issued_on=locked.issued_on,
        )
        diff = _changes_of(locked, changes)
        # An entry made without editions gets its original now, as it stood before the correction.
        _edition_current(locked)
        fields = [field for field in ("last_name", "first_name", "patronymic") if field in diff]
        for field in fields:
            setattr(locked, field, diff[field]["new"])
        if "areas" in diff:
            locked.areas.set(list(changes["areas"]))
            locked.areas_text = "; ".join(diff["areas"]["new"])
            fields.append("areas_text")
        if {"last_name", "first_name", "patronymic"} & set(diff):
            locked.search_last, locked.search_name = search_key(locked.last_name), search_key(locked.full_name)
            Surname.objects.get_or_create(word=locked.search_last)
            fields += ["search_last", "search_name"]
        locked.updated_at = timezone.now()  # the open-data changes feed gives the entry again
        _sign_record(locked)
        locked.save(update_fields=[*fields, "updated_at", "key_id", "signature", "signed_at", "record_seal"])
        edition = _edition_issue(
            locked,
            by=by,
            kind=CertificateEdition.Kind.CORRECTED,
            basis=basis,
            reason=reason,
            basis_reference=basis_reference,
            request_date=request_date if basis == CertificateEdition.Basis.EXPERT_REQUEST else None,
            request_channel=request_channel if basis == CertificateEdition.Basis.EXPERT_REQUEST else "",
            changes=diff,
        )
        # The public sees which fields were corrected, not what they said before.
        corrected = ", ".join(str(CORRECTED_FIELD_LABELS[field]) for field in CORRECTABLE_FIELDS if field in diff)
        CertificateHistory.objects.create(
            certificate=locked,
            kind=CertificateHistory.Kind.CORRECTED,
            on=calendar.today(),
            detail=_("Экземпляр № %(n)d; исправлено: %(fields)s") % {"n": edition.number, "fields": corrected},
        )
        audit_record(
            case=locked,
            actor=by,
            verb="certificate_correct",
            action="event",
            reason=reason,
            data={"edition": edition.number, "basis": basis, "reference": basis_reference, "changes": diff},
        )
        _edition_notify(
            locked, subject=lambda: _("Выдан исправленный экземпляр сертификата № %(n)s") % {"n": locked.number}
        )
    return edition


def certificate_duplicate_issue(
    *, certificate: Certificate, by: User, request_date: date, request_channel: str, reason: str
) -> CertificateEdition:
    """Issue a duplicate of a lost or damaged certificate at the expert's request: the same number,
    dates and values, a PDF marked «Дубликат» (rendered after the commit), handed over and recorded
    like the original (certificate_handover). The previous edition is replaced; the signed record
    does not change. Runs in a plain (not durable) transaction, like certificate_correct."""
    require_role(by, Role.CERTIFICATE_OFFICER, message=_("Дубликат выдаёт специалист по сертификатам."))
    reason = text_required(reason, field="reason", label=_("Причина выдачи дубликата"))
    with transaction.atomic():
        locked = Certificate.objects.select_for_update(of=("self",)).select_related("decision").get(pk=certificate.pk)
        _edition_check(locked, by=by)
        _request_check(request_date=request_date, request_channel=request_channel, issued_on=locked.issued_on)
        edition = _edition_issue(
            locked,
            by=by,
            kind=CertificateEdition.Kind.DUPLICATE,
            basis=CertificateEdition.Basis.EXPERT_REQUEST,
            reason=reason,
            request_date=request_date,
            request_channel=request_channel,
        )
        CertificateHistory.objects.create(
            certificate=locked,
            kind=CertificateHistory.Kind.DUPLICATE,
            on=calendar.today(),
            detail=_("Экземпляр № %(n)d") % {"n": edition.number},
        )
        audit_record(
            case=locked,
            actor=by,
            verb="certificate_duplicate_issue",
            action="event",
            reason=reason,
            data={"edition": edition.number, "request_date": request_date.isoformat(), "channel": request_channel},
        )
        _edition_notify(locked, subject=lambda: _("Выдан дубликат сертификата № %(n)s") % {"n": locked.number})
    return edition


# --- Annulment ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ExpertiseFindingData:
    """The particulars of a conclusion of a state expertise of working conditions, as the officer
    typed them (registry.forms.ExpertiseFindingForm cleaned them)."""

    authority: str
    region: str
    number: str
    issued_on: date
    employer: str
    report: str
    experts: str
    findings: str
    document: UploadedFile


def _checked_upload(upload: UploadedFile, *, field: str) -> CheckedFile:
    """check_upload with its refusal on the form's ``field``."""
    try:
        return check_upload(upload, name=(upload.name or "document")[:255])
    except DomainError as exc:
        raise DomainError(exc.message, code=exc.code, fields={field: exc.fields.get("file", [])}) from exc


def _store_checked(file: FieldFile, checked: CheckedFile) -> None:
    extension = checked.content_type.rsplit("/", 1)[-1]
    file_store(file=file, name=f"{checked.sha256[:16]}.{extension}", content=checked.content)


def _finding_check(finding: ExpertiseFindingData | None, *, reason: AnnulmentReason, basis: str) -> None:
    """An annulment on the reason «state expertise» rests on the conclusion's particulars, from
    which its basis is composed; any other reason rests on the basis document typed in."""
    if not reason.is_state_expertise:
        if finding is not None:
            raise DomainError(
                _("Сведения заключения государственной экспертизы указываются только при этом основании."),
                fields={"reason": [_("Неверное значение.")]},
            )
        text_required(basis, field="basis", label=_("Документ-основание (реквизиты)"))
        return
    if finding is None:
        raise DomainError(
            _("Укажите сведения заключения государственной экспертизы условий труда."),
            fields={"finding": [_("Обязательное поле.")]},
        )
    if basis:
        raise DomainError(
            _("При этом основании реквизиты составляются из сведений заключения."),
            fields={"basis": [_("Оставьте поле пустым.")]},
        )
    dates.date_argument(finding.issued_on, field="finding-issued_on", problem=dates.document_date_problem)


def annulment_request(
    *,
    certificate: Certificate,
    by: User,
    reason: AnnulmentReason,
    basis: str = "",
    comment: str = "",
    basis_file: UploadedFile | None = None,
    finding: ExpertiseFindingData | None = None,
) -> Annulment:
    """A certificate officer asks to annul a certificate (valid or expired), with a reason from the
    list and the basis document: its particulars and, when there is one, its copy (PDF, JPEG or PNG,
    checked by content); a signatory confirms it. On the reason «state expertise» (seeds 002, 003)
    the basis is the conclusion of the expertise: its particulars and its copy (``finding``) are
    stored with the request, and the basis is composed of what the registry publishes of them
    (ExpertiseFinding.public_particulars). The conclusion cannot precede the certificate's issue:
    it judges an assessment the expert made while holding it."""
    require_role(by, Role.CERTIFICATE_OFFICER, message=_("Аннулирование готовит специалист по сертификатам."))
    if not reason.active:
        raise DomainError(_("Основание исключено из перечня."), fields={"reason": [_("Неверное значение.")]})
    _finding_check(finding, reason=reason, basis=basis)
    checked = _checked_upload(basis_file, field="basis_file") if basis_file is not None else None
    document = _checked_upload(finding.document, field="finding-document") if finding is not None else None
    with transaction.atomic():
        locked = Certificate.objects.select_for_update().get(pk=certificate.pk)
        if locked.annulled_on is not None:
            raise DomainError(_("Сертификат уже аннулирован."), code="already_annulled", status=409)
        if locked.annulments.filter(status=Annulment.Status.REQUESTED).exists():
            raise DomainError(_("Аннулирование уже ждёт подтверждения."), code="annulment_pending", status=409)
        record = None
        if finding is not None:
            if finding.issued_on < locked.issued_on:
                problem = _("Дата заключения не может быть раньше выдачи сертификата (%(d)s).") % {
                    "d": locked.issued_on.strftime("%d.%m.%Y")
                }
                raise DomainError(problem, fields={"finding-issued_on": [problem]})
            record = ExpertiseFinding(**{k: v for k, v in vars(finding).items() if k != "document"})
            basis = record.public_particulars
        annulment = Annulment(certificate=locked, reason=reason, basis=basis, comment=comment, requested_by=by)
        if checked is not None:
            _store_checked(annulment.basis_file, checked)
        annulment.save()
        data: dict[str, str] = {}
        if checked is not None:
            data["basis_file_sha256"] = checked.sha256
        if record is not None and document is not None:
            record.annulment = annulment
            _store_checked(record.document, document)
            record.save()
            data["finding_document_sha256"] = document.sha256
        audit_record(
            case=annulment,
            actor=by,
            verb="annulment_request",
            to_state=annulment.status,
            reason=basis,
            data=data or None,
        )
        for signatory in users_with_role(Role.SIGNATORY, exclude=by):
            notification_send(
                recipient=signatory,
                subject=lambda: _("Аннулирование сертификата № %(n)s на подтверждение") % {"n": locked.number},
                body=f"{reason.title}. {basis}",
                link=locked.staff_url(),
            )
    return annulment


def annulment_confirm(*, annulment: Annulment, by: User, note: str = "") -> Annulment:
    """A signatory (not the one who asked) confirms: the certificate is annulled today with the reason;
    the registry shows it as annulled and never deletes it; the record is signed again."""
    require_role(by, Role.SIGNATORY, message=_("Подтверждать аннулирование может только подписант."))
    with transaction.atomic(durable=True):
        locked = Annulment.objects.select_for_update().get(pk=annulment.pk)
        _confirm_check(locked, by=by)
        locked.decided_by, locked.decided_at, locked.decision_note = by, timezone.now(), note
        case_transition(
            case=locked,
            name="confirm",
            by=by,
            fields=("decided_by", "decided_at", "decision_note"),
            reason=locked.basis,
        )
        certificate = Certificate.objects.select_for_update().get(pk=locked.certificate_id)
        from_state = certificate.status  # valid or expired: an expired certificate is annulled too
        certificate.annulled_on = calendar.today()
        certificate.annulment_reason = locked.reason
        certificate.annulment_reason_title = locked.reason.title
        certificate.annulment_basis = locked.basis
        certificate.updated_at = timezone.now()
        _sign_record(certificate)
        certificate.save(
            update_fields=[
                "annulled_on",
                "annulment_reason",
                "annulment_reason_title",
                "annulment_basis",
                "updated_at",
                "key_id",
                "signature",
                "signed_at",
                "record_seal",
            ]
        )
        CertificateHistory.objects.create(
            certificate=certificate,
            kind=CertificateHistory.Kind.ANNULLED,
            on=certificate.annulled_on,
            detail=f"{locked.reason.title}. {locked.basis}",
        )
        audit_record(
            case=certificate,
            actor=by,
            verb="certificate_annul",
            from_state=from_state,
            to_state=Certificate.Status.ANNULLED,
            reason=f"{locked.reason.title}. {locked.basis}",
        )
        if certificate.candidate is not None:
            notification_send(
                recipient=certificate.candidate,
                subject=lambda: _("Сертификат эксперта № %(n)s аннулирован") % {"n": certificate.number},
                body=f"{locked.reason.title}. {locked.basis}",
                link="",
            )
    return locked


def annulment_reject(*, annulment: Annulment, by: User, note: str) -> Annulment:
    require_role(by, Role.SIGNATORY, message=_("Отклонять аннулирование может только подписант."))
    note = text_required(note, field="note", label=_("Причина отказа"))  # a refusal says why
    with transaction.atomic():
        locked = Annulment.objects.select_for_update().get(pk=annulment.pk)
        locked.decided_by, locked.decided_at, locked.decision_note = by, timezone.now(), note
        case_transition(
            case=locked, name="reject", by=by, fields=("decided_by", "decided_at", "decision_note"), reason=note
        )
    return locked
