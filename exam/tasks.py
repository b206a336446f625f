"""Celery finds an app's tasks in its ``tasks`` module: these are the two halves' (exam.admission.tasks,
exam.testing.tasks). The halves import their own module, never this one."""

from exam.admission.tasks import exam_reminders_send_due, notice_issue, notice_issue_pending, signature_code_email
from exam.testing.tasks import attempt_finalize, attempt_finalize_second, attempt_sweep

__all__ = [
    "attempt_finalize",
    "attempt_finalize_second",
    "attempt_sweep",
    "exam_reminders_send_due",
    "notice_issue",
    "notice_issue_pending",
    "signature_code_email",
]
