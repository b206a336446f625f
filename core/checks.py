"""Checks of the data that `manage.py check --database default` runs (deploys run it after migrate)."""

from __future__ import annotations

from typing import Any

from django.core.checks import CheckMessage, Tags, Warning, register


@register(Tags.database)
def signatories_have_positions(app_configs: Any = None, **_kwargs: Any) -> list[CheckMessage]:
    """p.49-50: who may sign depends on the position; a signatory without one can sign nothing."""
    from django.db import DatabaseError

    from core.roles import Role, users_with_role

    try:
        emails = list(users_with_role(Role.SIGNATORY).filter(position="").values_list("email", flat=True))
    except DatabaseError:  # not migrated yet
        return []
    if not emails:
        return []
    return [
        Warning(
            "Signatories without a position cannot sign admission notices or refusal letters (p.49-50): "
            + ", ".join(sorted(emails)),
            hint="Set each signatory's position (director, deputy director) in the admin.",
            id="core.W001",
        )
    ]
