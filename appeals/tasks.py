"""Celery tasks of appeals and complaints."""

from __future__ import annotations

from celery import shared_task
from django.db.models import Q


@shared_task(bind=True, max_retries=10, default_retry_delay=30)
def complaint_answer_send(self, complaint_id: int) -> None:  # type: ignore[no-untyped-def]
    """Render and sign the answer; a complainant without a cabinet account who gave an e-mail
    address gets it by e-mail with the PDF attached (p.93, p.95)."""
    from appeals.models import Complaint
    from appeals.services import complaint_answer, complaint_answer_email

    complaint = Complaint.objects.filter(pk=complaint_id).first()
    if complaint is None:
        return
    try:
        complaint_answer_email(complaint=complaint_answer(complaint=complaint))
    except OSError as exc:
        raise self.retry(exc=exc) from exc


@shared_task
def complaint_answer_sweep() -> int:
    """Safety net: every decided complaint whose answer was not signed, or was signed for e-mail and
    not sent (a lost task). Answers awaiting dispatch on paper wait for staff."""
    from appeals.models import Complaint

    ids = list(
        Complaint.objects.filter(decided_at__isnull=False, answered_at__isnull=True)
        .exclude(status=Complaint.Status.UNANSWERED, silence_ground="b")
        .filter(Q(answer_signed_at__isnull=True) | Q(complainant__isnull=True, email__gt=""))
        .values_list("pk", flat=True)[:200]
    )
    for complaint_id in ids:
        complaint_answer_send.delay(complaint_id)
    return len(ids)
