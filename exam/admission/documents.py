"""PDF documents of the admission procedure: the admission notice and the refusal letter."""

from __future__ import annotations

from datetime import datetime

from django.utils import timezone

from core.letters import LetterPrint, addressee_of
from core.pdf import render_pdf
from core.qes.documents import Stamp
from exam.models import Decision


def notice_print(*, decision: Decision, issued_at: datetime) -> LetterPrint:
    """The letter as first issued: the application's particulars, the decision's outgoing number
    and signature."""
    return LetterPrint(
        addressee=addressee_of(decision.application),
        outgoing_number=decision.outgoing_number,
        issued_at=issued_at,
        signer=decision.signed_by,
        signed_at=decision.signed_at,
    )


def notice_context(
    *, decision: Decision, issued_at: datetime, password: str | None = None, letter: LetterPrint | None = None
) -> dict[str, object]:
    application = decision.application
    credential = getattr(application, "exam_credential", None)
    sitting = decision.sitting
    return {
        "decision": decision,
        "application": application,
        "letter": letter or notice_print(decision=decision, issued_at=issued_at),
        "sitting": sitting,
        "sitting_start": timezone.localtime(sitting.starts_at) if sitting else None,
        "credential": credential,
        "password": password,
    }


def render_notice_pdf(
    *,
    decision: Decision,
    issued_at: datetime,
    password: str | None = None,
    letter: LetterPrint | None = None,
    stamp: Stamp | None = None,
) -> bytes:
    """The admission notice (p.53) or the refusal letter (p.50, p.21); ``letter``: a corrected
    edition, or one marked as replaced (core.letters); ``stamp``: its qualified signature's."""
    template = (
        "exam/pdf/admission_notice.html" if decision.kind == Decision.Kind.ADMISSION else "exam/pdf/refusal_letter.html"
    )
    context = notice_context(decision=decision, issued_at=issued_at, password=password, letter=letter)
    return render_pdf(template, {**context, "qes_stamp": stamp})
