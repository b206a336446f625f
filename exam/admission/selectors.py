"""Reads of the admission procedure shared by pages, the API and the services."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ObjectDoesNotExist
from django.db.models import Exists, OuterRef, Q, QuerySet, Subquery
from django.utils import timezone
from django.utils.translation import gettext as _

from core import calendar
from core.canonical import canonical_json
from core.errors import NotFound
from core.models import AuditEvent, Deadline, User
from core.roles import Role, user_roles
from exam.admission import criteria
from exam.admission.stages import STAGE_PROVIDERS, TIMELINE_PROVIDERS, Stage
from exam.models import (
    AdditionalEducation,
    Application,
    Attachment,
    Attempt,
    Channel,
    Decision,
    EntryCorrection,
    Experience,
    HigherEducation,
    Notice,
    Sitting,
    Submission,
)

S = Application.Status

DEADLINE_DECISION = "application.decision"  # p.12(a): 20 working days from registration
DEADLINE_NOTICE = "application.notice"  # p.12(b): 5 working days from the decision
DEADLINE_ORIGINALS_RETURN = "application.originals_return"  # p.54 within p.12(b): paper originals back
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


def document_bytes(document: dict[str, Any]) -> bytes:
    """The exact bytes that are signed: the canonical JSON of the document (core.canonical). The
    candidate downloads them to sign with a qualified electronic signature; the e-mailed code
    signs their SHA-256."""
    return canonical_json(document)


def document_digest(document: dict[str, Any]) -> str:
    return hashlib.sha256(document_bytes(document)).hexdigest()


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


# --- The reviewer's corrections of entries --------------------------------------------------------

Entry = HigherEducation | AdditionalEducation | Experience
K = EntryCorrection.Kind
F = EntryCorrection.Field

ENTRY_MODELS: dict[str, type[Entry]] = {
    K.HIGHER_EDUCATION: HigherEducation,
    K.ADDITIONAL_EDUCATION: AdditionalEducation,
    K.EXPERIENCE: Experience,
}


def entry_kind(entry: Entry) -> str:
    return next(kind for kind, model in ENTRY_MODELS.items() if isinstance(entry, model))


def entry_get(*, application: Application, kind: str, pk: Any) -> Entry:
    """One entry of the application, or 404."""
    model = ENTRY_MODELS.get(kind)
    if model is not None:
        try:
            return model._default_manager.get(application=application, pk=int(pk))
        except (TypeError, ValueError, ObjectDoesNotExist):
            pass
    raise NotFound(_("Сведения не найдены."))


def entry_original(entry: Entry, field: str) -> Any:
    """The value of ``field`` as the candidate entered it, in the JSON form of EntryCorrection."""
    if field == F.COUNTED:
        return True
    value = getattr(entry, field)
    return value.isoformat() if isinstance(value, date) else value


def correction_typed(field: str, raw: Any) -> Any:
    """A stored JSON value as the criteria read it (dates as dates)."""
    if field in (F.DATE_FROM, F.DATE_TO):
        return date.fromisoformat(raw) if raw else None
    return raw


def entry_corrections_current(application: Application) -> dict[tuple[str, int, str], EntryCorrection]:
    """The latest correction of each corrected field of the entries: (kind, entry id, field) -> it."""
    current: dict[tuple[str, int, str], EntryCorrection] = {}
    for correction in EntryCorrection.objects.filter(application=application).order_by("corrected_at", "id"):
        current[(correction.entry_kind, correction.entry_id, correction.field)] = correction
    return current


def entry_value(entry: Entry, field: str, current: dict[tuple[str, int, str], EntryCorrection]) -> Any:
    """The value the criteria use: the latest correction of the field, or the candidate's entry."""
    correction = current.get((entry_kind(entry), entry.pk, field))
    return correction_typed(field, correction.value if correction else entry_original(entry, field))


@dataclass(frozen=True)
class CorrectionRow:
    correction: EntryCorrection
    entry: str
    current: bool  # the one the criteria use (not replaced by a later correction of the field)


def entry_correction_list(application: Application) -> list[CorrectionRow]:
    """Every correction of the application's entries, oldest first, naming its entry; the signatory
    reads them beside the draft."""
    entries: dict[tuple[str, int], str] = {}
    for kind, model in ENTRY_MODELS.items():
        for entry in model._default_manager.filter(application=application):
            entries[(kind, entry.pk)] = str(entry)
    current = {c.pk for c in entry_corrections_current(application).values()}
    return [
        CorrectionRow(correction=c, entry=entries.get((c.entry_kind, c.entry_id), "—"), current=c.pk in current)
        for c in EntryCorrection.objects.filter(application=application).select_related("corrected_by")
    ]


def entry_correction_targets(application: Application) -> list[tuple[str, str]]:
    """What the reviewer may correct: ``kind:id:field`` with its label, for each entry and each field
    the criteria read (EntryCorrection.FIELDS)."""
    labels = dict(F.choices)
    current = entry_corrections_current(application)
    targets = []
    for kind, model in ENTRY_MODELS.items():
        for entry in model._default_manager.filter(application=application):
            for field in EntryCorrection.FIELDS[kind]:
                now = EntryCorrection.label(field, entry_original(entry, field))
                correction = current.get((kind, entry.pk, field))
                if correction is not None:
                    now = correction.value_label
                targets.append((f"{kind}:{entry.pk}:{field}", f"{entry} — {labels[field]}: {now}"))
    return targets


# --- Admission criteria -------------------------------------------------------------------------


def application_criteria(application: Application, *, as_of: date | None = None) -> criteria.Criteria:
    """The three criteria of p.21(a) computed from the entries with the reviewer's corrections
    applied (the entries themselves stay as the candidate signed them); experience counted up to
    the registration date (or today for a draft)."""
    as_of = as_of or application.registration_date or calendar.today()
    current = entry_corrections_current(application)
    corrected = {(kind, pk) for kind, pk, _field in current}

    def counted(entry: Entry) -> bool:
        return bool(entry_value(entry, F.COUNTED, current))

    def mark(entry: Entry) -> str:
        return " (" + _("исправлено проверяющим") + ")" if (entry_kind(entry), entry.pk) in corrected else ""

    return criteria.evaluate(
        higher_education=[
            f"{e.institution}, {e.specialty}; {e.document_name} № {e.document_number} от {e.document_date:%d.%m.%Y}"
            + mark(e)
            for e in application.higher_education.all()
            if counted(e)
        ],
        training_hours=[
            (
                f"{e.programme} ({e.organisation}), № {e.document_number} от {e.document_date:%d.%m.%Y}" + mark(e),
                entry_value(e, F.ASSESSMENT_HOURS, current),
            )
            for e in application.additional_education.all()
            if counted(e)
        ],
        experience=[
            (e.employer + mark(e), entry_value(e, F.DATE_FROM, current), entry_value(e, F.DATE_TO, current))
            for e in application.experience.all()
            if counted(e)
        ],
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
    """The decision in force or on its way: not a draft sent back, nor a refusal cancelled on a
    complaint (p.88)."""
    return (
        application.decisions.exclude(state__in=[Decision.State.RETURNED, Decision.State.CANCELLED])
        .order_by("-drafted_at", "-id")
        .first()
    )


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
    """The letter of the decision in force: the letter of a refusal cancelled on a complaint is not."""
    return application.notices.exclude(decision__state=Decision.State.CANCELLED).order_by("-issued_at").first()


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
    """Received, registered, under review, decision, notice, the test, then the steps the apps above
    add (exam.admission.stages.TIMELINE_PROVIDERS: the decision on attestation, the certificate, the
    registry entry): each with its date and, for the step under way, its deadline."""
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
    if decision is not None and decision.is_admission:
        steps.append(_test_step(application, decision))
        for provider in TIMELINE_PROVIDERS.values():
            steps.extend(provider(application))
    return steps


def _test_step(application: Application, decision: Decision) -> Step:
    """The test (p.55-57): its date once the last attempt finished, else the date of the sitting."""
    attempt = application.attempts.filter(status=Attempt.Status.FINISHED).order_by("-finished_at", "-pk").first()
    passed = _("Испытание пройдено") if attempt and attempt.passed else _("Испытание не пройдено")
    return Step(
        "test",
        _("Аттестационное испытание"),
        attempt.finished_at if attempt else None,
        detail=passed if attempt else "",
        due_on=calendar.moscow_date(decision.sitting.starts_at) if attempt is None and decision.sitting else None,
        due_label=_("Испытание назначено на"),
    )


# --- The stage of a case --------------------------------------------------------------------------

_STAGE_OF_STATUS = {
    S.DRAFT: Stage.DRAFT,
    S.NOT_ACCEPTED: Stage.NOT_ACCEPTED,
    S.REGISTERED: Stage.REGISTERED,
    S.UNDER_REVIEW: Stage.UNDER_REVIEW,
    S.DECISION_DRAFTED: Stage.DECISION_DRAFTED,
    S.ADMITTED: Stage.ADMITTED,
    S.REFUSED: Stage.REFUSED_ADMISSION,
}


def application_stages(applications: Iterable[Application]) -> dict[int, Stage]:
    """The current stage of each application's case (by pk), for a list: what admission and the
    test say, moved on by what the providers of the apps above report (the furthest stage wins; see
    exam.admission.stages). One query for the attempts plus each provider's own few, whatever the
    length of the list."""
    applications = list(applications)
    stages = {app.pk: _STAGE_OF_STATUS[S(app.status)] for app in applications}
    admitted = [app.pk for app in applications if app.status == S.ADMITTED]
    if admitted:
        tested = Attempt.objects.filter(application_id__in=admitted, status=Attempt.Status.FINISHED)
        for pk in tested.values_list("application_id", flat=True).distinct():
            stages[pk] = Stage.TESTED
    for provider in STAGE_PROVIDERS.values():
        for pk, stage in provider(applications).items():
            if stage.rank > stages[pk].rank:
                stages[pk] = stage
    return stages


def application_stage_pairs(applications: Iterable[Application]) -> list[tuple[Application, Stage]]:
    """The applications of a page's list, each with its stage (application_stages)."""
    applications = list(applications)
    stages = application_stages(applications)
    return [(app, stages[app.pk]) for app in applications]


def application_stage(application: Application) -> Stage:
    """The current stage of one application's case: the words every page and the API show for it."""
    return application_stages([application])[application.pk]


def audit_trail_for(case: Any) -> QuerySet[AuditEvent]:
    return AuditEvent.objects.filter(case_type=ContentType.objects.get_for_model(case), case_id=case.pk).select_related(
        "actor"
    )
