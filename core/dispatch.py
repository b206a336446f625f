"""Sending a signed letter to a person without a cabinet account (p.52, p.64): by e-mail with the
PDF attached when an address was given, otherwise on paper, recorded by the registrar (registered
mail with its tracking number, or handed over in person). The admission notice or refusal letter and
the decision on attestation share it; the dispatch, not the rendering, meets the letter's term."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TypeVar

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import models, transaction
from django.db.models.fields.files import FieldFile
from django.utils import timezone
from django.utils.translation import gettext as _

from core.errors import DomainError, allowed
from core.models import DispatchChannel, Dispatched, User
from core.qes.documents import signature_of_content
from core.roles import Role, has_role, require_role
from core.services import MessageText, audit_record, deadline_close

# Russian Post's item identifiers: 14 digits for a domestic item, or the UPU S10 form of 13
# characters (two letters, eight digits and a check digit, the country code) for an international one.
TRACKING_NUMBER = re.compile(r"[0-9]{14}|[A-Z]{2}[0-9]{9}[A-Z]{2}")


STAFF_CHANNELS = (DispatchChannel.POST, DispatchChannel.IN_PERSON)

L = TypeVar("L", bound=Dispatched)


def tracking_number_clean(value: str, *, field: str) -> str:
    """A Russian Post tracking number, spaces removed and upper-cased; otherwise a DomainError on ``field``."""
    number = "".join((value or "").split()).upper()
    if not TRACKING_NUMBER.fullmatch(number):
        raise DomainError(
            _(
                "Укажите почтовый идентификатор: 14 цифр (внутреннее отправление) или 13 знаков вида RA123456789RU (международное)."
            ),
            fields={field: [_("Неверный почтовый идентификатор.")]},
        )
    return number


def dispatch_check(*, by: User, channel: str, reference: str) -> str:
    """The registrar records a paper dispatch: by registered mail with its tracking number, or
    handed over in person (with an optional note). Returns the reference to store."""
    require_role(by, Role.REGISTRAR, message=_("Отправку документа отмечает регистратор."))
    if channel not in STAFF_CHANNELS:
        raise DomainError(
            _("Выберите способ отправки: заказным почтовым отправлением или лично."),
            fields={"channel": [_("Неверное значение.")]},
        )
    if channel == DispatchChannel.POST:
        return tracking_number_clean(reference, field="reference")
    return reference  # a note on the handing over, optional


def dispatch_refuse_twice(letter: Dispatched) -> None:
    if letter.dispatched_at is not None:
        raise DomainError(
            _("Документ уже направлен %(date)s (%(channel)s).")
            % {
                "date": timezone.localtime(letter.dispatched_at).strftime("%d.%m.%Y"),
                "channel": letter.get_dispatch_channel_display(),  # type: ignore[attr-defined]
            },
            code="already_dispatched",
            status=409,
        )


def dispatch_can_record(*, letter: Dispatched, by: User) -> bool:
    """Whether ``by`` may record the paper dispatch of ``letter`` (the checks of dispatch_check and
    dispatch_refuse_twice): a registrar, and the letter has not gone out yet."""
    return has_role(by, Role.REGISTRAR) and allowed(lambda: dispatch_refuse_twice(letter))


def dispatch_record(
    *,
    letter: Dispatched,
    case: models.Model,
    deadline_kind: str | None,
    channel: str,
    reference: str,
    by: User | None,
    verb: str,
) -> None:
    """The letter went out: store the dispatch, end its term (met or missed now, not at the
    rendering) and write the audit record. Runs inside the caller's transaction on a locked row."""
    letter.dispatched_at, letter.dispatch_channel, letter.dispatch_reference = timezone.now(), channel, reference
    letter.dispatched_by = by
    letter.save(update_fields=["dispatched_at", "dispatch_channel", "dispatch_reference", "dispatched_by"])
    if deadline_kind:
        deadline_close(case=case, kind=deadline_kind, at=letter.dispatched_at)
    audit_record(
        case=case, actor=by, verb=verb, action="event", reason=reference, data={"channel": channel, "letter": letter.pk}
    )


def dispatch_to_cabinet(
    *,
    letter: Dispatched,
    case: models.Model,
    recipient: User,
    subject: MessageText,
    body: MessageText,
    link: str,
    deadline_kind: str | None,
    verb: str,
) -> None:
    """The letter reaches a person with a cabinet account there, with a notification (in the cabinet
    and by e-mail): that is its dispatch (p.52, p.64). Inside the caller's transaction."""
    from core.services import notification_send

    notification_send(recipient=recipient, subject=subject, body=body, link=link)
    dispatch_record(
        letter=letter,
        case=case,
        deadline_kind=deadline_kind,
        channel=DispatchChannel.CABINET,
        reference=recipient.email,
        by=None,
        verb=verb,
    )


def dispatch_by_email(
    *,
    letter: L,
    case: models.Model,
    deadline_kind: str | None,
    verb: str,
    to: str,
    subject: str,
    body: str,
    filename: str,
    content: Callable[[L], bytes] | None = None,
    file: FieldFile | None = None,
    still_due: Callable[[L], bool] | None = None,
) -> L:
    """E-mail the letter with its PDF to the address given on a paper application (p.52, p.64:
    electronically) and record that as its dispatch, once. The letter's row is claimed first: a
    second task (a retry, the sweeper) waits on the lock and then finds it sent. What the PDF is made
    of (``content``, given the locked letter; e.g. a new exam password) is written in the same
    transaction, so a mail server failure (OSError, for the calling task to retry) undoes it."""
    with transaction.atomic():
        locked = type(letter)._default_manager.select_for_update().get(pk=letter.pk)
        if locked.dispatched_at is not None or (still_due is not None and not still_due(locked)):
            return locked
        document_email(
            to=to,
            subject=subject,
            body=body,
            filename=filename,
            content=content(locked) if content is not None else None,
            file=file,
        )
        dispatch_record(
            letter=locked,
            case=case,
            deadline_kind=deadline_kind,
            channel=DispatchChannel.EMAIL,
            reference=to,
            by=None,
            verb=verb,
        )
    return locked


def document_email(
    *, to: str, subject: str, body: str, filename: str, content: bytes | None = None, file: FieldFile | None = None
) -> None:
    """E-mail a letter with its PDF attached (``content``, or the stored ``file``); OSError on a
    mail server failure, for the calling task to retry."""
    if content is None:
        assert file is not None
        with file.open("rb") as fh:
            content = fh.read()
    message = EmailMessage(subject=subject, body=body, from_email=settings.DEFAULT_FROM_EMAIL, to=[to])
    message.attach(filename, content, "application/pdf")
    signed = signature_of_content(content)
    if signed is not None:  # the official's detached signature of exactly these bytes
        message.attach(f"{filename}.sig", bytes(signed.signature), "application/pkcs7-signature")
    message.send()
