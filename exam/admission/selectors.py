"""Reads of the admission procedure shared by pages, the API and the services."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db.models import Exists, OuterRef, Q, QuerySet, Subquery
from django.utils import timezone
from django.utils.translation import gettext as _

from core import calendar
from core.canonical import canonical_json
from core.errors import NotFound
from core.models import AuditEvent, Deadline, User
from core.roles import Role, user_roles
from exam.admission import criteria
from exam.models import Application, Attachment, Channel, Decision, Notice, Sitting, Submission

S = Application.Status

DEADLINE_DECISION = "application.decision"  # p.12(a): 20 working days from registration
DEADLINE_NOTICE = "application.notice"  # p.12(b): 5 working days from the decision
DEADLINE_REGISTRATION = "application.registration"  # p.25: a paper one, 1 working day from receipt
DEADLINE_TRANSFER = "application.transfer"  # p.46: to the department, 1 working day from registration

# --- Who may see which application ------------------------------------------------------------

# Staff see an application only through one of their roles; candidates see their own.
_ROLE_SCOPES: dict[Role, Q] = {
    Role.REGISTRAR: ~Q(status=S.DRAFT),
    Role.AUDITOR: ~Q(status=S.DRAFT),
    Role.SIGNATORY: Q(status__in=[S.DECISION_DRAFTED, S.ADMITTED, S.REFUSED]),
    Role.EXAM_ADMIN: Q(status=S.ADMITTED),
}


def application_visible_q(user: User) -> Q | None:
    """A filter of the applications ``user`` may open, or None for none at all."""
    if not user.is_authenticated or not user.is_active:
        return None
    if user.is_superuser:
        return Q()
    if not user.is_staff:
        return Q(candidate=user)
    roles = user_roles(user)
    scopes = [q for role, q in _ROLE_SCOPES.items() if role in roles]
    if Role.REVIEWER in roles:
        # A reviewer sees the pool of registered files and the ones they took, not a colleague's.
        scopes.append(Q(status=S.REGISTERED) | Q(reviewer=user))
    if not scopes:
        return None
    combined = scopes[0]
    for q in scopes[1:]:
        combined |= q
    return combined


def application_list_for(*, user: User) -> QuerySet[Application]:
    q = application_visible_q(user)
    if q is None:
        return Application.objects.none()
    return Application.objects.filter(q)


def application_get(*, user: User, pk: Any) -> Application:
    """The application, if ``user`` may open it; otherwise 404 (its existence is not revealed)."""
    try:
        pk = int(pk)
    except (TypeError, ValueError):
        raise NotFound() from None
    app = application_list_for(user=user).select_related("candidate", "reviewer").filter(pk=pk).first()
    if app is None:
        raise NotFound(_("Заявление не найдено."))
    return app


def attachment_get(*, user: User, application: Application, pk: Any) -> Attachment:
    try:
        return application.attachments.get(pk=int(pk))
    except (TypeError, ValueError, Attachment.DoesNotExist):
        raise NotFound(_("Документ не найден.")) from None


# --- What was submitted -------------------------------------------------------------------------


def _iso(value: date | datetime | None) -> str | None:
    return value.isoformat() if value else None


def application_document(application: Application) -> dict[str, Any]:
    """The canonical content of the application, in the order of p.15, with each attachment named by
    its SHA-256. This is exactly what the candidate signs."""
    return {
        "form": "Заявление об аттестации на право выполнения работ по специальной оценке условий труда",
        "applicant": {
            "last_name": application.last_name,
            "first_name": application.first_name,
            "patronymic": application.patronymic,
        },
        "identity_document": {
            "name": application.id_document_name,
            "number": application.id_document_number,
            "issuer": application.id_document_issuer,
            "issued_on": _iso(application.id_document_issued_on),
        },
        "contacts": {
            "postal_address": application.postal_address,
            "email": application.email,
            "phone": application.phone,
        },
        "higher_education": [
            {
                "institution": e.institution,
                "specialty": e.specialty,
                "document_name": e.document_name,
                "document_number": e.document_number,
                "document_date": _iso(e.document_date),
            }
            for e in application.higher_education.all()
        ],
        "additional_education": [
            {
                "organisation": e.organisation,
                "programme": e.programme,
                "assessment_hours": e.assessment_hours,
                "document_number": e.document_number,
                "document_date": _iso(e.document_date),
            }
            for e in application.additional_education.all()
        ],
        "experience": [
            {"employer": e.employer, "works": e.works, "from": _iso(e.date_from), "to": _iso(e.date_to)}
            for e in application.experience.all()
        ],
        "personal_data_consent": application.personal_data_consent,
        "attachments": [
            {"id": a.pk, "kind": a.kind, "name": a.original_name, "size": a.size, "sha256": a.sha256}
            for a in application.attachments.order_by("kind", "id")
        ],
    }


def document_digest(document: dict[str, Any]) -> str:
    return hashlib.sha256(canonical_json(document)).hexdigest()


def application_missing_items(application: Application, *, paper_documents: Iterable[str] = ()) -> list[str]:
    """What the set lacks for acceptance (p.15, p.19; seed 003: required fields left empty,
    attachments not matching the required list). ``paper_documents`` are the kinds of document the
    registrar received on paper. Empty when the set is complete."""
    missing: list[str] = []
    required = [
        ("last_name", _("фамилия")),
        ("first_name", _("имя")),
        ("id_document_name", _("наименование документа, удостоверяющего личность")),
        ("id_document_number", _("серия и номер документа, удостоверяющего личность")),
        ("id_document_issuer", _("кем выдан документ, удостоверяющий личность")),
        ("id_document_issued_on", _("дата выдачи документа, удостоверяющего личность")),
        ("postal_address", _("почтовый адрес")),
    ]
    for field, label in required:
        if not getattr(application, field):
            missing.append(_("Не заполнено поле: %(field)s") % {"field": label})
    if not application.higher_education.exists():
        missing.append(_("Не указаны сведения о высшем образовании"))
    if not application.additional_education.exists():
        missing.append(_("Не указаны сведения о дополнительном профессиональном образовании"))
    if not application.experience.exists():
        missing.append(_("Не указаны сведения об опыте практической работы в области оценки условий труда"))
    if not application.personal_data_consent:
        missing.append(_("Нет согласия на обработку персональных данных"))
    present = {a.kind for a in application.attachments.all()} | set(paper_documents)
    missing += [
        _("Не приложен документ: %(doc)s") % {"doc": label}
        for kind, label in Attachment.Kind.choices
        if kind not in present
    ]
    return missing


# --- Admission criteria -------------------------------------------------------------------------


def application_criteria(application: Application, *, as_of: date | None = None) -> criteria.Criteria:
    """The three criteria of p.21(a) computed from the entries; experience counted up to the
    registration date (or today for a draft)."""
    as_of = as_of or application.registration_date or calendar.today()
    return criteria.evaluate(
        higher_education=[
            f"{e.institution}, {e.specialty}; {e.document_name} № {e.document_number} от {e.document_date:%d.%m.%Y}"
            for e in application.higher_education.all()
        ],
        training_hours=[
            (
                f"{e.programme} ({e.organisation}), № {e.document_number} от {e.document_date:%d.%m.%Y}",
                e.assessment_hours,
            )
            for e in application.additional_education.all()
        ],
        experience=[(e.employer, e.date_from, e.date_to) for e in application.experience.all()],
        as_of=as_of,
        min_hours=settings.ADMISSION_MIN_TRAINING_HOURS,
        min_years=settings.ADMISSION_MIN_EXPERIENCE_YEARS,
    )


# --- Deadlines ----------------------------------------------------------------------------------


def _open_deadline(kind: str, ref: str = "pk") -> Subquery:
    """The due date of the open term ``kind`` of the application ``ref`` points to."""
    return Subquery(
        Deadline.objects.filter(
            case_type=ContentType.objects.get_for_model(Application),
            case_id=OuterRef(ref),
            kind=kind,
            completed_at__isnull=True,
        ).values("due_on")[:1]
    )


def application_deadlines(application: Application) -> list[Deadline]:
    return list(
        Deadline.objects.filter(
            case_type=ContentType.objects.get_for_model(Application), case_id=application.pk
        ).order_by("started_on", "id")
    )


def review_queue(*, user: User) -> QuerySet[Application]:
    """The reviewer's queue (p.47): registered files in the pool and the reviewer's own files under
    review, the nearest decision deadline first."""
    return (
        Application.objects.filter(Q(status=S.REGISTERED) | Q(status=S.UNDER_REVIEW, reviewer=user))
        .annotate(due_on=_open_deadline(DEADLINE_DECISION))
        .select_related("reviewer")
        .order_by("due_on", "registered_at", "pk")
    )


def signing_queue(*, user: User) -> QuerySet[Decision]:
    """Draft decisions awaiting a signature, oldest deadline first."""
    return (
        Decision.objects.filter(state=Decision.State.DRAFT, application__status=S.DECISION_DRAFTED)
        .select_related("application", "drafted_by", "sitting")
        .annotate(due_on=_open_deadline(DEADLINE_DECISION, "application_id"))
        .order_by("due_on", "drafted_at")
    )


def registration_journal(*, user: User) -> QuerySet[Application]:
    """The journal of registered applications and refusals to accept, newest first."""
    return (
        application_list_for(user=user)
        .exclude(status=S.DRAFT)
        .filter(Exists(Submission.objects.filter(application=OuterRef("pk"))))
        .order_by("-registered_at", "-updated_at")
    )


def sitting_list_upcoming() -> QuerySet[Sitting]:
    return Sitting.objects.filter(starts_at__gt=timezone.now()).order_by("starts_at")


def sitting_seats_taken(sitting: Sitting) -> int:
    return Decision.objects.filter(
        sitting=sitting, kind=Decision.Kind.ADMISSION, state__in=[Decision.State.SIGNED, Decision.State.DRAFT]
    ).count()


def decision_current(application: Application) -> Decision | None:
    return application.decisions.exclude(state=Decision.State.RETURNED).order_by("-drafted_at", "-id").first()


def application_registration_due(application: Application) -> date | None:
    """p.25: the last day to register a paper application, the working day after the day it arrived
    (one sent electronically is registered on arrival, p.26)."""
    if application.channel not in Channel.paper() or application.received_at is None:
        return None
    return calendar.add_working_days(calendar.moscow_date(application.received_at), 1)


def application_registered_late(application: Application) -> bool:
    due = application_registration_due(application)
    if due is None or application.registered_at is None:
        return False
    return calendar.moscow_date(application.registered_at) > due


def notice_for(application: Application) -> Notice | None:
    return application.notices.order_by("-issued_at").first()


# --- The candidate's timeline (p.40, p.68) ------------------------------------------------------


@dataclass(frozen=True)
class Step:
    code: str
    label: str
    done_at: datetime | date | None
    detail: str = ""
    due_on: date | None = None
    due_label: str = ""


def application_timeline(application: Application) -> list[Step]:
    """Received, registered, under review, decision, notice: each with its date and, for the step
    under way, the deadline of the next step."""
    deadlines = {d.kind: d for d in application_deadlines(application)}
    decision = application.decisions.filter(state=Decision.State.SIGNED).order_by("-signed_at").first()
    notice = notice_for(application)
    decision_deadline = deadlines.get(DEADLINE_DECISION)
    notice_deadline = deadlines.get(DEADLINE_NOTICE)
    steps = [
        Step("received", _("Заявление получено"), application.received_at),
        Step(
            "registered",
            _("Заявление зарегистрировано"),
            application.registered_at,
            detail=_("№ %(n)s") % {"n": application.registration_number} if application.registration_number else "",
        ),
        Step("under_review", _("Документы на рассмотрении"), application.review_started_at),
        Step(
            "decision",
            _("Решение принято"),
            decision.signed_at if decision else None,
            detail=decision.get_kind_display() if decision else "",
            due_on=decision_deadline.due_on if decision_deadline and not decision else None,
            due_label=_("Решение будет принято не позднее"),
        ),
        Step(
            "notice",
            _("Уведомление направлено"),
            notice.dispatched_at if notice else None,
            detail=notice.get_kind_display() if notice else "",
            due_on=notice_deadline.due_on if notice_deadline and not (notice and notice.dispatched_at) else None,
            due_label=_("Уведомление будет направлено не позднее"),
        ),
    ]
    return steps


def audit_trail_for(case: Any) -> QuerySet[AuditEvent]:
    return AuditEvent.objects.filter(case_type=ContentType.objects.get_for_model(case), case_id=case.pk).select_related(
        "actor"
    )
