"""Appeals against the test result (p.12(v), p.65) and complaints against officials (p.77-97)."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from typing import Any

from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile, UploadedFile
from django.db import models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from appeals.models import (
    Appeal,
    AppealAttachment,
    AppealVote,
    Complaint,
    ComplaintAttachment,
    ComplaintConfirmation,
    ComplaintConfirmationFile,
)
from appeals.selectors import (
    DEADLINE_APPEAL,
    DEADLINE_COMPLAINT,
    DEADLINE_COMPLAINT_ANSWER,
    DEADLINE_COMPLAINT_REGISTRATION,
    DEADLINE_COMPLAINT_REMEDY,
    appeal_window_closes,
    complaint_answer_document,
    complaint_application_for,
    complaint_correction_documents,
    complaint_document,
    complaint_registered_late,
    complaint_registration_due,
    complaint_remedy_open,
    complaint_repeats,
    person_key,
)
from core import calendar, dates
from core.canonical import canonical_json
from core.errors import DomainError, NotFound, allowed
from core.files import file_delete_on_commit, file_store
from core.idempotency import claim_once
from core.models import OutgoingLetter, User
from core.qes import verifier
from core.qes.documents import document_record, document_sign, signing_allowed, signing_refusal
from core.qes.trust import TrustedListTrust
from core.roles import ROLE_LABELS, Role, has_role, require_role, users_with_role
from core.services import (
    audit_record,
    case_transition,
    counter_next,
    deadline_close,
    deadline_met_now,
    deadline_open,
    notification_send,
    outgoing_number_assign,
    transition_check,
)
from core.text import text_required
from core.uploads import CheckedFile, check_upload
from exam.models import Application, Attempt
from registry.models import AttestationDecision

MAX_FILES = 10
# The chair is a member of the commission and votes too, whether or not they also hold the member role.
VOTING_ROLES = (Role.APPEALS_MEMBER, Role.APPEALS_CHAIR)


def _checked(files: list[UploadedFile]) -> list[tuple[str, CheckedFile]]:
    """Each file with its name, checked by content and size (core.uploads), at most MAX_FILES."""
    if len(files) > MAX_FILES:
        raise DomainError(
            ngettext("Не более %(n)d файла.", "Не более %(n)d файлов.", MAX_FILES) % {"n": MAX_FILES},
            fields={"files": [_("Слишком много файлов.")]},
        )
    names = [(upload.name or "document")[:255] for upload in files]
    return [(name, check_upload(upload, name=name)) for upload, name in zip(files, names, strict=True)]


def _store(checked: list[tuple[str, CheckedFile]], make: Any) -> None:
    """Store each checked file with its row (checked first: a refused file leaves none of the others
    on disk), and a transaction that rolls back later takes its files with it (core.files)."""
    for name, item in checked:
        record = make(original_name=name, content_type=item.content_type, size=item.size, sha256=item.sha256)
        extension = item.content_type.rsplit("/", 1)[-1]
        file_store(file=record.file, name=f"{item.sha256[:16]}.{extension}", content=item.content)
        record.save()


# --- Appeals --------------------------------------------------------------------------------------


def appeal_file(
    *, candidate: User, attempt: Attempt, reasons: str, files: list[UploadedFile] | None = None, token: str = ""
) -> Appeal:
    """A candidate appeals the result of their test within the filing window (APPEAL_WINDOW_DAYS
    calendar days from the result notice). Registered at once; decided within 3 months of receipt.
    One appeal per attempt (a constraint, and the attempt's row locked while filing); the same form
    sent twice (``token``, core.idempotency) gets the appeal the first sending registered."""
    if attempt.application.candidate_id != candidate.pk:
        raise NotFound(_("Попытка не найдена."))
    if attempt.is_active:
        raise DomainError(_("Апелляция подаётся после завершения испытания."), code="attempt_active", status=409)
    closes = appeal_window_closes(attempt)
    now = timezone.now()
    if calendar.moscow_date(now) > closes:
        raise DomainError(
            ngettext(
                "Срок подачи апелляции истёк %(date)s (%(days)d календарный день со дня уведомления о результате).",
                "Срок подачи апелляции истёк %(date)s (%(days)d календарных дней со дня уведомления о результате).",
                settings.APPEAL_WINDOW_DAYS,
            )
            % {"date": closes.strftime("%d.%m.%Y"), "days": settings.APPEAL_WINDOW_DAYS},
            code="appeal_window_closed",
            status=409,
        )
    reasons = text_required(reasons, field="reasons", label=_("Доводы апелляции"))
    with transaction.atomic(durable=True):
        claim = claim_once(model=Appeal, actor=candidate, token=token)
        if claim.earlier is not None:
            return claim.earlier
        Attempt.objects.select_for_update(of=("self",)).filter(pk=attempt.pk).first()
        if Appeal.objects.filter(attempt=attempt).exists():
            raise DomainError(_("Апелляция на этот результат уже подана."), code="appeal_exists", status=409)
        received_on = calendar.moscow_date(now)
        seq = counter_next(scope="appeal", year=received_on.year)
        appeal = Appeal.objects.create(
            number=settings.APPEAL_NUMBER_FORMAT.format(year=received_on.year, seq=seq),
            attempt=attempt,
            application=attempt.application,
            candidate=candidate,
            reasons=reasons,
            received_at=now,
            registered_on=received_on,
            due_on=calendar.add_months(received_on, settings.APPEAL_DECISION_MONTHS),
            score_before=attempt.score,
        )
        claim.bind(appeal)
        _store(_checked(files or []), lambda **kw: AppealAttachment(appeal=appeal, **kw))
        audit_record(case=appeal, actor=candidate, verb="appeal_file", to_state=appeal.status, reason=reasons[:500])
        deadline_open(
            case=appeal,
            kind=DEADLINE_APPEAL,
            role=Role.APPEALS_MEMBER,
            started_on=received_on,
            months=settings.APPEAL_DECISION_MONTHS,
        )
        notification_send(
            recipient=candidate,
            subject=lambda: _("Апелляция зарегистрирована: № %(n)s") % {"n": appeal.number},
            body=lambda: (
                _("Апелляция будет рассмотрена комиссией не позднее %(date)s.")
                % {"date": appeal.due_on.strftime("%d.%m.%Y")}
            ),
            link=appeal.cabinet_url(),
        )
        for member in users_with_role(Role.APPEALS_MEMBER):
            notification_send(
                recipient=member,
                subject=lambda: _("Новая апелляция: № %(n)s") % {"n": appeal.number},
                body=reasons[:500],
                link=appeal.staff_url(),
            )
    return appeal


def appeal_can_open(*, appeal: Appeal, user: User) -> bool:
    """Whether appeal_open would accept: a member of the commission, and the appeal is registered."""
    return has_role(user, Role.APPEALS_MEMBER) and allowed(lambda: transition_check(case=appeal, name="open_voting"))


def _vote_check(appeal: Appeal, *, member: User) -> None:
    if appeal.status != Appeal.Status.UNDER_CONSIDERATION:
        raise DomainError(_("Голосование по апелляции не идёт."), code="not_voting", status=409)
    if AppealVote.objects.filter(appeal=appeal, member=member).exists():
        raise DomainError(_("Вы уже проголосовали по этой апелляции."), code="already_voted", status=409)


def appeal_can_vote(*, appeal: Appeal, user: User) -> bool:
    """Whether appeal_vote would take this user's vote (its content aside): a member or the chair,
    while the commission votes, once."""
    return any(has_role(user, role) for role in VOTING_ROLES) and allowed(lambda: _vote_check(appeal, member=user))


def _decide_check(appeal: Appeal) -> None:
    if appeal.status != Appeal.Status.UNDER_CONSIDERATION:
        raise DomainError(_("Апелляция не на рассмотрении."), code="not_voting", status=409)


def appeal_can_decide(*, appeal: Appeal, user: User) -> bool:
    """Whether the chair may close the vote now, the quorum aside (appeal_decide says when it is
    not met yet): the chair, while the commission votes."""
    return has_role(user, Role.APPEALS_CHAIR) and signing_allowed(user) and allowed(lambda: _decide_check(appeal))


def appeal_open(*, appeal: Appeal, by: User) -> Appeal:
    """The commission takes the appeal up: from now on its members vote."""
    require_role(by, Role.APPEALS_MEMBER, message=_("Апелляции рассматривает комиссия."))
    with transaction.atomic():
        locked = Appeal.objects.select_for_update().get(pk=appeal.pk)
        case_transition(case=locked, name="open_voting", by=by, reason=_("Начато рассмотрение"))
    return locked


def _positions(value: Any, count: int) -> list[int]:
    if not isinstance(value, list) or any(isinstance(v, bool) or not isinstance(v, int) for v in value):
        raise DomainError(_("Номера вопросов — список чисел."), fields={"questions": [_("Неверный формат.")]})
    if any(not 1 <= v <= count for v in value):
        raise DomainError(_("Вопросов с такими номерами в попытке нет."), fields={"questions": [_("Неверные номера.")]})
    return sorted(set(value))


def appeal_vote(
    *, appeal: Appeal, member: User, outcome: str, rescore: Any = (), void: Any = (), opinion: str = ""
) -> AppealVote:
    """A member of the commission votes once: uphold (naming the questions to re-score or void) or
    reject, with an opinion. The chair is a member of the commission and votes too, whether or not
    they also hold the member role."""
    require_role(member, *VOTING_ROLES, message=_("Голосуют члены апелляционной комиссии."))
    if outcome not in AppealVote.Outcome.values:
        raise DomainError(_("Выберите: удовлетворить или отклонить."), fields={"outcome": [_("Неверное значение.")]})
    with transaction.atomic():
        locked = Appeal.objects.select_for_update().select_related("attempt").get(pk=appeal.pk)
        _vote_check(locked, member=member)
        count = locked.attempt.question_count
        rescore_list = _positions(list(rescore), count)
        void_list = _positions(list(void), count)
        if outcome == AppealVote.Outcome.UPHOLD and not (rescore_list or void_list):
            raise DomainError(
                _("Удовлетворяя апелляцию, укажите вопросы, которые засчитать или аннулировать."),
                fields={"questions": [_("Укажите номера вопросов.")]},
            )
        if outcome == AppealVote.Outcome.REJECT:
            rescore_list, void_list = [], []
        vote = AppealVote.objects.create(
            appeal=locked, member=member, outcome=outcome, rescore=rescore_list, void=void_list, opinion=opinion
        )
        audit_record(
            case=locked,
            actor=member,
            verb="appeal_vote",
            action="event",
            data={"outcome": outcome, "rescore": rescore_list, "void": void_list},
        )
    return vote


def appeal_decide(*, appeal: Appeal, by: User, reasons: str) -> Appeal:
    """The chair closes the vote once the quorum has voted. The majority decides (a tie goes the way
    the chair voted, so a tie cannot be decided before the chair has voted); votes against the
    majority are kept as dissenting opinions. Upheld: the questions named by at least half of those
    who voted to uphold are re-scored or voided and the result recomputed; if it becomes a pass, a
    new decision on attestation follows (and then the certificate) with its own terms from today: the
    re-scoring tells the registry (exam.signals), which supersedes the decision it made stale, in
    this transaction."""
    from exam.testing.services.attempts import attempt_rescore

    require_role(by, Role.APPEALS_CHAIR, message=_("Решение по апелляции оформляет председатель комиссии."))
    signing_refusal(by)  # the chair signs the decision (appeal_decision_pdf)
    reasons = text_required(reasons, field="reasons", label=_("Мотивы решения"))
    with transaction.atomic(durable=True):
        locked = Appeal.objects.select_for_update().select_related("attempt", "candidate").get(pk=appeal.pk)
        _decide_check(locked)
        votes = list(locked.votes.all())
        if len(votes) < settings.APPEAL_QUORUM:
            raise DomainError(
                _("Нет кворума: проголосовали %(n)d, нужно не менее %(q)d.")
                % {"n": len(votes), "q": settings.APPEAL_QUORUM},
                code="no_quorum",
                status=409,
            )
        upholding = [v for v in votes if v.outcome == AppealVote.Outcome.UPHOLD]
        rejecting = len(votes) - len(upholding)
        chair_vote = next((v for v in votes if v.member_id == by.pk), None)
        if len(upholding) == rejecting and chair_vote is None:
            raise DomainError(
                _("Голоса разделились поровну (%(n)d — %(n)d): решающий голос председателя, проголосуйте.")
                % {"n": rejecting},
                code="tie_without_chair",
                status=409,
            )
        upheld = len(upholding) > rejecting or (
            len(upholding) == rejecting and chair_vote is not None and chair_vote.outcome == AppealVote.Outcome.UPHOLD
        )
        locked.decided_at, locked.decided_by, locked.decision_reasons = timezone.now(), by, reasons
        if upheld:
            need = (len(upholding) + 1) // 2
            rescore = sorted(
                {p for p in {p for v in upholding for p in v.rescore} if sum(p in v.rescore for v in upholding) >= need}
            )
            void = sorted(
                {p for p in {p for v in upholding for p in v.void} if sum(p in v.void for v in upholding) >= need}
            )
            if not rescore and not void:
                raise DomainError(
                    _("Большинство не сошлось ни в одном вопросе: уточните голоса."),
                    code="no_common_questions",
                    status=409,
                )
            attempt = attempt_rescore(
                attempt=locked.attempt, rescore=rescore, void=void, by=by, reason=f"{locked.number}: {reasons}"
            )
            locked.score_after = attempt.score
            case_transition(
                case=locked,
                name="uphold",
                by=by,
                fields=("decided_at", "decided_by", "decision_reasons", "score_after"),
                reason=reasons,
                data={"rescore": rescore, "void": void, "score": attempt.score},
            )
        else:
            locked.score_after = locked.attempt.score
            case_transition(
                case=locked,
                name="reject",
                by=by,
                fields=("decided_at", "decided_by", "decision_reasons", "score_after"),
                reason=reasons,
            )
        deadline_close(case=locked, kind=DEADLINE_APPEAL)
        notification_send(
            recipient=locked.candidate,
            subject=lambda: (
                _("Решение по апелляции № %(n)s: %(outcome)s")
                % {"n": locked.number, "outcome": locked.get_status_display()}
            ),
            body=lambda: (
                ngettext(
                    "%(reasons)s\nРезультат: %(score)d правильный ответ.",
                    "%(reasons)s\nРезультат: %(score)d правильных ответов.",
                    locked.score_after or 0,
                )
                % {"reasons": reasons, "score": locked.score_after}
            ),
            link=locked.cabinet_url(),
        )
    return appeal_decision_pdf(appeal=locked)


def appeal_decision_pdf(*, appeal: Appeal) -> Appeal:
    """The commission's decision with its reasons as the candidate keeps it (p.65): made once, with
    the qualified signature of the chair who decided it (core.qes.documents), and stored, so that
    every download and its .sig are the same bytes. appeal_decide makes it; a download makes it if
    that failed (a render or signing fault after the decision committed)."""
    from appeals.documents import render_appeal_decision_pdf

    if appeal.decision_pdf:
        return appeal
    if appeal.decided_at is None:
        raise DomainError(_("Решение по апелляции ещё не принято."), code="appeal_not_decided", status=409)
    issued = document_sign(
        official=appeal.decided_by, render=lambda stamp: render_appeal_decision_pdf(appeal=appeal, stamp=stamp)
    )
    with transaction.atomic():
        locked = Appeal.objects.select_for_update().get(pk=appeal.pk)
        if locked.decision_pdf:  # a concurrent download made it first
            return locked
        file_store(file=locked.decision_pdf, name=f"appeal-decision-{locked.pk}.pdf", content=issued.content)
        locked.save(update_fields=["decision_pdf"])
        document_record(
            issued=issued,
            file_name=locked.decision_pdf.name,
            title=_("Решение по апелляции № %(n)s") % {"n": locked.number},
        )
    return locked


# --- Complaints -----------------------------------------------------------------------------------

COMPLAINT_FIELDS = {
    "official": _("Должностное лицо"),
    "last_name": _("Фамилия"),
    "first_name": _("Имя"),
    "residence": _("Место жительства"),
    "decision_complained": _("Обжалуемые решения и действия"),
    "arguments": _("Доводы"),
}


def complaint_file(
    *,
    data: dict[str, Any],
    channel: str,
    complainant: User | None = None,
    registered_by: User | None = None,
    received_at: datetime | None = None,
    evidence: list[UploadedFile] | None = None,
    power_of_attorney: list[UploadedFile] | None = None,
    token: str = "",
    verified_email: str = "",
    signature: bytes | None = None,
) -> Complaint:
    """A complaint with the content of p.79 on a subject of p.78, from the candidate's cabinet, from
    the public form once its sender confirmed the e-mail address (``verified_email``, see
    complaint_confirmation_request), or registered by staff from paper. A representative attaches a
    notarised power of attorney (p.83). From the cabinet it may carry a qualified electronic
    signature (p.82): a detached signature over the canonical content of what is submitted
    (complaint_signing_document), verified on receipt by the one verifier; a failed check registers
    nothing and names the checks (the person signs again), a valid one is kept with its protocol.
    Registered now; p.86 allows until the next working day after receipt, and a later registration
    is kept as a missed term of its own. Decided within 15 working days of registration, or 5 for
    subjects (d) and (g) (p.87). Linked to the complainant's latest application when it can be
    told, so that a remedy (a certificate to issue, p.89) has its case. The same form sent twice
    (``token``, core.idempotency) gets the complaint the first sending registered."""
    if channel not in Complaint.Channel.values:
        raise DomainError(_("Неверный способ подачи."), fields={"channel": [_("Неверное значение.")]})
    anonymous = channel == Complaint.Channel.PORTAL and complainant is None
    if anonymous and not _email_is(data.get("email"), verified_email):
        raise DomainError(_("Войдите или подтвердите адрес электронной почты, чтобы подать жалобу."), status=401)
    if channel != Complaint.Channel.PORTAL and (registered_by is None or not has_role(registered_by, Role.REGISTRAR)):
        raise DomainError(_("Бумажную жалобу регистрирует регистратор."), code="forbidden", status=403)
    subject = str(data.get("subject") or "")
    if subject not in Complaint.Subject.values:
        raise DomainError(_("Выберите предмет жалобы (п. 78)."), fields={"subject": [_("Обязательное поле.")]})
    # p.79: what a complaint must state (the complaint's form has cleaned the text).
    clean = {
        field: text_required(str(data.get(field) or ""), field=field, label=label)
        for field, label in COMPLAINT_FIELDS.items()
    }
    clean.update({field: str(data.get(field) or "") for field in ("patronymic", "postal_address", "email", "phone")})
    if not clean["postal_address"] and not clean["email"] and complainant is None:
        raise DomainError(
            _("Укажите почтовый адрес или электронную почту для ответа (п. 79 «б»)."),
            fields={"postal_address": [_("Обязательное поле.")]},
        )
    by_representative, representative = _complaint_representation(data=data, power_of_attorney=power_of_attorney)
    evidence_files, attorney_files = _checked(evidence or []), _checked(power_of_attorney or [])
    now = timezone.now()
    signed: dict[str, Any] = {}
    if signature is not None:
        if channel != Complaint.Channel.PORTAL:
            raise DomainError(_("Электронная подпись прилагается к жалобе, поданной через личный кабинет."))
        signed = _complaint_signature_verify(
            data=data, evidence=evidence_files, power_of_attorney=attorney_files, signature=signature, at=now
        )
    received_at = received_at or now
    # p.86: staff date a paper complaint by its arrival, as a paper application (PAPER_RECEIVED_MAX_DAYS).
    dates.date_argument(received_at, field="received_at", problem=dates.paper_receipt_problem)
    # p.87 counts from the registration. The portal registers on arrival, and what arrives out of
    # office hours counts from the next working day; staff register a paper complaint on the day they
    # do it (days after it arrived, if late: that lateness is p.86's, see complaint_registered_late).
    registered_on = calendar.effective_receipt_date(now) if registered_by is None else calendar.moscow_date(now)
    days = (
        settings.COMPLAINT_SHORT_WORKING_DAYS
        if subject in Complaint.SHORT_TERM_SUBJECTS
        else settings.COMPLAINT_LONG_WORKING_DAYS
    )
    with transaction.atomic():
        if complainant is not None:
            # One person's filings serialise: a post without a form token (a service caller) waits
            # for the person's earlier filing to commit instead of racing it.
            User.objects.select_for_update().filter(pk=complainant.pk).first()
        claim = claim_once(model=Complaint, actor=complainant or registered_by, token=token)
        if claim.earlier is not None:
            return claim.earlier
        seq = counter_next(scope="complaint", year=registered_on.year)
        complaint = Complaint.objects.create(
            number=settings.COMPLAINT_NUMBER_FORMAT.format(year=registered_on.year, seq=seq),
            complainant=complainant,
            channel=channel,
            subject=subject,
            by_representative=by_representative,
            representative_name=representative,
            person_key=person_key(
                last_name=clean["last_name"], first_name=clean["first_name"], patronymic=clean["patronymic"]
            ),
            received_at=received_at,
            registered_at=now,
            registered_on=registered_on,
            registered_by=registered_by,
            due_on=calendar.add_working_days(registered_on, days),
            related_application=complaint_application_for(
                complainant=complainant,
                email=clean["email"],
                last_name=clean["last_name"],
                first_name=clean["first_name"],
                patronymic=clean.get("patronymic", ""),
            ),
            **clean,
            **signed,
        )
        claim.bind(complaint)
        _complaint_files_store(evidence_files, attorney_files, partial(ComplaintAttachment, complaint=complaint))
        late = complaint_registered_late(complaint)
        audit_record(
            case=complaint,
            actor=complainant or registered_by,
            verb="complaint_file",
            to_state=complaint.status,
            data={
                "subject": subject,
                "channel": channel,
                "received_at": received_at.isoformat(),
                "registration_due_on": complaint_registration_due(complaint).isoformat(),
                "registered_late": late,
                "related_application": complaint.related_application_id,
                "signature": "qes" if signed else "",
            },
        )
        # p.86 as a term of its own, met or missed at this moment (the oversight report counts it).
        deadline_met_now(
            case=complaint,
            kind=DEADLINE_COMPLAINT_REGISTRATION,
            role=Role.REGISTRAR,
            started_on=calendar.effective_receipt_date(received_at),
            working_days=1,
        )
        deadline_open(
            case=complaint,
            kind=DEADLINE_COMPLAINT,
            role=Role.COMPLAINT_HANDLER,
            started_on=registered_on,
            working_days=days,
        )
        if complainant is not None:
            notification_send(
                recipient=complainant,
                subject=lambda: _("Жалоба зарегистрирована: № %(n)s") % {"n": complaint.number},
                body=lambda: (
                    _("Срок рассмотрения — до %(date)s (п. 87 Регламента).")
                    % {"date": complaint.due_on.strftime("%d.%m.%Y")}
                ),
                link=complaint.cabinet_url(),
            )
        for handler in users_with_role(Role.COMPLAINT_HANDLER):
            notification_send(
                recipient=handler,
                subject=lambda: _("Новая жалоба: № %(n)s") % {"n": complaint.number},
                body=lambda: str(complaint.get_subject_display()),
                link=complaint.staff_url(),
            )
    return complaint


def _complaint_representation(
    *, data: Mapping[str, Any], power_of_attorney: list[UploadedFile] | None
) -> tuple[bool, str]:
    """Whether a representative files the complaint, and who: one who does names themself and
    attaches a notarised power of attorney (p.83)."""
    by_representative = bool(data.get("by_representative"))
    representative = str(data.get("representative_name") or "")
    if by_representative:
        text_required(representative, field="representative_name", label=_("Представитель"))
    if by_representative and not power_of_attorney:
        raise DomainError(
            _("Жалоба представителя подаётся с нотариальной доверенностью (п. 83)."),
            fields={"power_of_attorney": [_("Приложите доверенность.")]},
        )
    return by_representative, representative


def _complaint_files_store(
    evidence: list[tuple[str, CheckedFile]],
    power_of_attorney: list[tuple[str, CheckedFile]],
    make: Callable[..., ComplaintAttachment | ComplaintConfirmationFile],
) -> None:
    """Store a complaint's checked files (_store), each as the row ``make(kind=..., **file)``: the
    filed complaint's attachments, or the files of a complaint held until it is confirmed."""
    _store(evidence, partial(make, kind=ComplaintAttachment.Kind.EVIDENCE))
    _store(power_of_attorney, partial(make, kind=ComplaintAttachment.Kind.POWER_OF_ATTORNEY))


def _complaint_attachments(
    evidence: list[tuple[str, CheckedFile]], power_of_attorney: list[tuple[str, CheckedFile]]
) -> list[tuple[str, str, CheckedFile]]:
    return [("evidence", name, item) for name, item in evidence] + [
        ("power_of_attorney", name, item) for name, item in power_of_attorney
    ]


def complaint_signing_document(
    *, data: Mapping[str, Any], evidence: list[UploadedFile], power_of_attorney: list[UploadedFile]
) -> bytes:
    """The exact bytes a complainant signs with a qualified electronic signature (p.82): the
    canonical content of the entered complaint, each attached file by its SHA-256. Saves nothing."""
    attachments = _complaint_attachments(_checked(evidence), _checked(power_of_attorney))
    return canonical_json(complaint_document(data=data, attachments=attachments))


def _complaint_signature_verify(
    *,
    data: Mapping[str, Any],
    evidence: list[tuple[str, CheckedFile]],
    power_of_attorney: list[tuple[str, CheckedFile]],
    signature: bytes,
    at: datetime,
) -> dict[str, Any]:
    """Verify the complaint's qualified signature over the content submitted; the signer is the
    complainant, or the representative who files it (p.83). What to keep on the complaint, or a
    DomainError naming each failed check (its protocol in ``details``)."""
    document = complaint_document(data=data, attachments=_complaint_attachments(evidence, power_of_attorney))
    names = (
        {"last_name": str(data.get("representative_name") or ""), "first_name": "", "patronymic": ""}
        if data.get("by_representative")
        else {field: str(data.get(field) or "") for field in ("last_name", "first_name", "patronymic")}
    )
    protocol = verifier.verify(
        content=canonical_json(document),
        signature=signature,
        trust=TrustedListTrust(),
        at=at,
        signer=verifier.person_check(snils="", **names),
    )
    if not protocol.ok:
        raise DomainError(
            _(
                "Жалоба не зарегистрирована: электронная подпись не прошла проверку (ст. 11 Федерального закона "
                "от 06.04.2011 № 63-ФЗ). Устраните причину и подпишите жалобу снова."
            ),
            code="signature_invalid",
            fields={"signature": [f"{check.title} ({check.basis}): {check.detail}" for check in protocol.failed]},
            details={"protocol": protocol.as_json()},
        )
    return {"signature": signature, "signed_document": document, "signature_protocol": protocol.as_json()}


COMPLAINT_OUTCOMES = ("uphold", "refuse", "unanswered")
ANSWER_DISPATCH_ROLES = (Role.COMPLAINT_HANDLER, Role.REGISTRAR)


# --- What the pages may offer: the checks the services run, as predicates -------------------------


def _require_deputy_minister(by: User) -> None:
    """p.80: complaints are decided by a deputy minister (the staff member's position, set in the admin)."""
    if by.position != User.Position.DEPUTY_MINISTER:
        raise DomainError(
            _("Жалобу рассматривает заместитель Министра труда и социальной защиты (п. 80)."),
            code="handler_position",
            status=403,
        )


def complaint_can_decide(*, complaint: Complaint, user: User) -> bool:
    """Whether complaint_decide would take a decision (its fields aside): a complaint handler who is a
    deputy minister (p.80), and the complaint is registered (every outcome leaves that status, the
    transition table)."""

    def check() -> None:
        _require_deputy_minister(user)
        signing_refusal(user)
        transition_check(case=complaint, name="refuse")

    return has_role(user, Role.COMPLAINT_HANDLER) and allowed(check)


def _answer_dispatch_check(complaint: Complaint) -> None:
    if complaint.answer_signed_at is None:
        raise DomainError(_("Ответ по жалобе ещё не подписан."), code="answer_not_signed", status=409)
    if complaint.answered_at is not None:
        raise DomainError(
            _("Ответ уже направлен %(date)s (%(channel)s).")
            % {
                "date": timezone.localtime(complaint.answered_at).strftime("%d.%m.%Y"),
                "channel": complaint.get_answer_channel_display(),
            },
            code="answer_dispatched",
            status=409,
        )


def complaint_answer_can_dispatch(*, complaint: Complaint, user: User) -> bool:
    """Whether complaint_answer_dispatch would record the paper dispatch: a handler or a registrar,
    and the answer is signed but has not gone out (p.93)."""
    return any(has_role(user, role) for role in ANSWER_DISPATCH_ROLES) and allowed(
        lambda: _answer_dispatch_check(complaint)
    )


# --- Remedies of an upheld complaint (p.88-89) ------------------------------------------------------

R = Complaint.Remedy
# Who is responsible for each remedy (its term's role) and carries it out. The cancellations undo a
# registration or a decision: the registrar registers (p.25), the deciding deputy minister cancels
# the decisions; the certificate and the notes are the certificate officer's.
REMEDY_ROLES: dict[str, Role] = {
    R.CANCEL_NOT_ACCEPTED: Role.REGISTRAR,
    R.CANCEL_ADMISSION_REFUSAL: Role.COMPLAINT_HANDLER,
    R.CANCEL_ATTESTATION_REFUSAL: Role.COMPLAINT_HANDLER,
    R.ISSUE_CERTIFICATE: Role.CERTIFICATE_OFFICER,
    R.CORRECT_ERRORS: Role.CERTIFICATE_OFFICER,
    R.OTHER: Role.CERTIFICATE_OFFICER,
    R.CANCEL_DECISION: Role.CERTIFICATE_OFFICER,
}
# Carried out by complaint_remedy_carry_out through the service of the step they undo, or of the
# document they correct (p.78(g): a corrected edition, _errors_correct).
REMEDIES_CARRIED_OUT = (
    R.CANCEL_NOT_ACCEPTED,
    R.CANCEL_ADMISSION_REFUSAL,
    R.CANCEL_ATTESTATION_REFUSAL,
    R.CORRECT_ERRORS,
)
# Done when registry.services.certificate_issue issues the certificate (appeals.receivers).
REMEDIES_ON_CERTIFICATE = (R.ISSUE_CERTIFICATE,)
# Closed by the certificate officer's note of what was done (complaint_remedy_done): "other" and the
# legacy "cancel_decision", which have no service of their own.
REMEDIES_BY_NOTE = (R.OTHER, R.CANCEL_DECISION)
# The remedies that act on the complainant's application: it must be known when the complaint is decided.
REMEDIES_ON_APPLICATION = (*REMEDIES_CARRIED_OUT, *REMEDIES_ON_CERTIFICATE)


class CorrectedDocument(models.TextChoices):
    """What a correction of errors on a complaint corrects (appeals.selectors.complaint_correction_documents)."""

    CERTIFICATE = "certificate", gettext_lazy("Сертификат эксперта")
    NOTICE = "notice", gettext_lazy("Уведомление о допуске или об отказе в допуске")
    ATTESTATION_DECISION = "attestation_decision", gettext_lazy("Решение по результатам аттестационного испытания")


# Who may correct each document: the one who may sign or issue it (its correcting service checks
# the rest, e.g. the signatory's position for a letter, p.49-50).
CORRECTION_ROLES = (Role.CERTIFICATE_OFFICER, Role.SIGNATORY)


def remedy_roles(remedy: str) -> tuple[Role, ...]:
    """The roles that carry ``remedy`` out: the role of its term (REMEDY_ROLES), or for a correction
    of errors whoever may issue a corrected edition of one of the documents."""
    if remedy == R.CORRECT_ERRORS:
        return CORRECTION_ROLES
    return (REMEDY_ROLES[remedy],) if remedy in REMEDY_ROLES else ()


@dataclass(frozen=True)
class ErrorCorrection:
    """What a correction of errors corrects: the document (CorrectedDocument) and its values as they
    should read (the fields its correcting service accepts)."""

    document: str
    changes: Mapping[str, Any]


def _remedy_check(complaint: Complaint, *, remedies: tuple[str, ...]) -> None:
    if complaint.status != Complaint.Status.UPHELD or complaint.remedy not in remedies:
        raise DomainError(_("По жалобе нет мер к исполнению."), code="no_remedy", status=409)
    if not complaint_remedy_open(complaint):
        raise DomainError(_("Меры по жалобе уже исполнены."), code="remedy_done", status=409)


def _remedy_target(complaint: Complaint) -> Application | AttestationDecision:
    """What the remedy acts on, checked by the rule of the service that will carry it out: the
    complainant's application refused acceptance or admission, or its current decision refusing
    attestation (p.58)."""
    from exam.admission.services import admission_refusal_cancel_check, refusal_to_accept_cancel_check
    from registry.selectors import decision_for_application
    from registry.services import attestation_refusal_cancel_check

    application = complaint.related_application
    if application is None:
        raise DomainError(
            _("Заявление заявителя не установлено: меру исполнить не на чем."), code="no_application", status=409
        )
    if complaint.remedy == R.CANCEL_NOT_ACCEPTED:
        refusal_to_accept_cancel_check(application)
    elif complaint.remedy == R.CANCEL_ADMISSION_REFUSAL:
        admission_refusal_cancel_check(application)
    elif complaint.remedy == R.CANCEL_ATTESTATION_REFUSAL:
        decision = decision_for_application(application)
        if decision is None:
            raise DomainError(_("Решения по результатам испытания нет."), code="no_decision", status=409)
        attestation_refusal_cancel_check(decision)
        return decision
    elif complaint.remedy == R.CORRECT_ERRORS and not complaint_correction_documents(complaint):
        raise DomainError(
            _("По заявлению не выдано документов, которые можно исправить."), code="no_document", status=409
        )
    return application


def _remedy_carry_out_check(complaint: Complaint) -> None:
    _remedy_check(complaint, remedies=REMEDIES_CARRIED_OUT)
    _remedy_target(complaint)


def complaint_correctable_documents(*, complaint: Complaint, user: User) -> dict[str, Any]:
    """The documents of the complainant's case (complaint_correction_documents) that this user may
    correct now, by the predicates of their correcting services (the changes aside)."""
    from exam.admission.services import notice_can_correct
    from registry.services import attestation_decision_can_correct, certificate_can_correct

    can: dict[str, Callable[[Any], bool]] = {
        CorrectedDocument.CERTIFICATE: lambda d: certificate_can_correct(certificate=d, user=user),
        CorrectedDocument.NOTICE: lambda d: notice_can_correct(notice=d, user=user),
        CorrectedDocument.ATTESTATION_DECISION: lambda d: attestation_decision_can_correct(decision=d, user=user),
    }
    return {key: doc for key, doc in complaint_correction_documents(complaint).items() if can[key](doc)}


def complaint_can_carry_out_remedy(*, complaint: Complaint, user: User) -> bool:
    """Whether complaint_remedy_carry_out would carry the remedy out (what to correct aside): the
    role of the remedy (remedy_roles), an upheld complaint with a cancellation or a correction still
    to do, its target in the state the cancelling service accepts, and for a correction a document
    this user may correct (complaint_correctable_documents)."""
    roles = remedy_roles(complaint.remedy)
    if not any(has_role(user, role) for role in roles) or not allowed(lambda: _remedy_carry_out_check(complaint)):
        return False
    return complaint.remedy != R.CORRECT_ERRORS or bool(complaint_correctable_documents(complaint=complaint, user=user))


def complaint_can_record_remedy(*, complaint: Complaint, user: User) -> bool:
    """Whether complaint_remedy_done would accept the note: a certificate officer, an upheld
    complaint whose remedy has no service of its own (REMEDIES_BY_NOTE), still to do (p.89)."""
    return has_role(user, Role.CERTIFICATE_OFFICER) and allowed(
        lambda: _remedy_check(complaint, remedies=REMEDIES_BY_NOTE)
    )


def _remedy_completed(
    locked: Complaint, *, by: User | None, service: str, data: dict[str, Any], note: str = ""
) -> None:
    """The remedy is done: its term ends and the audit names the service that did it. The caller
    holds the complaint's row lock."""
    deadline_close(case=locked, kind=DEADLINE_COMPLAINT_REMEDY)
    audit_record(
        case=locked,
        actor=by,
        verb="complaint_remedy_done",
        action="event",
        reason=note,
        data={"remedy": locked.remedy, "service": service, **data},
    )


def complaint_remedy_carry_out(
    *, complaint: Complaint, by: User, correction: ErrorCorrection | None = None
) -> Complaint:
    """The remedy of an upheld complaint that cancels a step or corrects a document (p.88-89) is
    carried out by the service of that step, in one transaction with the complaint's: the refusal to
    accept cancelled and the application registered as of its arrival (p.19, p.26), the refusal of
    admission cancelled and the file back to review with a new term from the complaint's decision,
    the refusal of attestation cancelled and a new decision drafted (p.58-59), or errors corrected
    (p.78(g)): a corrected edition of the ``correction``'s document issued by its service
    (_errors_correct) on the basis of the complaint, its number and date as the reference; that
    service checks who may sign or issue the document. Only then is the remedy done: its term (p.89,
    COMPLAINT_REMEDY_WORKING_DAYS; 5 working days for a correction, p.87) ends and the audit names
    the service. The complaint's row is locked: a second click finds it done."""
    from exam.admission.services import application_admission_refusal_cancel, application_refusal_to_accept_cancel
    from registry.services import attestation_refusal_cancel

    with transaction.atomic(durable=True):
        locked = (
            Complaint.objects.select_for_update(of=("self",)).select_related("related_application").get(pk=complaint.pk)
        )
        roles = remedy_roles(locked.remedy) or (Role.COMPLAINT_HANDLER,)
        require_role(
            by,
            *roles,
            message=_("Эту меру исполняет: %(role)s.") % {"role": ", ".join(str(ROLE_LABELS[r]) for r in roles)},
        )
        _remedy_check(locked, remedies=REMEDIES_CARRIED_OUT)
        target = _remedy_target(locked)
        assert locked.decided_at is not None
        decided_on = calendar.moscow_date(locked.decided_at)
        reason = _("Жалоба № %(n)s удовлетворена %(date)s: %(text)s") % {
            "n": locked.number,
            "date": decided_on.strftime("%d.%m.%Y"),
            "text": locked.decision_text[:500],
        }
        data: dict[str, Any]
        if locked.remedy == R.CORRECT_ERRORS:
            service, data = _errors_correct(locked, by=by, correction=correction, reason=reason)
        elif isinstance(target, AttestationDecision):
            new = attestation_refusal_cancel(decision=target, by=by, reason=reason, term_from=decided_on)
            service, data = (
                "attestation_refusal_cancel",
                {"decision": target.pk, "new_decision": new.pk if new else None},
            )
        elif locked.remedy == R.CANCEL_ADMISSION_REFUSAL:
            refusal = application_admission_refusal_cancel(
                application=target, by=by, reason=reason, term_from=decided_on
            )
            service, data = "application_admission_refusal_cancel", {"application": target.pk, "decision": refusal.pk}
        else:
            registered = application_refusal_to_accept_cancel(application=target, by=by, reason=reason)
            service = "application_refusal_to_accept_cancel"
            data = {"application": target.pk, "registration_number": registered.registration_number}
        _remedy_completed(locked, by=by, service=service, data=data)
    return locked


def _errors_correct(
    locked: Complaint, *, by: User, correction: ErrorCorrection | None, reason: str
) -> tuple[str, dict[str, Any]]:
    """p.78(g), p.88(a): the corrected edition of the chosen document, by its own service, on the
    basis of the complaint (its number and registration date). Returns the service's name and what
    it issued, for the audit."""
    from core.letters import Correction
    from core.models import LetterEdition
    from exam.admission.services import notice_correct
    from registry.models import CertificateEdition
    from registry.services import attestation_decision_correct, certificate_correct

    documents = complaint_correction_documents(locked)
    if correction is None or correction.document not in documents:
        raise DomainError(_("Выберите документ, который исправляется."), fields={"document": [_("Неверное значение.")]})
    document, changes = documents[correction.document], dict(correction.changes)
    reference = _("жалоба № %(n)s от %(date)s") % {
        "n": locked.number,
        "date": locked.registered_on.strftime("%d.%m.%Y"),
    }
    if correction.document == CorrectedDocument.CERTIFICATE:
        edition = certificate_correct(
            certificate=document,
            by=by,
            changes=changes,
            reason=reason,
            basis=CertificateEdition.Basis.COMPLAINT,
            basis_reference=reference,
        )
        return "certificate_correct", {"certificate": document.number, "edition": edition.number}
    letter_correction = Correction(
        changes=changes, reason=reason, basis=LetterEdition.Basis.COMPLAINT, basis_reference=reference
    )
    if correction.document == CorrectedDocument.NOTICE:
        service, letter = "notice_correct", notice_correct(notice=document, by=by, **letter_correction)
    else:
        letter = attestation_decision_correct(decision=document, by=by, **letter_correction)
        service = "attestation_decision_correct"
    return service, {"letter_edition": letter.pk, "outgoing_number": letter.outgoing_number}


def complaint_remedies_complete(
    *, application: Application, remedy: str, by: User | None, service: str, data: dict[str, Any]
) -> list[Complaint]:
    """The lower-layer ``service`` that carries out ``remedy`` has completed on the person's case (a
    certificate issued, p.89): every upheld complaint on that person's applications with this remedy
    still to do counts it done, in the service's transaction. Connected to the registry's signals in
    AppealsConfig.ready (certificate_issued). A correction of errors is carried out from the
    complaint by complaint_remedy_carry_out, which knows the complaint it corrects on."""
    done = []
    pending = Complaint.objects.filter(
        status=Complaint.Status.UPHELD, remedy=remedy, related_application__person_key=application.person_key
    )
    for locked in pending.select_for_update(of=("self",)).order_by("pk"):
        if complaint_remedy_open(locked):
            _remedy_completed(locked, by=by, service=service, data=data)
            done.append(locked)
    return done


def _remedy_applies(complaint: Complaint) -> None:
    """A remedy acting on the complainant's application is chosen only when it can be carried out:
    the application is known and, for a cancellation, in the state its service accepts."""
    try:
        _remedy_target(complaint)
    except DomainError as error:
        raise DomainError(
            _("Мера «%(remedy)s» неприменима: %(why)s")
            % {"remedy": complaint.get_remedy_display(), "why": error.message},
            code="remedy_not_applicable",
            fields={"remedy": [error.message]},
        ) from error


def complaint_decide(
    *,
    complaint: Complaint,
    by: User,
    outcome: str,
    text: str,
    remedy: str = "",
    refusal_ground: str = "",
    silence_ground: str = "",
    address_readable: bool = True,
    handler_position: str,
) -> Complaint:
    """The complaint handler decides (p.88): upheld with a remedy (a certificate to issue within 5
    working days, p.89), refused (on a ground of p.91, or on the merits), or left unanswered on a
    ground of p.92. A complaint repeating one answered on its merits (the same person, the same
    subject and the same application, appeals.selectors.complaint_repeats) can only be refused on
    ground p.91(c) (or left unanswered under p.92). The handler is a deputy minister (p.80). The handler's position goes
    on the answer (p.94(a)), which is then rendered, signed by the handler and sent no later than
    the next working day (p.93)."""
    from appeals.tasks import complaint_answer_send
    from core.tasks import enqueue

    require_role(by, Role.COMPLAINT_HANDLER, message=_("Жалобы рассматривает уполномоченное должностное лицо."))
    _require_deputy_minister(by)
    signing_refusal(by)  # the answer is signed with the handler's qualified key (p.95)
    text = text_required(text, field="text", label=_("Основания принятого решения"))
    handler_position = text_required(
        handler_position, field="handler_position", label=_("Должность подписывающего ответ")
    )
    with transaction.atomic(durable=True):
        locked = Complaint.objects.select_for_update().get(pk=complaint.pk)
        if outcome not in COMPLAINT_OUTCOMES:
            raise DomainError(_("Выберите решение."), fields={"outcome": [_("Обязательное поле.")]})
        repeat_of = complaint_repeats(locked)
        if repeat_of is not None and not (
            outcome == "unanswered" or (outcome == "refuse" and refusal_ground == Complaint.RefusalGround.REPEAT)
        ):
            raise DomainError(
                _(
                    "По жалобе %(n)s того же заявителя по тому же предмету и тому же заявлению уже принято решение "
                    "по существу: отказ по п. 91 «в»."
                )
                % {"n": repeat_of.number},
                code="repeat_complaint",
                fields={"refusal_ground": [_("Основание: п. 91 «в».")]},
            )
        if outcome == "uphold":
            if remedy not in Complaint.REMEDIES_OFFERED:
                raise DomainError(
                    _("Укажите меры по устранению нарушений."), fields={"remedy": [_("Обязательное поле.")]}
                )
            locked.remedy = remedy
            if remedy in REMEDIES_ON_APPLICATION:
                _remedy_applies(locked)
            locked.remedy_due_on = calendar.add_working_days(calendar.today(), settings.COMPLAINT_REMEDY_WORKING_DAYS)
            name = "uphold"
        elif outcome == "refuse":
            if refusal_ground not in Complaint.RefusalGround.values:
                raise DomainError(
                    _("Укажите основание отказа (п. 91)."), fields={"refusal_ground": [_("Обязательное поле.")]}
                )
            if refusal_ground == Complaint.RefusalGround.REPEAT and repeat_of is None:
                raise DomainError(
                    _(
                        "Ранее принятых по существу решений по жалобам этого заявителя по тому же предмету "
                        "и тому же заявлению нет."
                    ),
                    fields={"refusal_ground": [_("Основание не подтверждено.")]},
                )
            locked.refusal_ground = refusal_ground
            name = "refuse"
        elif outcome == "unanswered":
            if silence_ground not in Complaint.SilenceGround.values:
                raise DomainError(_("Укажите основание (п. 92)."), fields={"silence_ground": [_("Обязательное поле.")]})
            locked.silence_ground = silence_ground
            name = "leave_unanswered"
        else:
            raise DomainError(_("Выберите решение."), fields={"outcome": [_("Обязательное поле.")]})
        locked.decided_at, locked.handler, locked.decision_text = timezone.now(), by, text
        locked.handler_position = handler_position
        case_transition(
            case=locked,
            name=name,
            by=by,
            reason=text,
            fields=(
                "decided_at",
                "handler",
                "handler_position",
                "decision_text",
                "remedy",
                "remedy_due_on",
                "refusal_ground",
                "silence_ground",
            ),
        )
        deadline_close(case=locked, kind=DEADLINE_COMPLAINT)
        decided_on = calendar.moscow_date(locked.decided_at)
        if name == "uphold":
            # p.89: 5 working days for the certificate; the Regulation sets no other term for the
            # other remedies, so each runs in the same one.
            deadline_open(
                case=locked,
                kind=DEADLINE_COMPLAINT_REMEDY,
                role=REMEDY_ROLES[remedy],
                started_on=decided_on,
                working_days=settings.COMPLAINT_REMEDY_WORKING_DAYS,
            )
        # p.92(b): nobody to answer when the name or the address cannot be read.
        if name != "leave_unanswered" or address_readable:
            deadline_open(
                case=locked,
                kind=DEADLINE_COMPLAINT_ANSWER,
                role=Role.COMPLAINT_HANDLER,
                started_on=decided_on,
                working_days=1,
            )
            complaint_id = locked.pk
            transaction.on_commit(lambda: enqueue(complaint_answer_send, complaint_id))
    return locked


def complaint_answer(*, complaint: Complaint) -> Complaint:
    """Render the answer (p.94: the authority, the deciding official and their position, number,
    date and place, the official complained of, the complainant, the grounds, the decision, the
    remedy and its term, how to appeal) and sign it for the handler: the SHA-256 digest of its
    content, the signer and the time are kept and printed on it (p.95). A cabinet complainant is
    notified in the cabinet and by e-mail, which is the dispatch (p.93); otherwise the answer goes by
    e-mail (complaint_answer_email) or on paper (complaint_answer_dispatch). Idempotent."""
    from appeals.documents import render_answer_pdf
    from exam.admission.selectors import document_digest

    if complaint.answer_signed_at is not None or complaint.decided_at is None:
        return complaint
    complaint = _answer_number(complaint)
    signed_at = timezone.now()
    document = complaint_answer_document(complaint)
    digest = document_digest(document)
    # p.95: signed with the key of the handler who decided, the stamp printed on it.
    issued = document_sign(
        official=complaint.handler,
        render=lambda stamp: render_answer_pdf(complaint=complaint, signed_at=signed_at, digest=digest, stamp=stamp),
    )
    pdf = issued.content
    with transaction.atomic():
        locked = Complaint.objects.select_for_update(of=("self",)).select_related("complainant").get(pk=complaint.pk)
        if locked.answer_signed_at is not None:
            return locked
        file_store(file=locked.answer_pdf, name=f"answer-{locked.number}.pdf", content=pdf)
        locked.answer_signed_at, locked.answer_digest, locked.answer_document = signed_at, digest, document
        locked.save(update_fields=["answer_pdf", "answer_signed_at", "answer_digest", "answer_document"])
        document_record(
            issued=issued,
            file_name=locked.answer_pdf.name,
            title=_("Ответ на жалобу № %(n)s, исх. № %(o)s") % {"n": locked.number, "o": locked.outgoing_number},
        )
        audit_record(
            case=locked,
            actor=locked.handler,
            verb="complaint_answer",
            action="event",
            data={"sha256": digest, "pdf_sha256": hashlib.sha256(pdf).hexdigest(), "signer": locked.handler_id},
        )
        if locked.complainant is not None:
            notification_send(
                recipient=locked.complainant,
                subject=lambda: _("Ответ на жалобу № %(n)s") % {"n": locked.number},
                body=lambda: f"{locked.get_status_display()}. {locked.decision_text[:500]}",
                link=locked.cabinet_url(),
            )
            _answer_dispatched(
                locked, channel=Complaint.AnswerChannel.CABINET, reference=locked.complainant.email, by=None
            )
    return locked


def _answer_number(complaint: Complaint) -> Complaint:
    """The answer's outgoing number, given before it is rendered (it is printed on it), in a
    transaction of its own: a retry renders it again under the same number."""
    with transaction.atomic():
        locked = Complaint.objects.select_for_update(of=("self",)).select_related("handler").get(pk=complaint.pk)
        outgoing_number_assign(letter=locked, kind=OutgoingLetter.Kind.COMPLAINT_ANSWER, signed_at=timezone.now())
    return locked


def _answer_dispatched(locked: Complaint, *, channel: str, reference: str, by: User | None) -> None:
    """p.93: the answer went out; its term is met (or missed) by the dispatch, not by the rendering."""
    locked.answered_at, locked.answer_channel, locked.answer_reference = timezone.now(), channel, reference
    locked.save(update_fields=["answered_at", "answer_channel", "answer_reference"])
    deadline_close(case=locked, kind=DEADLINE_COMPLAINT_ANSWER)
    audit_record(
        case=locked,
        actor=by,
        verb="complaint_answer_dispatch",
        action="event",
        reason=reference,
        data={"channel": channel},
    )


def complaint_answer_email(*, complaint: Complaint) -> Complaint:
    """E-mail the signed answer with its PDF to the address given on a complaint without a cabinet
    account (p.79(b), p.95): that is its dispatch (p.93). The complaint is claimed before the mail
    goes out, as core.dispatch.dispatch_by_email does for letters: a retry or the sweeper reaching
    an answer already sent sends nothing. OSError from the mail server, for the task to retry."""
    from core.dispatch import document_email

    with transaction.atomic():
        locked = Complaint.objects.select_for_update().get(pk=complaint.pk)
        sent_or_not_for_email = locked.answered_at is not None or locked.complainant_id is not None
        if sent_or_not_for_email or locked.answer_signed_at is None or not locked.email:
            return locked
        document_email(
            to=locked.email,
            subject=_("Ответ на жалобу № %(n)s") % {"n": locked.number},
            body=_(
                "Здравствуйте, %(name)s!\n\nНаправляем ответ по результатам рассмотрения вашей жалобы № %(n)s: "
                "%(status)s.\n\nОтвет во вложении (PDF)."
            )
            % {"name": locked.full_name, "n": locked.number, "status": locked.get_status_display()},
            filename=f"answer-{locked.number}.pdf",
            file=locked.answer_pdf,
        )
        _answer_dispatched(locked, channel=Complaint.AnswerChannel.EMAIL, reference=locked.email, by=None)
    return locked


def complaint_answer_dispatch(*, complaint: Complaint, by: User, channel: str, reference: str) -> Complaint:
    """Staff record that the signed answer was sent on paper (by post, with the postal item's
    number, or handed over): for a complainant with neither a cabinet nor an e-mail address this is
    the dispatch that meets the term of p.93."""
    require_role(
        by, *ANSWER_DISPATCH_ROLES, message=_("Отправку ответа отмечает регистратор или рассматривающий жалобы.")
    )
    if channel not in Complaint.STAFF_ANSWER_CHANNELS:
        raise DomainError(
            _("Выберите способ отправки: почтой или лично."), fields={"channel": [_("Неверное значение.")]}
        )
    reference = text_required(
        reference, field="reference", label=_("Номер почтового отправления или отметка о вручении")
    )
    with transaction.atomic():
        locked = Complaint.objects.select_for_update().get(pk=complaint.pk)
        _answer_dispatch_check(locked)
        _answer_dispatched(locked, channel=channel, reference=reference, by=by)
    return locked


def complaint_remedy_done(*, complaint: Complaint, by: User, note: str) -> Complaint:
    """The certificate officer records what was done for a remedy that has no service of its own
    (REMEDIES_BY_NOTE: other measures, the legacy "cancel decision"), closing its term (p.89). The
    remedies carried out by a service (the correction of errors among them) are done by it, never by
    a note."""
    require_role(by, Role.CERTIFICATE_OFFICER, message=_("Исполнение отмечает специалист по сертификатам."))
    note = text_required(note, field="note", label=_("Что сделано"))
    with transaction.atomic():
        locked = Complaint.objects.select_for_update().get(pk=complaint.pk)
        _remedy_check(locked, remedies=REMEDIES_BY_NOTE)
        _remedy_completed(locked, by=by, service="note", data={}, note=note)
    return locked


# --- A complaint without a cabinet account (p.79: contacts, not an account) -------------------------


def _email_is(given: object, verified: str) -> bool:
    """Whether the complaint's address is the one its sender confirmed (case aside)."""
    return bool(verified) and str(given or "").strip().lower() == verified.strip().lower()


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def complaint_confirmation_request(
    *,
    data: Mapping[str, Any],
    ip: str | None = None,
    evidence: list[UploadedFile] | None = None,
    power_of_attorney: list[UploadedFile] | None = None,
) -> ComplaintConfirmation:
    """Hold a complaint sent from the public form and e-mail its sender a link to confirm the address
    the answer is to go to. Nothing is registered, and no term runs, until the link is followed
    (complaint_confirm). Against floods: COMPLAINT_CONFIRMATIONS_PER_EMAIL_HOUR requests an hour
    for one address and COMPLAINT_CONFIRMATIONS_PER_IP_HOUR for one network address, counted before
    any file is read. Its documents (the evidence, a representative's power of attorney, p.83) are
    checked as complaint_file checks them and stored with it (ComplaintConfirmationFile): a refused
    file holds nothing and stores nothing. Unconfirmed, they are deleted once the link expired
    (complaint_confirmation_files_release)."""
    from appeals.tasks import complaint_confirmation_email
    from core.tasks import enqueue

    email = str(data.get("email") or "").strip()
    if not email:
        raise DomainError(
            _("Укажите адрес электронной почты: на него придёт ссылка для подтверждения жалобы."),
            fields={"email": [_("Обязательное поле.")]},
        )
    if str(data.get("subject") or "") not in Complaint.Subject.values:
        raise DomainError(_("Выберите предмет жалобы (п. 78)."), fields={"subject": [_("Обязательное поле.")]})
    now = timezone.now()
    hour_ago = now - timedelta(hours=1)
    recent = ComplaintConfirmation.objects.filter(created_at__gt=hour_ago)
    if recent.filter(email__iexact=email).count() >= settings.COMPLAINT_CONFIRMATIONS_PER_EMAIL_HOUR or (
        ip and recent.filter(ip=ip).count() >= settings.COMPLAINT_CONFIRMATIONS_PER_IP_HOUR
    ):
        raise DomainError(
            _("Слишком много запросов подтверждения. Попробуйте через час или подайте жалобу из личного кабинета."),
            code="throttled",
            status=429,
        )
    _complaint_representation(data=data, power_of_attorney=power_of_attorney)
    evidence_files, attorney_files = _checked(evidence or []), _checked(power_of_attorney or [])
    token = secrets.token_urlsafe(32)
    with transaction.atomic():
        confirmation = ComplaintConfirmation.objects.create(
            token_hash=_token_hash(token),
            email=email,
            data={key: value for key, value in data.items() if key != "form_token"},
            ip=ip or None,
            created_at=now,
            expires_at=now + settings.COMPLAINT_CONFIRMATION_MAX_AGE,
        )
        _complaint_files_store(
            evidence_files, attorney_files, partial(ComplaintConfirmationFile, confirmation=confirmation)
        )
        transaction.on_commit(lambda: enqueue(complaint_confirmation_email, confirmation.pk, token))
    return confirmation


def complaint_confirmation_get(*, token: str) -> ComplaintConfirmation:
    """The held complaint of a confirmation link, or a DomainError: unknown or expired."""
    confirmation = ComplaintConfirmation.objects.filter(token_hash=_token_hash(token or "")).first()
    if confirmation is None:
        raise DomainError(_("Ссылка недействительна."), code="token_invalid", status=404)
    _confirmation_unexpired(confirmation)
    return confirmation


def _confirmation_unexpired(confirmation: ComplaintConfirmation) -> None:
    if confirmation.complaint_id is None and confirmation.expires_at <= timezone.now():
        raise DomainError(_("Ссылка устарела: жалоба не подана. Отправьте её снова."), code="token_expired", status=410)


def _held_uploads(held: list[ComplaintConfirmationFile], *, kind: str) -> list[UploadedFile]:
    """The held files of ``kind`` as the uploads they were, for complaint_file to check and store."""
    uploads: list[UploadedFile] = []
    for item in held:
        if item.kind == kind:
            with item.file.open("rb") as stream:
                uploads.append(SimpleUploadedFile(item.original_name, stream.read(), content_type=item.content_type))
    return uploads


def complaint_confirm(*, token: str) -> Complaint:
    """Follow the e-mailed link: the address is its sender's, and the held complaint is filed as it
    was written, with its held documents, through complaint_file, with the same terms (p.86-87) and
    the same attachments as one from the cabinet. Exactly once: a second click (or a link checker)
    gets the complaint the first one filed."""
    confirmation = complaint_confirmation_get(token=token)
    with transaction.atomic():
        locked = ComplaintConfirmation.objects.select_for_update().get(pk=confirmation.pk)
        if locked.complaint is not None:
            return locked.complaint
        # Again under the lock, which complaint_confirmation_files_release takes too: an expiring
        # complaint is either filed with its documents or released, never filed without them.
        _confirmation_unexpired(locked)
        held = list(locked.files.all())
        complaint = complaint_file(
            data=locked.data,
            channel=Complaint.Channel.PORTAL,
            verified_email=locked.email,
            evidence=_held_uploads(held, kind=ComplaintAttachment.Kind.EVIDENCE),
            power_of_attorney=_held_uploads(held, kind=ComplaintAttachment.Kind.POWER_OF_ATTORNEY),
        )
        _held_files_delete(held)  # the complaint's attachments now: the held copies go
        locked.complaint = complaint
        locked.confirmed_at = timezone.now()
        locked.save(update_fields=["complaint", "confirmed_at"])
        audit_record(case=complaint, actor=None, verb="complaint_email_confirmed", action="event")
    return complaint


def complaint_confirmation_files_release() -> int:
    """The documents of held complaints whose link expired unconfirmed: nothing can file them any
    more (complaint_confirmation_get), so their rows are deleted and their files with them. Until
    then the rows name the files, so the orphan sweeper leaves them (core.files); released here,
    they are deleted with their rows and never reported as orphans (the hourly task
    appeals.tasks.complaint_confirmation_files_release). Each confirmation is locked as
    complaint_confirm locks it; one being confirmed right now is skipped (filed, its files go with
    the filing; not, the next run takes them). Returns how many files were released."""
    with transaction.atomic():
        expired = list(
            ComplaintConfirmation.objects.select_for_update(skip_locked=True)
            .filter(
                complaint__isnull=True,
                expires_at__lte=timezone.now(),
                pk__in=ComplaintConfirmationFile.objects.values("confirmation_id"),
            )
            .values_list("pk", flat=True)
        )
        held = list(ComplaintConfirmationFile.objects.filter(confirmation_id__in=expired))
        _held_files_delete(held)
    return len(held)


def _held_files_delete(held: list[ComplaintConfirmationFile]) -> None:
    """Delete held documents' rows, and their files once the transaction commits."""
    for item in held:
        file_delete_on_commit(file=item.file)
    ComplaintConfirmationFile.objects.filter(pk__in=[item.pk for item in held]).delete()
