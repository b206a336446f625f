from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from core.roles import ROLE_LABELS, Role, user_roles


def navigation(request: HttpRequest) -> dict[str, Any]:
    """Roles and unread count for the header of every page."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"roles": frozenset(), "Role": Role}
    from core.selectors import notification_unread_count

    roles = user_roles(user)
    return {
        "roles": roles,
        "role_names": [str(ROLE_LABELS[r]) for r in Role if r in roles],
        "Role": Role,
        "unread_count": notification_unread_count(user=user),
    }
