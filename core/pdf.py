"""PDF documents, rendered with WeasyPrint and the DejaVu fonts shipped in core/fonts (Cyrillic
renders whatever fonts the machine has)."""

from __future__ import annotations

from pathlib import Path

from django.template.loader import render_to_string
from django.utils import translation

from core.text import for_export

FONTS_DIR = Path(__file__).resolve().parent / "fonts"


def render_pdf(template: str, context: dict[str, object]) -> bytes:
    from weasyprint import HTML  # slow to import: only where a PDF is made

    with translation.override("ru"):
        html = render_to_string(template, {**context, "fonts_dir": FONTS_DIR.as_uri()})
    # Text stored before the text rule may hold control characters: the PDF cannot show them.
    return HTML(string=for_export(html), base_url=str(FONTS_DIR)).write_pdf()
