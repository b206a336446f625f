"""PDF documents of the admission procedure, rendered with WeasyPrint and embedded DejaVu fonts
(shipped in exam/fonts so that Cyrillic renders whatever fonts the machine has)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from django.template.loader import render_to_string
from django.utils import timezone, translation

from exam.models import Decision

FONTS_DIR = Path(__file__).resolve().parent / "fonts"


def render_pdf(template: str, context: dict[str, object]) -> bytes:
    from weasyprint import HTML  # slow to import: only where a PDF is made

    with translation.override("ru"):
        html = render_to_string(template, {**context, "fonts_dir": FONTS_DIR.as_uri()})
    return HTML(string=html, base_url=str(FONTS_DIR)).write_pdf()


def notice_context(*, decision: Decision, issued_at: datetime, password: str | None = None) -> dict[str, object]:
    application = decision.application
    credential = getattr(application, "exam_credential", None)
    sitting = decision.sitting
    return {
        "decision": decision,
        "application": application,
        "issued_at": timezone.localtime(issued_at),
        "sitting": sitting,
        "sitting_start": timezone.localtime(sitting.starts_at) if sitting else None,
        "credential": credential,
        "password": password,
    }


def render_notice_pdf(*, decision: Decision, issued_at: datetime, password: str | None = None) -> bytes:
    """The admission notice (p.53) or the refusal letter (p.50, p.21)."""
    template = (
        "exam/pdf/admission_notice.html" if decision.kind == Decision.Kind.ADMISSION else "exam/pdf/refusal_letter.html"
    )
    return render_pdf(template, notice_context(decision=decision, issued_at=issued_at, password=password))
