"""Every write of the admission procedure. Views, the API, the admin and tasks call these."""

from exam.admission.services.applications import (
    application_register_paper,
    application_save_draft,
    application_start,
    application_submit,
    attachment_add,
    attachment_remove,
    signature_request,
    signature_verify,
)
from exam.admission.services.notices import (
    exam_password_can_issue,
    exam_password_issue,
    notice_can_dispatch,
    notice_dispatch,
    notice_email,
    notice_issue,
)
from exam.admission.services.review import (
    application_can_draft,
    application_can_take,
    application_start_review,
    decision_can_return,
    decision_can_sign,
    decision_draft,
    decision_return,
    decision_sign,
)

__all__ = [
    "application_can_draft",
    "application_can_take",
    "application_register_paper",
    "application_save_draft",
    "application_start",
    "application_start_review",
    "application_submit",
    "attachment_add",
    "attachment_remove",
    "decision_can_return",
    "decision_can_sign",
    "decision_draft",
    "decision_return",
    "decision_sign",
    "exam_password_can_issue",
    "exam_password_issue",
    "notice_can_dispatch",
    "notice_dispatch",
    "notice_email",
    "notice_issue",
    "signature_request",
    "signature_verify",
]
