from __future__ import annotations

from typing import Any

from django import template
from django.utils.translation import gettext as _

from core.selectors import DUE_SOON, OVERDUE, deadline_mark

register = template.Library()


@register.inclusion_tag("frontend/includes/deadline.html")
def deadline(due_on: Any) -> dict[str, Any]:
    mark = deadline_mark(due_on=due_on)
    labels = {OVERDUE: _("просрочено"), DUE_SOON: _("срок истекает")}
    return {"due_on": due_on, "mark": mark, "label": labels.get(mark, "")}


@register.filter
def deadline_kind(kind: str) -> str:
    from core.services import deadline_kind_label

    return deadline_kind_label(kind)


@register.filter
def areas(areas_text: str) -> str:
    """A certificate's areas of activity (stored in Russian) in the language of the page."""
    from registry.models import AreaOfActivity

    return "; ".join(AreaOfActivity.shown_titles([a for a in (areas_text or "").split("; ") if a]))


@register.filter
def role_label(role: str) -> str:
    """A role's name as people read it (a term's responsible role, core.roles)."""
    from core.roles import ROLE_LABELS, Role

    try:
        return str(ROLE_LABELS[Role(role)])
    except ValueError:
        return ""
