"""Review of documents and the decision on admission (p.47-50)."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from core import calendar, dates
from core.errors import DomainError, NotFound, allowed
from core.models import Deadline, OutgoingLetter, User
from core.qes.documents import signing_refusal
from core.roles import Role, has_role, require_role, users_with_role
from core.services import (
    audit_record,
    case_transition,
    deadline_close,
    deadline_open,
    notification_send,
    outgoing_number_assign,
    transition_check,
)
from core.text import text_required
from exam.admission.selectors import (
    DEADLINE_DECISION,
    DEADLINE_NOTICE,
    DEADLINE_ORIGINALS_RETURN,
    DEADLINE_TRANSFER,
    Entry,
    application_criteria,
    application_get,
    entry_corrections_current,
    entry_get,
    entry_kind,
    entry_original,
    sitting_seats_taken,
)
from exam.admission.services.applications import _refuse_if_case_in_progress
from exam.admission.services.notices import originals_return_open, signatory_position_check
from exam.admission.services.persons import person_lock
from exam.models import Application, Decision, EntryCorrection, ExamCredential, Notice, OriginalsReturn, Sitting

S = Application.Status


# --- What the pages may offer: the checks the services run, as predicates -------------------------


def _take_check(application: Application) -> None:
    transition_check(case=application, name="start_review")


def application_can_take(*, application: Application, user: User) -> bool:
    """Whether application_start_review would accept: a reviewer, and the file is registered."""
    return has_role(user, Role.REVIEWER) and allowed(lambda: _take_check(application))


def _draft_check(application: Application, *, by: User) -> None:
    if application.reviewer_id != by.pk:
        raise NotFound(_("Заявление не найдено."))
    transition_check(case=application, name="draft_decision")


def application_can_draft(*, application: Application, user: User) -> bool:
    """Whether decision_draft would take a draft (its fields aside): a reviewer who took the file,
    and the file is under review."""
    return has_role(user, Role.REVIEWER) and allowed(lambda: _draft_check(application, by=user))


def entry_can_correct(*, application: Application, user: User) -> bool:
    """Whether entry_correct would take a correction (its value aside): the reviewer holding the
    file may correct its entries exactly while they could draft the decision (under review)."""
    return application_can_draft(application=application, user=user)


def _return_check(decision: Decision) -> None:
    if decision.state != Decision.State.DRAFT:
        raise DomainError(_("Этот проект решения уже рассмотрен."), code="decision_not_draft", status=409)


def decision_can_return(*, decision: Decision, user: User) -> bool:
    """Whether decision_return would accept: a signatory, and the decision is a draft."""
    return has_role(user, Role.SIGNATORY) and allowed(lambda: _return_check(decision))


def _sign_check(decision: Decision, *, by: User) -> None:
    _return_check(decision)
    if decision.drafted_by_id == by.pk:
        raise DomainError(
            _("Проект решения не может подписать тот, кто его подготовил."), code="drafter_cannot_sign", status=403
        )
    signatory_position_check(by, decision)
    signing_refusal(by)  # the notice or letter is signed with the signatory's qualified key
    if decision.kind == Decision.Kind.ADMISSION:
        assert decision.sitting is not None
        if decision.sitting.starts_at <= timezone.now():
            raise DomainError(
                _("Сеанс тестирования в проекте уже начался. Верните проект на доработку."),
                code="sitting_passed",
                status=409,
            )


def decision_can_sign(*, decision: Decision, user: User) -> bool:
    """Whether decision_sign would accept: a signatory who did not draft the decision, of the position
    its kind needs (p.49-50), while it is a draft and, for an admission, its sitting has not begun."""
    return has_role(user, Role.SIGNATORY) and allowed(lambda: _sign_check(decision, by=user))


# --- Review ---------------------------------------------------------------------------------------


def application_start_review(*, application: Application, by: User, ip: str | None = None) -> Application:
    """A reviewing official takes a registered file from the pool (p.47); colleagues no longer see it."""
    require_role(by, Role.REVIEWER, message=_("Рассматривать заявления может только должностное лицо департамента."))
    application_get(user=by, pk=application.pk)
    with transaction.atomic():
        locked = Application.objects.select_for_update().get(pk=application.pk)
        _take_check(locked)
        locked.reviewer = by
        locked.review_started_at = timezone.now()
        case_transition(
            case=locked,
            name="start_review",
            by=by,
            fields=("reviewer", "review_started_at"),
            ip=ip,
            reason=_("Принято к рассмотрению"),
        )
        Deadline.objects.filter(
            case_type=ContentType.objects.get_for_model(Application),
            case_id=locked.pk,
            kind=DEADLINE_DECISION,
            completed_at__isnull=True,
        ).update(assignee=by)
        deadline_close(case=locked, kind=DEADLINE_TRANSFER)
    return locked


def decision_draft(
    *,
    application: Application,
    by: User,
    kind: str,
    sitting: Sitting | None = None,
    grounds: list[str] | None = None,
    explanation: str = "",
    ip: str | None = None,
) -> Decision:
    """The reviewer drafts an admission with a sitting, or a refusal naming the grounds of p.21 with
    an explanation (p.48). Admission needs all three criteria of p.21(a) met."""
    require_role(by, Role.REVIEWER, message=_("Готовить проект решения может только должностное лицо департамента."))
    grounds = list(dict.fromkeys(grounds or []))
    errors: dict[str, list[str]] = {}
    if kind not in Decision.Kind.values:
        errors["kind"] = [_("Выберите решение.")]
    elif kind == Decision.Kind.ADMISSION:
        if sitting is None:
            errors["sitting"] = [_("Выберите сеанс тестирования.")]
        if grounds:
            errors["grounds"] = [_("Основания отказа указываются только при отказе.")]
    else:
        if not grounds:
            errors["grounds"] = [_("Укажите хотя бы одно основание отказа (п. 21).")]
        elif any(g not in Decision.Ground.values for g in grounds):
            errors["grounds"] = [_("Неизвестное основание отказа.")]
        if not explanation:
            errors["explanation"] = [_("Поясните причины отказа.")]
    if errors:
        raise DomainError(_("Проверьте проект решения."), fields=errors)
    with transaction.atomic(durable=True):
        locked = Application.objects.select_for_update().get(pk=application.pk)
        _draft_check(locked, by=by)
        if kind == Decision.Kind.ADMISSION:
            criteria = application_criteria(locked)
            if not criteria.all_met:
                unmet = ", ".join(c.label for c in criteria.all if not c.met)
                raise DomainError(
                    _("Допуск невозможен: не выполнены требования п. 21 «а»: %(unmet)s.") % {"unmet": unmet},
                    code="criteria_not_met",
                    fields={"kind": [_("Требования не выполнены.")]},
                )
            assert sitting is not None
            _check_sitting(sitting)
        decision = Decision.objects.create(
            application=locked,
            kind=kind,
            grounds=grounds if kind == Decision.Kind.REFUSAL else [],
            explanation=explanation,
            sitting=sitting if kind == Decision.Kind.ADMISSION else None,
            drafted_by=by,
        )
        case_transition(
            case=locked,
            name="draft_decision",
            by=by,
            reason=explanation or str(decision.get_kind_display()),
            data={
                "decision": decision.pk,
                "kind": kind,
                "grounds": grounds,
                "sitting": sitting.pk if sitting else None,
            },
            ip=ip,
        )
        for signatory in users_with_role(Role.SIGNATORY, exclude=by):
            notification_send(
                recipient=signatory,
                subject=lambda: _("Проект решения на подпись: %(app)s") % {"app": locked},
                body=lambda: (
                    _("%(kind)s. Подготовил: %(who)s.") % {"kind": decision.get_kind_display(), "who": by.full_name}
                ),
                link=locked.staff_url(),
            )
    return decision


F = EntryCorrection.Field
MAX_HOURS = 2000  # as the entry's own form allows


def _correction_json(field: str, value: Any) -> Any:
    """The corrected value checked for its field, in the JSON form it is stored in."""
    message = None
    if field == F.COUNTED:
        if isinstance(value, bool):
            return value
        message = _("Укажите, учитываются ли сведения.")
    elif field == F.ASSESSMENT_HOURS:
        if isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= MAX_HOURS:
            return value
        message = _("Укажите целое число часов от 0 до %(n)d.") % {"n": MAX_HOURS}
    elif value is None and field == F.DATE_TO:
        return None  # to date
    elif isinstance(value, date):
        dates.date_argument(value, field="value", problem=dates.document_date_problem)
        return value.isoformat()
    else:
        message = _("Введите дату в формате ДД.ММ.ГГГГ.")
    raise DomainError(_("Проверьте исправление."), fields={"value": [str(message)]})


def entry_correct(
    *, application: Application, entry: Entry, field: str, value: Any, reason: str, by: User, ip: str | None = None
) -> EntryCorrection:
    """The reviewer holding the file corrects a field of a candidate's entry from the attached
    document, with the reason (p.47: documents checked against p.15; p.21(a)). The entry stays as the
    candidate signed it (p.39); the correction is kept beside it, the criteria of p.21(a) use it, the
    signatory sees it beside the draft. Only the fields the criteria read may be corrected
    (EntryCorrection.FIELDS), only while the file is under review. Audited with the value of the
    entry, the value before and after, and the criteria before and after."""
    require_role(by, Role.REVIEWER, message=_("Исправлять сведения может только должностное лицо департамента."))
    reason = text_required(reason, field="reason", label=_("Причина исправления"))
    kind = entry_kind(entry)
    if field not in EntryCorrection.FIELDS[kind]:
        raise DomainError(
            _("Это поле не влияет на требования п. 21 «а» и не исправляется."),
            fields={"field": [_("Выберите поле, которое используется при расчёте требований.")]},
        )
    corrected = _correction_json(field, value)
    with transaction.atomic():
        locked = Application.objects.select_for_update().get(pk=application.pk)
        _draft_check(locked, by=by)
        entry = entry_get(application=locked, kind=kind, pk=entry.pk)
        current = entry_corrections_current(locked)

        def now(name: str) -> Any:
            latest = current.get((kind, entry.pk, name))
            return latest.value if latest is not None else entry_original(entry, name)

        before = now(field)
        if corrected == before:
            raise DomainError(
                _("Значение не изменилось."), fields={"value": [_("Укажите значение по приложенному документу.")]}
            )
        if kind == EntryCorrection.Kind.EXPERIENCE and field in (F.DATE_FROM, F.DATE_TO):
            start = corrected if field == F.DATE_FROM else now(F.DATE_FROM)
            end = corrected if field == F.DATE_TO else now(F.DATE_TO)
            if end is not None and end < start:
                raise DomainError(
                    _("Дата окончания периода раньше даты начала."),
                    fields={"value": [_("Проверьте даты периода работы.")]},
                )
        criteria_before = {c.code: c.met for c in application_criteria(locked).all}
        correction = EntryCorrection.objects.create(
            application=locked,
            entry_kind=kind,
            entry_id=entry.pk,
            field=field,
            original=entry_original(entry, field),
            value=corrected,
            reason=reason,
            corrected_by=by,
        )
        audit_record(
            case=locked,
            actor=by,
            verb="entry_correct",
            action="event",
            reason=reason,
            data={
                "correction": correction.pk,
                "entry": kind,
                "entry_id": entry.pk,
                "field": field,
                "original": correction.original,
                "before": before,
                "value": corrected,
                "criteria_before": criteria_before,
                "criteria_after": {c.code: c.met for c in application_criteria(locked).all},
            },
            ip=ip,
        )
    return correction


def _check_sitting(sitting: Sitting) -> None:
    locked = Sitting.objects.select_for_update().get(pk=sitting.pk)
    if locked.starts_at <= timezone.now():
        raise DomainError(
            _("Сеанс тестирования уже начался или прошёл."), fields={"sitting": [_("Выберите другой сеанс.")]}
        )
    if sitting_seats_taken(locked) >= locked.capacity:
        raise DomainError(_("В этом сеансе нет свободных мест."), fields={"sitting": [_("Выберите другой сеанс.")]})


def _lock_draft(decision: Decision) -> tuple[Decision, Application]:
    application = Application.objects.select_for_update().get(pk=decision.application_id)
    locked = Decision.objects.select_for_update().get(pk=decision.pk)
    _return_check(locked)
    return locked, application


def decision_return(*, decision: Decision, by: User, reason: str, ip: str | None = None) -> Decision:
    """The signatory returns the draft to the reviewer with the reason."""
    require_role(by, Role.SIGNATORY, message=_("Возвращать проекты решений может только подписант."))
    reason = text_required(reason, field="reason", label=_("Что нужно исправить"))
    with transaction.atomic(durable=True):
        locked, application = _lock_draft(decision)
        locked.state = Decision.State.RETURNED
        locked.returned_by = by
        locked.returned_at = timezone.now()
        locked.return_reason = reason
        locked.save(update_fields=["state", "returned_by", "returned_at", "return_reason"])
        case_transition(
            case=application, name="return_draft", by=by, reason=reason, data={"decision": locked.pk}, ip=ip
        )
        notification_send(
            recipient=locked.drafted_by,
            subject=lambda: _("Проект решения возвращён: %(app)s") % {"app": application},
            body=reason,
            link=application.staff_url(),
        )
    return locked


def decision_sign(*, decision: Decision, by: User, ip: str | None = None) -> Decision:
    """A signatory who did not draft it signs the decision: an admission notice the director of the
    Department or a deputy, a refusal letter a deputy director (p.49-50). Then the admission notice or
    refusal letter is issued within 5 working days (p.12(b)); for an admission the testing-system
    login is created (p.53); a refusal of an application received on paper opens the return of its
    originals (p.54)."""
    from core.tasks import enqueue
    from exam.admission.tasks import notice_issue

    require_role(by, Role.SIGNATORY, message=_("Подписывать решения может только подписант."))
    with transaction.atomic(durable=True):
        locked, application = _lock_draft(decision)
        _sign_check(locked, by=by)
        now = timezone.now()
        locked.state = Decision.State.SIGNED
        locked.signed_by = by
        locked.signed_at = now
        locked.save(update_fields=["state", "signed_by", "signed_at"])
        letter = Notice.Kind.ADMISSION_NOTICE if locked.kind == Decision.Kind.ADMISSION else Notice.Kind.REFUSAL_LETTER
        outgoing_number_assign(letter=locked, kind=OutgoingLetter.Kind(letter.value), signed_at=now)
        case_transition(
            case=application,
            name="admit" if locked.kind == Decision.Kind.ADMISSION else "refuse",
            by=by,
            reason=locked.explanation or str(locked.get_kind_display()),
            data={"decision": locked.pk, "grounds": locked.grounds, "outgoing_number": locked.outgoing_number},
            ip=ip,
        )
        deadline_close(case=application, kind=DEADLINE_DECISION)
        deadline_open(
            case=application,
            kind=DEADLINE_NOTICE,
            role=Role.REGISTRAR,
            started_on=calendar.moscow_date(now),
            working_days=settings.NOTICE_DEADLINE_WORKING_DAYS,
        )
        originals_return_open(application=application, decision=locked, at=now)
        if locked.kind == Decision.Kind.ADMISSION:
            credential = ExamCredential.objects.create(
                application=application, sitting=locked.sitting, login=_exam_login(application)
            )
            audit_record(
                case=application, actor=by, verb="exam_login_created", action="event", data={"login": credential.login}
            )
        transaction.on_commit(lambda: enqueue(notice_issue, locked.pk))
    return locked


# --- A refusal of admission cancelled on an upheld complaint (p.88-89) -----------------------------


def admission_refusal_cancel_check(application: Application) -> Decision:
    """What application_admission_refusal_cancel needs, as a domain error when it is missing: the
    application is refused admission and the signed refusal is there; returns that refusal."""
    transition_check(case=application, name="reopen_review")
    refusal = (
        application.decisions.filter(kind=Decision.Kind.REFUSAL, state=Decision.State.SIGNED)
        .order_by("-signed_at", "-id")
        .first()
    )
    if refusal is None:
        raise DomainError(_("Подписанного отказа в допуске нет."), code="no_refusal", status=409)
    return refusal


def application_admission_refusal_cancel(
    *, application: Application, by: User, reason: str, term_from: date
) -> Decision:
    """p.88-89: the refusal of admission is cancelled on an upheld complaint. The signed refusal is
    marked cancelled (kept with its letter and outgoing number, never current again); the file goes
    back to the reviewers' pool (registered: a reviewer takes it, p.47) with a new term of
    REVIEW_DEADLINE_WORKING_DAYS working days from ``term_from`` (the complaint's decision), and the
    new decision is drafted and signed by two people as any other (p.48-50). What ran on the refusal
    stops: the term of its letter if still open, and the return of paper originals (p.54) not made
    yet. Returns the cancelled refusal.

    Who may carry it out is the caller's rule (the remedy of a complaint). Runs inside the caller's
    transaction: a plain atomic block, never a durable one."""
    reason = text_required(reason, field="reason", label=_("Основание отмены"))
    with transaction.atomic():
        locked = Application.objects.select_for_update().get(pk=application.pk)
        person_lock(locked.person_key)
        refusal = Decision.objects.select_for_update().get(pk=admission_refusal_cancel_check(locked).pk)
        # One case at a time: the person may have applied again since the refusal.
        _refuse_if_case_in_progress(locked.person_key, exclude=locked, staff=True)
        now = timezone.now()
        refusal.state, refusal.cancelled_by, refusal.cancelled_at, refusal.cancel_reason = (
            Decision.State.CANCELLED,
            by,
            now,
            reason,
        )
        refusal.save(update_fields=["state", "cancelled_by", "cancelled_at", "cancel_reason"])
        audit_record(
            case=locked,
            actor=by,
            verb="decision_cancel",
            action="event",
            reason=reason,
            data={"decision": refusal.pk, "outgoing_number": refusal.outgoing_number, "grounds": refusal.grounds},
        )
        previous_reviewer = locked.reviewer_id
        locked.reviewer, locked.review_started_at = None, None
        case_transition(
            case=locked,
            name="reopen_review",
            by=by,
            reason=reason,
            fields=("reviewer", "review_started_at"),
            data={"decision": refusal.pk, "previous_reviewer": previous_reviewer, "term_from": term_from.isoformat()},
        )
        deadline_close(case=locked, kind=DEADLINE_NOTICE, cancelled=True)
        deadline_close(case=locked, kind=DEADLINE_ORIGINALS_RETURN, cancelled=True)
        pending = OriginalsReturn.objects.filter(application=locked, dispatched_at__isnull=True).first()
        if pending is not None:
            # Nothing went back yet: the documents stay with the file under review again.
            audit_record(
                case=locked,
                actor=by,
                verb="originals_return_cancel",
                action="event",
                reason=reason,
                data={"documents": pending.documents},
            )
            pending.delete()
        deadline = deadline_open(
            case=locked,
            kind=DEADLINE_DECISION,
            role=Role.REVIEWER,
            started_on=term_from,
            working_days=settings.REVIEW_DEADLINE_WORKING_DAYS,
        )
        if locked.candidate is not None:
            days = settings.REVIEW_DEADLINE_WORKING_DAYS
            notification_send(
                recipient=locked.candidate,
                subject=lambda: _("Отказ в допуске отменён: заявление № %(n)s") % {"n": locked.registration_number},
                body=lambda: (
                    ngettext(
                        "Отказ в аттестационном испытании (исх. № %(out)s) отменён: %(reason)s\nЗаявление снова "
                        "рассматривается; решение будет принято в течение %(days)d рабочего дня, не позднее %(date)s.",
                        "Отказ в аттестационном испытании (исх. № %(out)s) отменён: %(reason)s\nЗаявление снова "
                        "рассматривается; решение будет принято в течение %(days)d рабочих дней, не позднее %(date)s.",
                        days,
                    )
                    % {
                        "out": refusal.outgoing_number or "—",
                        "reason": reason,
                        "days": days,
                        "date": deadline.due_on.strftime("%d.%m.%Y"),
                    }
                ),
                link=locked.cabinet_url(),
            )
    return refusal


def _exam_login(application: Application) -> str:
    return f"{settings.EXAM_LOGIN_PREFIX}-{application.registration_date:%Y}-{application.pk:06d}"
