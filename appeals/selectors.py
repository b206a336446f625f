"""Reads of appeals and complaints: the filing window, what the commission sees, repeats, lists."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import date, timedelta
from typing import Any

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db.models import Q, QuerySet

from appeals.models import Appeal, Complaint
from core import calendar
from core.errors import NotFound
from core.models import Deadline, User
from core.roles import Role, user_roles
from core.uploads import CheckedFile
from exam.admission.stages import Stage
from exam.models import Application, Attempt

DEADLINE_APPEAL = "appeal.decision"  # p.12(v): 3 months from receipt
DEADLINE_COMPLAINT = "complaint.decision"  # p.87: 15 or 5 working days from registration
DEADLINE_COMPLAINT_ANSWER = "complaint.answer"  # p.93: the next working day after the decision
DEADLINE_COMPLAINT_REMEDY = "complaint.remedy"  # p.89: an upheld complaint's remedy (5 working days)
DEADLINE_COMPLAINT_REGISTRATION = "complaint.registration"  # p.86: the next working day after receipt


def appeal_window_closes(attempt: Attempt) -> date:
    """The last day to appeal: APPEAL_WINDOW_DAYS calendar days from the result notice (the signed
    decision on attestation, or the end of the test while there is none); a last day that is not a
    working day moves to the next working day (Civil Code art. 193)."""
    from registry.models import AttestationDecision

    decision = AttestationDecision.objects.filter(attempt=attempt, status="signed").order_by("signed_at").first()
    notified = decision.signed_at if decision and decision.signed_at else attempt.finished_at
    assert notified is not None
    return calendar.working_day_on_or_after(
        calendar.moscow_date(notified) + timedelta(days=settings.APPEAL_WINDOW_DAYS)
    )


def appeals_visible_q(user: User) -> Q | None:
    if not user.is_authenticated:
        return None
    if not user.is_staff:
        return Q(candidate=user)
    roles = user_roles(user)
    if roles & {Role.APPEALS_MEMBER, Role.APPEALS_CHAIR, Role.AUDITOR}:
        return Q()
    return None


def appeal_get(*, user: User, pk: Any) -> Appeal:
    q = appeals_visible_q(user)
    try:
        appeal = (
            Appeal.objects.filter(q).select_related("attempt", "candidate", "application").get(pk=int(pk))
            if q is not None
            else None
        )
    except (Appeal.DoesNotExist, TypeError, ValueError):
        appeal = None
    if appeal is None:
        raise NotFound()
    return appeal


def appeal_attempt_in_full(appeal: Appeal) -> list[dict[str, Any]]:
    """What the commission sees: each question version as shown (text, options in the shown order),
    the candidate's answer, the correct answers and the scoring."""
    rows = []
    for item in appeal.attempt.items.select_related("version__question").order_by("position"):
        version = item.version
        rows.append(
            {
                "position": item.position,
                "code": version.question.code,
                "version": version.number,
                "text": version.text,
                "options": [
                    {
                        "text": version.options[i],
                        "chosen": i in item.answer,
                        "correct": i in version.correct,
                    }
                    for i in item.option_order
                ],
                "is_correct": item.is_correct,
                "voided": item.voided,
                "rescored": item.rescored,
            }
        )
    return rows


def complaints_visible_q(user: User) -> Q | None:
    if not user.is_authenticated:
        return None
    if not user.is_staff:
        return Q(complainant=user)
    roles = user_roles(user)
    if roles & {Role.COMPLAINT_HANDLER, Role.AUDITOR, Role.REGISTRAR, Role.CERTIFICATE_OFFICER}:
        return Q()
    if Role.SIGNATORY in roles:
        # A signatory signs the letters corrected on an upheld complaint (p.78(g)): those complaints
        # only, not every complainant's file.
        return Q(status=Complaint.Status.UPHELD, remedy=Complaint.Remedy.CORRECT_ERRORS)
    return None


def complaint_get(*, user: User, pk: Any) -> Complaint:
    q = complaints_visible_q(user)
    try:
        complaint = Complaint.objects.filter(q).get(pk=int(pk)) if q is not None else None
    except (Complaint.DoesNotExist, TypeError, ValueError):
        complaint = None
    if complaint is None:
        raise NotFound()
    return complaint


def _normalised(text: str) -> str:
    """Case, «ё», punctuation and spacing do not make another person or another address."""
    cleaned = re.sub(r"[\W_]+", " ", text.lower().replace("ё", "е"))
    return " ".join(cleaned.split())


def person_key(*, last_name: str, first_name: str, patronymic: str = "") -> str:
    return _normalised(f"{last_name} {first_name} {patronymic}")[:300]


def _addresses(complaint: Complaint) -> set[str]:
    return {a for a in (_normalised(complaint.residence), _normalised(complaint.postal_address)) if a}


# p.91(c): "a decision on the complaint": an answer on its merits, upheld or refused because the
# arguments were not confirmed. A complaint left unanswered (p.92), or refused on ground (a), (b) or
# as a repeat itself, was not answered on its merits.
ANSWERED_ON_MERITS = Q(status=Complaint.Status.UPHELD) | Q(
    status=Complaint.Status.REFUSED, refusal_ground=Complaint.RefusalGround.UNFOUNDED
)


def complaint_repeats(complaint: Complaint) -> Complaint | None:
    """p.91(c): an earlier complaint answered on its merits, of the same person, about the same
    decision or action: the same subject of p.78 and the same application (the case the complaint
    concerns, ``related_application``). The same subject about another case is a new complaint; a
    complaint whose case is not established repeats nothing. The same person is the same cabinet
    account, or, from any channel (a paper complaint has no account), the same full name with the
    same residence or postal address."""
    if complaint.related_application_id is None:
        return None
    key = complaint.person_key or person_key(
        last_name=complaint.last_name, first_name=complaint.first_name, patronymic=complaint.patronymic
    )
    same_person = Q(person_key=key)
    if complaint.complainant_id:
        same_person |= Q(complainant_id=complaint.complainant_id)
    earlier = (
        Complaint.objects.filter(
            same_person,
            subject=complaint.subject,
            related_application_id=complaint.related_application_id,
            decided_at__isnull=False,
        )
        .filter(ANSWERED_ON_MERITS)
        .exclude(pk=complaint.pk)
        .order_by("-decided_at")
    )
    addresses = _addresses(complaint)
    for other in earlier:
        if complaint.complainant_id and other.complainant_id == complaint.complainant_id:
            return other
        if addresses & _addresses(other):
            return other
    return None


def complaint_registration_due(complaint: Complaint) -> date:
    """p.86: the last day to register, the next working day after the day of receipt (a complaint
    received out of office hours counts as received on the next working day)."""
    return calendar.add_working_days(calendar.effective_receipt_date(complaint.received_at), 1)


def complaint_registered_late(complaint: Complaint) -> bool:
    if complaint.registered_at is None:
        return False
    return calendar.moscow_date(complaint.registered_at) > complaint_registration_due(complaint)


def complaint_application_for(
    *, complainant: User | None, email: str, last_name: str, first_name: str, patronymic: str
) -> Application | None:
    """The complainant's latest application (the case a remedy such as a certificate to issue acts
    on): the cabinet account's own, or for a paper complaint the one with the same e-mail address
    and the same full name (relatives may share an address and a surname). None when it cannot be
    told."""
    applications = Application.objects.exclude(status=Application.Status.DRAFT).order_by("-created_at", "-pk")
    if complainant is not None:
        return applications.filter(candidate=complainant).first()
    if not email:
        return None
    key = person_key(last_name=last_name, first_name=first_name, patronymic=patronymic)
    for application in applications.filter(Q(email__iexact=email) | Q(candidate__email__iexact=email))[:20]:
        name = person_key(
            last_name=application.last_name, first_name=application.first_name, patronymic=application.patronymic
        )
        if name == key:
            return application
    return None


def complaint_handler_position_last(user: User) -> str:
    """The position the handler signed their last answer with (to prefill the next one)."""
    return (
        Complaint.objects.filter(handler=user)
        .exclude(handler_position="")
        .order_by("-decided_at")
        .values_list("handler_position", flat=True)
        .first()
        or ""
    )


def complaint_answer_document(complaint: Complaint) -> dict[str, Any]:
    """The content of the answer that the handler signs (p.94, items a-g), as stable codes and texts:
    its SHA-256 digest is printed on the answer and kept, so the answer can be checked later."""
    handler = complaint.handler
    decided = complaint.decided_at
    return {
        "authority": "Министерство труда и социальной защиты Российской Федерации",
        "handler": handler.full_name if handler else "",
        "handler_email": handler.email if handler else "",
        "handler_position": complaint.handler_position,
        "number": complaint.number,
        "decided_on": calendar.moscow_date(decided).isoformat() if decided else None,
        "place": "г. Москва",
        "official": complaint.official,
        "complainant": complaint.full_name,
        "subject": complaint.subject,
        "grounds": complaint.decision_text,
        "status": complaint.status,
        "refusal_ground": complaint.refusal_ground,
        "silence_ground": complaint.silence_ground,
        "remedy": complaint.remedy,
        "remedy_due_on": complaint.remedy_due_on.isoformat() if complaint.remedy_due_on else None,
    }


# What a complaint says (p.79), in the order of the form: the content its complainant signs (p.82).
COMPLAINT_SIGNED_FIELDS = (
    "subject",
    "official",
    "last_name",
    "first_name",
    "patronymic",
    "residence",
    "postal_address",
    "email",
    "phone",
    "decision_complained",
    "arguments",
    "representative_name",
)


def complaint_document(
    *, data: Mapping[str, Any], attachments: Sequence[tuple[str, str, CheckedFile]]
) -> dict[str, Any]:
    """The canonical content of a complaint as it is signed with a qualified electronic signature
    (p.82): the entered fields and each attached file ((kind, name, checked file)) by its SHA-256.
    Computed from what is entered, before anything is saved, and again from what is submitted."""
    return {
        "form": "Жалоба на решения и действия (бездействие) должностных лиц",
        **{field: str(data.get(field) or "") for field in COMPLAINT_SIGNED_FIELDS},
        "by_representative": bool(data.get("by_representative")),
        "attachments": [
            {"kind": kind, "name": name, "size": checked.size, "sha256": checked.sha256}
            for kind, name, checked in attachments
        ],
    }


def complaint_answer_awaits_dispatch(complaint: Complaint) -> bool:
    """p.93: the answer is signed but has not gone out: a complainant with neither a cabinet nor an
    e-mail address (or whose e-mail failed) gets it on paper, and staff record the dispatch."""
    return complaint.answer_signed_at is not None and complaint.answered_at is None


def complaint_remedy_open(complaint: Complaint) -> bool:
    return Deadline.objects.filter(
        case_type=ContentType.objects.get_for_model(Complaint),
        case_id=complaint.pk,
        kind=DEADLINE_COMPLAINT_REMEDY,
        completed_at__isnull=True,
    ).exists()


def complaint_remedy_deadline(complaint: Complaint) -> Deadline | None:
    """The term of the complaint's remedy (p.89), open or done, or None when it has none."""
    return (
        Deadline.objects.filter(
            case_type=ContentType.objects.get_for_model(Complaint), case_id=complaint.pk, kind=DEADLINE_COMPLAINT_REMEDY
        )
        .order_by("-id")
        .first()
    )


def appeals_for(user: User) -> QuerySet[Appeal]:
    q = appeals_visible_q(user)
    return Appeal.objects.filter(q) if q is not None else Appeal.objects.none()


def complaint_correction_documents(complaint: Complaint) -> dict[str, Any]:
    """The documents issued on the complainant's case that a correction of errors (p.78(g)) may
    correct, by the keys of appeals.services.CorrectedDocument: the certificate of the related
    application's person (the latest), the admission notice or refusal letter in force, and the
    signed decision on attestation. Only those that exist; whether each may be corrected now, and by
    whom, its correcting service says."""
    from exam.admission.selectors import notice_for
    from registry.models import AttestationDecision, Certificate
    from registry.selectors import decision_for_application

    application = complaint.related_application
    if application is None:
        return {}
    documents: dict[str, Any] = {
        "certificate": Certificate.objects.filter(decision__application__person_key=application.person_key)
        .order_by("-issued_on", "-pk")
        .first(),
        "notice": notice_for(application),
    }
    decision = decision_for_application(application)
    if decision is not None and decision.status == AttestationDecision.Status.SIGNED:
        documents["attestation_decision"] = decision
    return {key: document for key, document in documents.items() if document is not None}


def complaints_for(user: User) -> QuerySet[Complaint]:
    q = complaints_visible_q(user)
    return Complaint.objects.filter(q) if q is not None else Complaint.objects.none()


APPEAL_UNDER_WAY = (Appeal.Status.REGISTERED, Appeal.Status.UNDER_CONSIDERATION)


def remedy_stages(applications: Sequence[Application]) -> dict[int, Stage]:
    """An appeal (p.12(v)) or a complaint (p.87) under way on a case: while it lasts, it is the
    case's stage (registered with exam in AppealsConfig.ready). Two queries for any list."""
    pks = [app.pk for app in applications if app.status != Application.Status.DRAFT]
    if not pks:
        return {}
    stages = dict.fromkeys(
        Appeal.objects.filter(application_id__in=pks, status__in=APPEAL_UNDER_WAY).values_list(
            "application_id", flat=True
        ),
        Stage.APPEAL,
    )
    complained = Complaint.objects.filter(related_application_id__in=pks, status=Complaint.Status.REGISTERED)
    stages.update(dict.fromkeys(complained.values_list("related_application_id", flat=True), Stage.COMPLAINT))
    return stages
