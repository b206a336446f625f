"""The answer to a complaint (p.94), signed by the handler (p.95)."""

from __future__ import annotations

from django.utils import timezone

from appeals.models import Complaint
from core.pdf import render_pdf


def render_answer_pdf(*, complaint: Complaint) -> bytes:
    return render_pdf(
        "appeals/pdf/complaint_answer.html",
        {"complaint": complaint, "decided_at": timezone.localtime(complaint.decided_at or timezone.now())},
    )
