"""Celery tasks of appeals and complaints."""

from __future__ import annotations

from typing import TYPE_CHECKING

from celery import shared_task
from django.db.models import Q

if TYPE_CHECKING:
    from appeals.models import Complaint


@shared_task(bind=True, max_retries=10, default_retry_delay=30)
def complaint_answer_send(self, complaint_id: int) -> None:  # type: ignore[no-untyped-def]
    """Render and sign the answer; a complainant without a cabinet account who gave an e-mail
    address gets it by e-mail with the PDF attached (p.93, p.95)."""
    from appeals.models import Complaint
    from appeals.services import complaint_answer, complaint_answer_emailed

    complaint = Complaint.objects.filter(pk=complaint_id).first()
    if complaint is None:
        return
    try:
        complaint = complaint_answer(complaint=complaint)
        if complaint.answered_at is None and complaint.complainant_id is None and complaint.email:
            _email_answer(complaint)
            complaint_answer_emailed(complaint=complaint)
    except OSError as exc:
        raise self.retry(exc=exc) from exc


def _email_answer(complaint: Complaint) -> None:
    from django.utils.translation import gettext as _

    from core.dispatch import document_email

    document_email(
        to=complaint.email,
        subject=_("Ответ на жалобу № %(n)s") % {"n": complaint.number},
        body=_(
            "Здравствуйте, %(name)s!\n\nНаправляем ответ по результатам рассмотрения вашей жалобы № %(n)s: "
            "%(status)s.\n\nОтвет во вложении (PDF)."
        )
        % {"name": complaint.full_name, "n": complaint.number, "status": complaint.get_status_display()},
        filename=f"answer-{complaint.number}.pdf",
        file=complaint.answer_pdf,
    )


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
