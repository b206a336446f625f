"""Staff roles. Each is a Django group; a staff member may hold several, and every object-level
check names the role it relies on. Candidates hold no role."""

from __future__ import annotations

from enum import StrEnum

from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from core.errors import DomainError
from core.models import User


class Role(StrEnum):
    REGISTRAR = "registrar"
    REVIEWER = "reviewer"
    SIGNATORY = "signatory"
    EXAM_ADMIN = "exam_admin"
    CERTIFICATE_OFFICER = "certificate_officer"
    APPEALS_MEMBER = "appeals_member"
    APPEALS_CHAIR = "appeals_chair"
    COMPLAINT_HANDLER = "complaint_handler"
    AUDITOR = "auditor"


ROLE_LABELS = {
    Role.REGISTRAR: _("Регистратор входящей корреспонденции"),
    Role.REVIEWER: _("Должностное лицо департамента (рассмотрение документов)"),
    Role.SIGNATORY: _("Подписант (директор департамента или заместитель)"),
    Role.EXAM_ADMIN: _("Администратор аттестационного испытания"),
    Role.CERTIFICATE_OFFICER: _("Специалист по сертификатам и реестру"),
    Role.APPEALS_MEMBER: _("Член апелляционной комиссии"),
    Role.APPEALS_CHAIR: _("Председатель апелляционной комиссии"),
    Role.COMPLAINT_HANDLER: _("Рассматривающий жалобы"),
    Role.AUDITOR: _("Аудитор (только просмотр)"),
}


def user_roles(user: User) -> frozenset[Role]:
    """The roles of a signed-in staff member (cached on the user object for the request)."""
    if not user.is_authenticated or not user.is_staff or not user.is_active:
        return frozenset()
    cached: frozenset[Role] | None = getattr(user, "_roles_cache", None)
    if cached is None:
        names = set(user.groups.values_list("name", flat=True))
        cached = frozenset(r for r in Role if r.value in names)
        user._roles_cache = cached  # type: ignore[attr-defined]
    return cached


def has_role(user: User, role: Role) -> bool:
    return role in user_roles(user)


def require_role(user: User, *roles: Role, message: str) -> None:
    """The one role check of the services: the user holds at least one of ``roles``, otherwise the
    domain error the API answers with 403 and the pages show as a message."""
    if not any(has_role(user, role) for role in roles):
        raise DomainError(message, code="forbidden", status=403)


def users_with_role(role: Role | str, *, exclude: User | None = None) -> QuerySet[User]:
    """The active accounts holding ``role`` (each once), e.g. the signatories to tell of a draft;
    ``exclude`` leaves out the one who acted."""
    users = User.objects.filter(groups__name=role, is_active=True).distinct()
    return users.exclude(pk=exclude.pk) if exclude is not None else users


def is_candidate(user: User) -> bool:
    return bool(user.is_authenticated and not user.is_staff)
