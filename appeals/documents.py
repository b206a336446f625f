"""The answer to a complaint (p.94), signed by the handler (p.95)."""

from __future__ import annotations

from datetime import datetime

from django.utils import timezone

from appeals.models import Complaint
from core.pdf import render_pdf
from core.qes.documents import Stamp


def render_answer_pdf(*, complaint: Complaint, signed_at: datetime, digest: str, stamp: Stamp | None = None) -> bytes:
    return render_pdf(
        "appeals/pdf/complaint_answer.html",
        {
            "complaint": complaint,
            "decided_at": timezone.localtime(complaint.decided_at or signed_at),
            "signed_at": timezone.localtime(signed_at),
            "digest": digest,
            "qes_stamp": stamp,
        },
    )
