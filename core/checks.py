"""Checks of the data that `manage.py check --database default` runs (deploys run it after migrate)."""

from __future__ import annotations

from typing import Any

from django.core.checks import CheckMessage, Tags, Warning, register
from django.db.models import Q


def _staff_of_role_lacking(role: str, lacking: Q, *, msg: str, hint: str, id: str) -> list[CheckMessage]:
    """A warning naming the staff of ``role`` whose position is ``lacking``."""
    from django.db import DatabaseError

    from core.roles import users_with_role

    try:
        emails = list(users_with_role(role).filter(lacking).values_list("email", flat=True))
    except DatabaseError:  # not migrated yet
        return []
    if not emails:
        return []
    return [Warning(f"{msg}: " + ", ".join(sorted(emails)), hint=hint, id=id)]


@register(Tags.database)
def signatories_have_positions(app_configs: Any = None, **_kwargs: Any) -> list[CheckMessage]:
    """p.49-50: who may sign depends on the position; a signatory without one can sign nothing."""
    from core.roles import Role

    return _staff_of_role_lacking(
        Role.SIGNATORY,
        Q(position=""),
        msg="Signatories without a position cannot sign admission notices or refusal letters (p.49-50)",
        hint="Set each signatory's position (director, deputy director) in the admin.",
        id="core.W001",
    )


@register(Tags.database)
def complaint_handlers_are_deputy_ministers(app_configs: Any = None, **_kwargs: Any) -> list[CheckMessage]:
    """p.80: a deputy minister decides complaints; a complaint handler of another position decides none."""
    from core.models import User
    from core.roles import Role

    return _staff_of_role_lacking(
        Role.COMPLAINT_HANDLER,
        ~Q(position=User.Position.DEPUTY_MINISTER),
        msg="Complaint handlers who are not deputy ministers cannot decide complaints (p.80)",
        hint="Set each complaint handler's position (deputy minister) in the admin.",
        id="core.W002",
    )


@register()
def gost_engine_available(app_configs: Any = None, **_kwargs: Any) -> list[CheckMessage]:
    """Qualified signatures (core/qes) are checked and made by OpenSSL with Debian's GOST engine."""
    from django.core.checks import Error

    from core.qes.openssl import gost_available

    if gost_available():
        return []
    return [
        Error(
            "OpenSSL's GOST engine does not load: qualified signatures can be neither checked nor made",
            hint="apt-get install libengine-gost-openssl (.ci/system-deps installs it); QES_OPENSSL names openssl",
            id="core.E001",
        )
    ]
