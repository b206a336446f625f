"""Celery tasks of the attestation test: the attempt's deadline and the sweeper behind it. Each keeps
the name it was registered under before exam/ was split in two (``exam.tasks.<name>``)."""

from __future__ import annotations

from celery import shared_task


@shared_task(name="exam.tasks.attempt_finalize", acks_late=True)
def attempt_finalize(attempt_id: int) -> None:
    """Scheduled for the attempt's deadline: finalise and score it (a moved deadline is left alone)."""
    from exam.testing.services.attempts import attempt_finalize as finalize

    finalize(attempt_id=attempt_id)


@shared_task(name="exam.tasks.attempt_sweep")
def attempt_sweep() -> int:
    """Every few seconds: finalise each attempt past its deadline whose task was lost (a killed
    worker, a restarted Redis)."""
    from exam.testing.services.attempts import attempt_finalize_due

    return attempt_finalize_due()


@shared_task(name="exam.tasks.tests_prepare_due")
def tests_prepare_due() -> int:
    """Every few minutes: draw the individual tests of the sittings about to start, so that the start
    of a sitting, its peak, only stores the clock."""
    from exam.testing.services.attempts import tests_prepare_due as prepare

    return prepare()
