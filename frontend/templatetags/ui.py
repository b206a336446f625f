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


@register.inclusion_tag("frontend/includes/signature_link.html")
def signature_link(source: Any, original: Any = None) -> dict[str, str]:
    """The ".sig" link beside a PDF link, when the PDF is signed (signature_url)."""
    return {"url": signature_url(source, original)}


@register.simple_tag
def signature_url(source: Any, original: Any = None) -> str:
    """The URL of the detached signature (.sig) of a PDF the ministry signed, "" if unsigned:
    ``source`` a stored file, or a letter with corrected editions and its ``original`` file (the
    current edition's, as letter_pdf_response serves it)."""
    from django.db.models.fields.files import FieldFile
    from django.urls import reverse

    from core.qes.documents import signed_document_of_file
    from core.selectors import letter_pdf

    file = source if isinstance(source, FieldFile) or source is None else letter_pdf(source, original=original)
    signed = signed_document_of_file(file)
    return reverse("frontend:document_signature", args=[signed.sha256]) if signed is not None else ""
