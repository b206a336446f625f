from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from core.roles import ROLE_LABELS, Role, user_roles


def navigation(request: HttpRequest) -> dict[str, Any]:
    """Roles and unread count for the header of every page."""
    from core.models import User

    user = getattr(request, "user", None)
    if not isinstance(user, User) or not user.is_authenticated:  # e.g. the exam room's principal
        return {"roles": frozenset(), "my_roles": {}}
    from core.selectors import notification_unread_count

    roles = user_roles(user)
    return {
        "roles": roles,
        # Templates test {% if my_roles.reviewer %}: a plain dict, since templates call classes.
        "my_roles": {r.value: True for r in roles},
        "role_names": [str(ROLE_LABELS[r]) for r in Role if r in roles],
        "unread_count": notification_unread_count(user=user),
    }
