"""Sittings of the attestation test, scheduled by the exam administrator."""

from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.utils.translation import gettext as _

from core import dates
from core.errors import DomainError
from core.idempotency import claim_once
from core.models import User
from core.roles import Role, require_role
from core.services import audit_record
from exam.models import Sitting


def sitting_create(
    *,
    by: User,
    starts_at: datetime,
    is_remote: bool,
    place: str,
    capacity: int,
    entry_window_minutes: int = 60,
    token: str = "",
) -> Sitting:
    """The exam administrator schedules a sitting. The same form sent twice (``token``,
    core.idempotency) gives one sitting."""
    require_role(by, Role.EXAM_ADMIN, message=_("Назначать сеансы может только администратор испытания."))
    errors: dict[str, list[str]] = {}
    start_problem = dates.sitting_start_problem(starts_at)
    if start_problem:
        errors["starts_at"] = [start_problem]
    if not is_remote and not place:
        errors["place"] = [_("Укажите место проведения или выберите «дистанционно».")]
    if not 1 <= capacity <= 10000:
        errors["capacity"] = [_("Число мест — от 1 до 10000.")]
    if not 5 <= entry_window_minutes <= 24 * 60:
        errors["entry_window_minutes"] = [_("Окно входа — от 5 минут до суток.")]
    if errors:
        raise DomainError(_("Проверьте параметры сеанса."), fields=errors)
    with transaction.atomic():
        claim = claim_once(model=Sitting, actor=by, token=token)
        if claim.earlier is not None:
            return claim.earlier
        sitting = Sitting.objects.create(
            starts_at=starts_at,
            is_remote=is_remote,
            place="" if is_remote else place,
            capacity=capacity,
            entry_window_minutes=entry_window_minutes,
            created_by=by,
        )
        claim.bind(sitting)
        audit_record(case=sitting, actor=by, verb="sitting_create", action="event", data={"capacity": capacity})
    return sitting
