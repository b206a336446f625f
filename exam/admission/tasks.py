"""Celery tasks of admission: load by id, call the service; retries live here. Each keeps the name
it was registered under before exam/ was split in two (``exam.tasks.<name>``): tasks already queued
and the beat schedule use it."""

from __future__ import annotations

from celery import shared_task
from django.conf import settings
from django.core.mail import send_mail
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from exam.models import Decision, Notice, SignatureChallenge


@shared_task(name="exam.tasks.signature_code_email", autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def signature_code_email(challenge_id: int, code: str) -> None:
    """E-mail the one-time signing code (never put in the cabinet or the audit trail)."""
    challenge = SignatureChallenge.objects.select_related("signer", "application").filter(pk=challenge_id).first()
    if challenge is None or challenge.used_at is not None or challenge.expires_at <= timezone.now():
        return
    minutes = int(settings.SIGNATURE_CODE_TTL.total_seconds() // 60)
    send_mail(
        subject=_("Код для подписания заявления"),
        message=ngettext(
            "Ваш код для подписания заявления простой электронной подписью: %(code)s\n"
            "Код действует %(minutes)d минуту. Никому его не сообщайте.\n"
            "Если вы не подавали заявление, проигнорируйте это письмо.",
            "Ваш код для подписания заявления простой электронной подписью: %(code)s\n"
            "Код действует %(minutes)d минут. Никому его не сообщайте.\n"
            "Если вы не подавали заявление, проигнорируйте это письмо.",
            minutes,
        )
        % {"code": code, "minutes": minutes},
        from_email=settings.DEFAULT_FROM_EMAIL,
        recipient_list=[challenge.signer.email],
    )


@shared_task(name="exam.tasks.notice_issue", bind=True, max_retries=10, default_retry_delay=30)
def notice_issue(self, decision_id: int) -> None:  # type: ignore[no-untyped-def]
    """Issue the notice of a signed decision; an applicant without a cabinet account who gave an
    e-mail address gets it by e-mail with the PDF attached (p.52)."""
    from exam.admission.services import notice_email
    from exam.admission.services import notice_issue as issue

    decision = Decision.objects.filter(pk=decision_id).first()
    if decision is None:
        return
    try:
        notice_email(notice=issue(decision=decision))
    except OSError as exc:  # storage or font trouble: try again; the sweeper is the safety net
        raise self.retry(exc=exc) from exc


@shared_task(name="exam.tasks.notice_issue_pending")
def notice_issue_pending() -> int:
    """Safety net: issue the notice of every signed decision that has none yet, and e-mail each one
    issued for e-mail and not sent (a lost task, a mail server down). Letters awaiting the post wait
    for the registrar."""
    pending = Decision.objects.filter(state=Decision.State.SIGNED).exclude(pk__in=Notice.objects.values("decision_id"))
    unsent = (
        Notice.objects.filter(dispatched_at__isnull=True, application__candidate__isnull=True)
        .exclude(application__email="")
        .values_list("decision_id", flat=True)
    )
    count = 0
    for decision_id in [*pending.values_list("pk", flat=True), *unsent]:
        notice_issue.delay(decision_id)
        count += 1
    return count


@shared_task(name="exam.tasks.exam_reminders_send_due")
def exam_reminders_send_due() -> int:
    """The reminder of the sitting the day before it (hourly; each reminder goes out once)."""
    from exam.admission.services import exam_reminders_send_due as send_due

    return send_due()
