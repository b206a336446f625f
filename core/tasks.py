"""Celery tasks of the platform: thin wrappers that load by id and call a service."""

from __future__ import annotations

import logging
from typing import Any

from celery import shared_task
from django.conf import settings
from django.core.mail import send_mail
from django.utils import timezone

from core.models import Notification
from core.site import absolute_url

log = logging.getLogger(__name__)


@shared_task(bind=True, autoretry_for=(OSError,), retry_backoff=True, max_retries=8)
def notification_email(self, notification_id: int) -> None:  # type: ignore[no-untyped-def]
    """E-mail a cabinet notification once (a retried task does not send it twice)."""
    note = Notification.objects.select_related("recipient").filter(pk=notification_id).first()
    if note is None or note.emailed_at is not None:
        return
    link = f"\n\n{absolute_url(note.link)}" if note.link else ""
    send_mail(
        subject=note.subject,
        message=f"{note.body}{link}",
        from_email=settings.DEFAULT_FROM_EMAIL,
        recipient_list=[note.recipient.email],
    )
    Notification.objects.filter(pk=note.pk).update(emailed_at=timezone.now())


@shared_task
def deadline_flag_due() -> int:
    """Daily: mark open deadlines due soon or overdue and send each responsible staff member the
    day's list of them (once a day)."""
    from core.services import deadline_remind_all

    return deadline_remind_all()


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


def enqueue(task: Any, *args: Any, eta: Any = None) -> bool:
    """Send a task after commit, best effort: when the broker is down the state in the database
    stays, and the periodic sweeper of that kind of work picks it up. Returns whether it was sent."""
    try:
        if eta is None:
            task.delay(*args)
        else:
            task.apply_async(args, eta=eta)
    except Exception:  # kombu raises several kinds for an unreachable broker
        log.warning(
            "could not enqueue %s%r; its sweeper will catch up", getattr(task, "name", task), args, exc_info=True
        )
        return False
    return True


@shared_task
def orphan_files_sweep() -> dict[str, Any]:
    """Daily: delete the files no row names, older than a day, and report them (core.files)."""
    from core.files import orphan_files_clean_up

    return orphan_files_clean_up()


@shared_task
def notification_email_pending() -> int:
    """Safety net: e-mail the notifications whose task was lost (broker down at the time)."""
    from datetime import timedelta

    stale = timezone.now() - timedelta(minutes=2)
    ids = list(
        Notification.objects.filter(emailed_at__isnull=True, created_at__lt=stale).values_list("pk", flat=True)[:500]
    )
    for note_id in ids:
        notification_email(note_id)
    return len(ids)


@shared_task(bind=True, max_retries=10, default_retry_delay=30)
def letter_edition_email(self, edition_id: int) -> None:  # type: ignore[no-untyped-def]
    """E-mail a corrected edition of a letter to the address it prints (core.letters)."""
    from core.letters import letter_edition_email as email
    from core.models import LetterEdition

    edition = LetterEdition.objects.filter(pk=edition_id).first()
    if edition is None:
        return
    try:
        email(edition=edition)
    except OSError as exc:
        raise self.retry(exc=exc) from exc


@shared_task
def letter_edition_email_pending() -> int:
    """Safety net: e-mail the corrected editions whose task was lost (no cabinet, an address, not
    sent) a few minutes after their issue."""
    from datetime import timedelta

    from core.models import LetterEdition

    stale = timezone.now() - timedelta(minutes=2)
    ids = list(
        LetterEdition.objects.filter(dispatched_at__isnull=True, issued_at__lt=stale)
        .exclude(particulars__email="")
        .values_list("pk", flat=True)[:200]
    )
    for edition_id in ids:
        letter_edition_email.delay(edition_id)
    return len(ids)
