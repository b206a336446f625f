"""Reads shared by pages and the API: deadline marks, the work counts of the staff dashboard and the
corrected editions of letters (core.letters)."""

from __future__ import annotations

from datetime import date

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.db.models import QuerySet
from django.db.models.fields.files import FieldFile

from core import calendar
from core.models import Deadline, LetterEdition, Notification, User
from core.roles import Role, user_roles

OVERDUE = "overdue"
DUE_SOON = "due_soon"


def deadline_mark(*, due_on: date | None, today: date | None = None) -> str:
    """'overdue' once the last day of the term has passed, 'due_soon' within the warning window
    (DEADLINE_DUE_SOON_WORKING_DAYS working days, the due day included), '' otherwise."""
    if due_on is None:
        return ""
    today = today or calendar.today()
    if today > due_on:
        return OVERDUE
    if calendar.working_days_between(today, due_on) < settings.DEADLINE_DUE_SOON_WORKING_DAYS:
        return DUE_SOON
    return ""


def deadline_list_open(*, roles: frozenset[Role] | None = None) -> QuerySet[Deadline]:
    qs = Deadline.objects.filter(completed_at__isnull=True).select_related("case_type", "assignee")
    if roles is not None:
        qs = qs.filter(role__in=[r.value for r in roles])
    return qs.order_by("due_on", "id")


def deadline_counts(*, user: User) -> dict[str, int]:
    """What the staff dashboard counts: open work of the user's roles, due soon and overdue."""
    today = calendar.today()
    counts = {"open": 0, DUE_SOON: 0, OVERDUE: 0}
    for due_on in deadline_list_open(roles=user_roles(user)).values_list("due_on", flat=True):
        counts["open"] += 1
        mark = deadline_mark(due_on=due_on, today=today)
        if mark:
            counts[mark] += 1
    return counts


def notification_list(*, user: User) -> QuerySet[Notification]:
    return Notification.objects.filter(recipient=user)


def notification_unread_count(*, user: User) -> int:
    return Notification.objects.filter(recipient=user, read_at__isnull=True).count()


def letter_editions(letter: models.Model) -> QuerySet[LetterEdition]:
    """The corrected editions of a letter, the first one first (the last one is current)."""
    return LetterEdition.objects.filter(
        letter_type=ContentType.objects.get_for_model(letter), letter_id=letter.pk
    ).select_related("issued_by")


def letter_edition_current(letter: models.Model) -> LetterEdition | None:
    return letter_editions(letter).order_by("-number").first()


def letter_pdf(
    letter: models.Model, *, original: FieldFile, number: int | None = None, replaced: bool = False
) -> FieldFile | None:
    """The PDF of one edition of a letter: the current one (no ``number``), edition ``number`` (1 is
    the letter as first sent, ``original``), or with ``replaced`` the copy of it marked as replaced
    (stored with the edition that replaced it). None when there is no such file."""
    editions = {edition.number: edition for edition in letter_editions(letter)}
    if number is None:
        number = max(editions, default=1)
    if replaced:
        following = editions.get(number + 1)
        return following.previous_pdf if following is not None else None
    if number == 1:
        return original or None
    edition = editions.get(number)
    return edition.pdf if edition is not None else None
