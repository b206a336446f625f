"""Celery tasks of the platform: thin wrappers that load by id and call a service."""

from __future__ import annotations

import logging

from celery import shared_task
from django.conf import settings
from django.core.mail import send_mail
from django.utils import timezone

from core.models import Notification

log = logging.getLogger(__name__)


@shared_task(bind=True, autoretry_for=(OSError,), retry_backoff=True, max_retries=8)
def notification_email(self, notification_id: int) -> None:  # type: ignore[no-untyped-def]
    """E-mail a cabinet notification once (a retried task does not send it twice)."""
    note = Notification.objects.select_related("recipient").filter(pk=notification_id).first()
    if note is None or note.emailed_at is not None:
        return
    link = f"\n\n{settings.SITE_URL}{note.link}" if note.link else ""
    send_mail(
        subject=note.subject,
        message=f"{note.body}{link}",
        from_email=settings.DEFAULT_FROM_EMAIL,
        recipient_list=[note.recipient.email],
    )
    Notification.objects.filter(pk=note.pk).update(emailed_at=timezone.now())


@shared_task
def deadline_flag_due() -> int:
    """Daily: flag open deadlines that are due soon or overdue and remind the responsible staff."""
    from core.services import deadline_flag_all

    return deadline_flag_all()


@shared_task(autoretry_for=(OSError,), retry_backoff=True, max_retries=8)
def email_confirmation_send(user_id: int) -> None:
    from django.utils.translation import gettext as _

    from core.accounts import email_confirmation_url
    from core.models import User

    user = User.objects.filter(pk=user_id, email_confirmed_at__isnull=True).first()
    if user is None:
        return
    send_mail(
        subject=_("Подтвердите адрес электронной почты"),
        message=_(
            "Здравствуйте, %(name)s!\n\nВы зарегистрировались на портале аттестации экспертов по специальной "
            "оценке условий труда. Чтобы подтвердить адрес, откройте ссылку:\n%(url)s\n\n"
            "Если вы не регистрировались, проигнорируйте это письмо."
        )
        % {"name": user.first_name, "url": email_confirmation_url(user)},
        from_email=settings.DEFAULT_FROM_EMAIL,
        recipient_list=[user.email],
    )
