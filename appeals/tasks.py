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
def complaint_confirmation_files_release() -> int:
    """Hourly: delete the documents of held complaints whose confirmation link expired unused."""
    from appeals.services import complaint_confirmation_files_release as release

    return release()


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


@shared_task(autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def complaint_confirmation_email(confirmation_id: int, token: str) -> None:
    """E-mail the link that confirms a complaint sent without a cabinet account (the secret travels
    in the task only: the row keeps its hash)."""
    from django.conf import settings
    from django.core.mail import send_mail
    from django.urls import reverse
    from django.utils import timezone
    from django.utils.translation import gettext as _
    from django.utils.translation import ngettext

    from appeals.models import ComplaintConfirmation
    from core.site import absolute_url

    confirmation = ComplaintConfirmation.objects.filter(pk=confirmation_id).first()
    if confirmation is None or confirmation.complaint_id is not None or confirmation.expires_at <= timezone.now():
        return
    link = absolute_url(reverse("frontend:complaint_confirm", args=[token]))
    hours = int(settings.COMPLAINT_CONFIRMATION_MAX_AGE.total_seconds() // 3600)
    send_mail(
        subject=_("Подтвердите подачу жалобы"),
        message=_(
            "На сайте аттестации экспертов СОУТ Минтруда России составлена жалоба с этим адресом для ответа.\n"
            "Чтобы подать её, откройте ссылку и подтвердите подачу:\n%(link)s"
        )
        % {"link": link}
        + "\n\n"
        + ngettext("Ссылка действует %(hours)d час.", "Ссылка действует %(hours)d часов.", hours) % {"hours": hours}
        + " "
        + _(
            "Жалоба регистрируется после подтверждения; срок её рассмотрения считается со дня регистрации "
            "(п. 86-87 Регламента). Если вы не составляли жалобу, ничего не делайте: без подтверждения она "
            "не будет подана."
        ),
        from_email=settings.DEFAULT_FROM_EMAIL,
        recipient_list=[confirmation.email],
    )
