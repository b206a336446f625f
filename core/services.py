"""Platform services every procedure uses: the audit trail, notifications, deadlines, counters."""

from __future__ import annotations

import functools
from collections.abc import Callable
from datetime import date, datetime
from typing import Any

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import IntegrityError, models, transaction
from django.db.models import F
from django.utils import timezone, translation
from django.utils.translation import gettext
from django_fsm import can_proceed

from core import calendar
from core.db import insert_row
from core.errors import TransitionNotAllowed
from core.models import AuditEvent, Counter, Deadline, Notification, OutgoingLetter, User
from core.roles import users_with_role
from core.text import one_line

# --- Audit trail ---------------------------------------------------------------------------------


def _actor_label(actor: User | None) -> str:
    if actor is None:
        return "система"
    return f"{actor.full_name} <{actor.email}>"


def audit_record(
    *,
    case: models.Model,
    actor: User | None,
    verb: str,
    action: str = AuditEvent.Action.TRANSITION,
    from_state: str = "",
    to_state: str = "",
    reason: str = "",
    data: dict[str, Any] | None = None,
    ip: str | None = None,
) -> AuditEvent:
    """Append one line to the audit trail: who (``actor``, None for the system), when (now), what
    (``verb``), from which state to which, and why (``reason``). Inserted, never saved again
    (insert_row: one prepared statement)."""
    event = AuditEvent(
        actor=actor if actor is not None and actor.pk else None,
        actor_label=_actor_label(actor),
        action=action,
        verb=verb,
        case_type=ContentType.objects.get_for_model(case),
        case_id=case.pk,
        case_label=str(case)[:255],
        from_state=from_state,
        to_state=to_state,
        reason=reason,
        data=data or {},
        ip=ip,
    )
    insert_row(event)
    return event


def audit_file_viewed(*, case: models.Model, viewer: User, what: str, ip: str | None) -> AuditEvent:
    """Personal data: each time a staff member opens a candidate's file or a document, it is logged."""
    return audit_record(case=case, actor=viewer, verb=what, action=AuditEvent.Action.VIEW, ip=ip)


def transition_check(*, case: models.Model, name: str) -> None:
    """The case's transition table (django-fsm) allows ``name`` from its current status, otherwise the
    domain error (409) naming the status."""
    if not can_proceed(getattr(case, name)):
        status_label = getattr(case, "get_status_display", lambda: case.status)()  # type: ignore[attr-defined]
        raise TransitionNotAllowed(
            gettext("Действие недоступно: дело находится в состоянии «%(status)s».") % {"status": status_label}
        )


def case_transition(
    *,
    case: models.Model,
    name: str,
    by: User | None,
    reason: str = "",
    fields: tuple[str, ...] = (),
    data: dict[str, Any] | None = None,
    ip: str | None = None,
) -> AuditEvent:
    """Apply the transition ``name`` declared on the case's model (django-fsm), save the status with
    the other changed ``fields`` and write the audit record. The caller holds the row lock and the
    transaction. A transition the table does not allow raises a domain error (409)."""
    transition_check(case=case, name=name)
    method = getattr(case, name)
    from_state = case.status  # type: ignore[attr-defined]
    method()
    update = ["status", *fields]
    if any(f.name == "updated_at" for f in case._meta.concrete_fields):
        update.append("updated_at")
    case.save(update_fields=update)
    return audit_record(
        case=case,
        actor=by,
        verb=name,
        from_state=from_state,
        to_state=case.status,  # type: ignore[attr-defined]
        reason=reason,
        data=data,
        ip=ip,
    )


# --- Notifications -------------------------------------------------------------------------------


# A text of a message: a string as it is (a person's words), or a function that builds it with
# gettext, called once for each language of the site.
MessageText = str | Callable[[], str]


def _rendered(text: MessageText, language: str) -> str:
    if not callable(text):
        return text
    with translation.override(language):
        return str(text())


def _message_texts(subject: MessageText, body: MessageText) -> tuple[dict[str, str], dict[str, dict[str, str]]]:
    """The Russian subject and body, and those of the other languages where they differ."""

    def parts(language: str) -> dict[str, str]:
        # The subject is an e-mail header: one line (a name stored before the text rule may hold a
        # line break, which the mail library refuses), within its column.
        return {"subject": one_line(_rendered(subject, language))[:255], "body": _rendered(body, language)}

    russian = parts(settings.LANGUAGE_CODE)
    others = {code: parts(code) for code, _name in settings.LANGUAGES if code != settings.LANGUAGE_CODE}
    return russian, {code: text for code, text in others.items() if text != russian}


def notification_send(
    *, recipient: User, subject: MessageText, body: MessageText, link: str = "", key: str = ""
) -> Notification:
    """Put a message in the recipient's cabinet and e-mail it after the transaction commits. The
    subject and body built by functions are stored in every language of the site: the cabinet shows
    the message in the language of the page, the e-mail goes in Russian."""
    from core.tasks import enqueue, notification_email

    russian, texts = _message_texts(subject, body)
    subject = russian["subject"]
    note = Notification.objects.create(recipient=recipient, link=link, texts=texts, key=key, **russian)
    transaction.on_commit(lambda: enqueue(notification_email, note.pk))
    transaction.on_commit(lambda: _push_unread(recipient.pk, subject))
    return note


def notification_gather(
    *, recipient: User, key: str, subject: Callable[[int], str], body: MessageText, link: str = ""
) -> Notification:
    """One more message of the kind ``key`` for ``recipient``: counted into the unread one of that
    kind, whose subject (``subject(count)``, with plural forms), body, link and time follow, or, when
    they have read it or there is none, a new one, e-mailed as any other. So a person is e-mailed
    once until they look, however many come meanwhile. The unread message of a kind is one by a
    constraint: two transactions adding the first at once, the second adds to the first's."""
    unread = Notification.objects.select_for_update().filter(recipient=recipient, key=key, read_at__isnull=True)
    for _try in range(3):
        note = unread.first()
        if note is not None:
            count = note.count + 1
            russian, texts = _message_texts(functools.partial(subject, count), body)
            changed = {"count": count, "texts": texts, "link": link, "created_at": timezone.now(), **russian}
            unread.filter(pk=note.pk).update(**changed)
            for name, value in changed.items():
                setattr(note, name, value)
            return note
        try:
            with transaction.atomic():  # a savepoint: a lost race leaves the transaction usable
                return notification_send(
                    recipient=recipient, subject=functools.partial(subject, 1), body=body, link=link, key=key
                )
        except IntegrityError:
            continue  # another transaction's first message of the kind committed meanwhile
    raise RuntimeError(f"could not gather a notification of {key!r} for user {recipient.pk}")


def _push_unread(user_id: int, subject: str) -> None:
    """Tell the user's open pages (WebSocket) about the new message; the cabinet shows it anyway on
    the next page load."""
    from core.consumers import user_group
    from core.realtime import group_send

    count = Notification.objects.filter(recipient_id=user_id, read_at__isnull=True).count()
    group_send(user_group(user_id), {"type": "notification.new", "count": count, "subject": subject})


def notification_mark_read(*, notification: Notification) -> None:
    if notification.read_at is None:
        Notification.objects.filter(pk=notification.pk, read_at__isnull=True).update(read_at=timezone.now())


# --- Deadlines -----------------------------------------------------------------------------------


def deadline_open(
    *,
    case: models.Model,
    kind: str,
    role: str,
    started_on: date,
    working_days: int | None = None,
    months: int | None = None,
) -> Deadline:
    """Start a term counted from the event on ``started_on``: ``working_days`` working days, or
    ``months`` calendar months (moved to a working day), as core.calendar counts them."""
    if (working_days is None) == (months is None):
        raise ValueError("give either working_days or months")
    due_on = (
        calendar.add_working_days(started_on, working_days)
        if working_days is not None
        else calendar.add_months(started_on, months or 0)
    )
    return Deadline.objects.create(
        case_type=ContentType.objects.get_for_model(case),
        case_id=case.pk,
        kind=kind,
        role=role,
        started_on=started_on,
        due_on=due_on,
    )


def deadline_close(*, case: models.Model, kind: str, cancelled: bool = False, at: datetime | None = None) -> None:
    """End the open term ``kind`` of the case (now, or ``at`` the moment its step was done): its
    step was done, or (``cancelled``) the term no longer runs because what it ran on went away, e.g.
    a decision superseded after an appeal. A cancelled term is left out of the report's share done
    within the deadline."""
    now = at or timezone.now()
    Deadline.objects.filter(
        case_type=ContentType.objects.get_for_model(case),
        case_id=case.pk,
        kind=kind,
        completed_at__isnull=True,
    ).update(completed_at=now, cancelled_at=now if cancelled else None)


def deadline_met_now(*, case: models.Model, kind: str, role: str, started_on: date, working_days: int) -> Deadline:
    """A term whose step is done in the act that records it (a paper document registered days after
    it arrived): opened from ``started_on`` and closed now, met or missed, for the report to count."""
    deadline = deadline_open(case=case, kind=kind, role=role, started_on=started_on, working_days=working_days)
    deadline_close(case=case, kind=kind)
    return deadline


# --- Counters ------------------------------------------------------------------------------------


def counter_next(*, scope: str, year: int) -> int:
    """The next value of a gap-free yearly sequence. Must run inside the caller's transaction: the
    row stays locked until it commits, and a rollback returns the number."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("counter_next must run inside a transaction")
    Counter.objects.bulk_create([Counter(scope=scope, year=year, value=0)], ignore_conflicts=True)
    Counter.objects.filter(scope=scope, year=year).update(value=F("value") + 1)
    return Counter.objects.get(scope=scope, year=year).value


def outgoing_number_assign(*, letter: models.Model, kind: OutgoingLetter.Kind, signed_at: datetime) -> str:
    """The outgoing number (исходящий номер) of a letter the ministry signs — an admission notice, a
    refusal letter (p.52), a decision on attestation (p.64), a complaint answer (p.93) — from the
    one gap-free counter of all of them, in OUTGOING_NUMBER_FORMAT (a yearly series when it carries
    {year}, of the year of signing in Moscow). Entered in the journal of outgoing letters, unique
    across the kinds, and stored on the letter's row (``outgoing_number``). A letter keeps the
    number it has. Runs inside the caller's transaction, on the locked letter."""
    current: str | None = getattr(letter, "outgoing_number", None)
    if current:
        return current
    number_format = settings.OUTGOING_NUMBER_FORMAT
    year = calendar.moscow_date(signed_at).year
    seq = counter_next(scope="outgoing", year=year if "{year" in number_format else 0)
    number = number_format.format(year=year, seq=seq)
    OutgoingLetter.objects.create(
        number=number,
        kind=kind,
        case_type=ContentType.objects.get_for_model(letter),
        case_id=letter.pk,
        signed_at=signed_at,
    )
    type(letter)._default_manager.filter(pk=letter.pk).update(outgoing_number=number)
    letter.outgoing_number = number  # type: ignore[attr-defined]
    return number


def deadline_responsible(*, deadline: Deadline) -> list[User]:
    """Who answers for a term: the assignee, or every active staff member holding its role."""
    if deadline.assignee_id:
        return [deadline.assignee] if deadline.assignee is not None and deadline.assignee.is_active else []
    return list(users_with_role(deadline.role))


def _digest_texts(
    items: list[tuple[str, Deadline]], *, today: date, overdue: int
) -> tuple[Callable[[], str], Callable[[], str]]:
    """The subject and body of a day's reminder, built in the language they are rendered in."""
    from django.utils.translation import gettext as _

    from core.selectors import OVERDUE

    def subject() -> str:
        return _("Сроки на %(day)s: просрочено %(overdue)d, истекает %(soon)d") % {
            "day": today.strftime("%d.%m.%Y"),
            "overdue": overdue,
            "soon": len(items) - overdue,
        }

    def body() -> str:
        lines = []
        for mark, deadline in items:
            case = deadline.case
            label = str(case) if case is not None else f"#{deadline.case_id}"
            state = _("просрочен") if mark == OVERDUE else _("истекает")
            lines.append(
                _("— %(case)s: «%(kind)s», срок %(due)s (%(state)s)")
                % {
                    "case": label,
                    "kind": deadline_kind_label(deadline.kind),
                    "due": deadline.due_on.strftime("%d.%m.%Y"),
                    "state": state,
                }
            )
        return "\n".join(lines)

    return subject, body


def deadline_remind_all() -> int:
    """The daily reminder to the responsible staff: each person gets one message (cabinet and
    e-mail) listing every open term of theirs that is overdue or due soon, overdue first, and at
    most one a day, however many times the task runs. Also keeps each term's mark up to date.
    Returns how many people were reminded."""
    from django.urls import reverse

    from core.models import ReminderDigest
    from core.selectors import OVERDUE, deadline_list_open, deadline_mark

    today = calendar.today()
    lists: dict[int, tuple[User, list[tuple[str, Deadline]]]] = {}
    for deadline in deadline_list_open():
        mark = deadline_mark(due_on=deadline.due_on, today=today)
        if mark != deadline.flag:
            Deadline.objects.filter(pk=deadline.pk).update(flag=mark)
        if not mark:
            continue
        for user in deadline_responsible(deadline=deadline):
            lists.setdefault(user.pk, (user, []))[1].append((mark, deadline))

    reminded = 0
    for user, items in lists.values():
        items.sort(key=lambda item: (item[0] != OVERDUE, item[1].due_on, item[1].pk))
        overdue = sum(1 for mark, _d in items if mark == OVERDUE)
        subject, body = _digest_texts(items, today=today, overdue=overdue)
        with transaction.atomic():
            digest, created = ReminderDigest.objects.get_or_create(recipient=user, day=today)
            if not created:
                continue
            digest.notification = notification_send(
                recipient=user, subject=subject, body=body, link=reverse("frontend:staff_dashboard")
            )
            digest.save(update_fields=["notification"])
            Deadline.objects.filter(pk__in=[d.pk for _m, d in items]).update(flagged_at=timezone.now())
        reminded += 1
    return reminded


DEADLINE_KINDS: dict[str, str] = {}


def deadline_kind_register(kind: str, label: Any) -> str:
    """Each app registers the names of its terms (shown to staff and in reminders)."""
    DEADLINE_KINDS[kind] = label
    return kind


def deadline_kind_label(kind: str) -> str:
    return str(DEADLINE_KINDS.get(kind, kind))
