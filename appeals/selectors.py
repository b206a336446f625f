"""Reads of appeals and complaints: the filing window, what the commission sees, repeats, lists."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from django.conf import settings
from django.db.models import Q, QuerySet

from appeals.models import Appeal, Complaint
from core import calendar
from core.errors import NotFound
from core.models import User
from core.roles import Role, user_roles
from exam.models import Attempt

DEADLINE_APPEAL = "appeal.decision"  # p.12(v): 3 months from receipt
DEADLINE_COMPLAINT = "complaint.decision"  # p.87: 15 or 5 working days from registration
DEADLINE_COMPLAINT_ANSWER = "complaint.answer"  # p.93: the next working day after the decision
DEADLINE_COMPLAINT_REMEDY = "complaint.remedy"  # p.89: the certificate within 5 working days


def appeal_window_closes(attempt: Attempt) -> date:
    """The last day to appeal: APPEAL_WINDOW_DAYS calendar days from the result notice (the signed
    decision on attestation, or the end of the test while there is none)."""
    from registry.models import AttestationDecision

    decision = AttestationDecision.objects.filter(attempt=attempt, status="signed").order_by("signed_at").first()
    notified = decision.signed_at if decision and decision.signed_at else attempt.finished_at
    assert notified is not None
    return calendar.moscow_date(notified) + timedelta(days=settings.APPEAL_WINDOW_DAYS)


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


def complaint_repeats(complaint: Complaint) -> Complaint | None:
    """p.91(c): an earlier complaint of the same person on the same subject that was decided."""
    if complaint.complainant_id:
        same_person = Q(complainant_id=complaint.complainant_id)
    else:
        same_person = Q(
            last_name__iexact=complaint.last_name,
            first_name__iexact=complaint.first_name,
            residence__iexact=complaint.residence,
        )
    return (
        Complaint.objects.filter(same_person, subject=complaint.subject, decided_at__isnull=False)
        .filter(status__in=[Complaint.Status.UPHELD, Complaint.Status.REFUSED])
        .exclude(pk=complaint.pk)
        .order_by("-decided_at")
        .first()
    )


def complaint_remedy_open(complaint: Complaint) -> bool:
    from django.contrib.contenttypes.models import ContentType

    from core.models import Deadline

    return Deadline.objects.filter(
        case_type=ContentType.objects.get_for_model(Complaint),
        case_id=complaint.pk,
        kind=DEADLINE_COMPLAINT_REMEDY,
        completed_at__isnull=True,
    ).exists()


def appeals_for(user: User) -> QuerySet[Appeal]:
    q = appeals_visible_q(user)
    return Appeal.objects.filter(q) if q is not None else Appeal.objects.none()


def complaints_for(user: User) -> QuerySet[Complaint]:
    q = complaints_visible_q(user)
    return Complaint.objects.filter(q) if q is not None else Complaint.objects.none()
