"""The answer to a complaint (p.94), signed by the handler (p.95)."""

from __future__ import annotations

from datetime import datetime

from django.utils import timezone

from appeals.models import Appeal, Complaint
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


def render_appeal_decision_pdf(*, appeal: Appeal, stamp: Stamp | None = None) -> bytes:
    """The commission's decision on an appeal with its reasons, as the candidate keeps it: the result
    before and after, and how many questions were re-scored or voided (not which: that would tell
    the key, see frontend.views.appeals_pages.cabinet_appeal)."""
    from core.letters import LetterPrint, addressee_of
    from exam.testing.selectors import attempt_review_counts

    assert appeal.decided_at is not None
    attempt = appeal.attempt
    return render_pdf(
        "appeals/pdf/appeal_decision.html",
        {
            "appeal": appeal,
            "application": appeal.application,
            "letter": LetterPrint(
                addressee=addressee_of(appeal.application),
                outgoing_number=appeal.number,
                issued_at=timezone.localtime(appeal.decided_at),
                signer=appeal.decided_by,
                signed_at=timezone.localtime(appeal.decided_at),
            ),
            "received_at": timezone.localtime(appeal.received_at),
            "decided_at": timezone.localtime(appeal.decided_at),
            "finished_at": timezone.localtime(attempt.finished_at) if attempt.finished_at else None,
            "question_count": attempt.question_count,
            "passed": attempt.passed,
            "review": attempt_review_counts(attempt) if appeal.status == Appeal.Status.UPHELD else None,
            "qes_stamp": stamp,
        },
    )
