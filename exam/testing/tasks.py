"""Celery tasks of the attestation test: the attempt's deadline and the sweeper behind it. Each keeps
the name it was registered under before exam/ was split in two (``exam.tasks.<name>``)."""

from __future__ import annotations

import time

from celery import shared_task


@shared_task(name="exam.tasks.attempt_finalize", acks_late=True)
def attempt_finalize(attempt_id: int) -> None:
    """Scheduled for one attempt's deadline: finalise and score it (a moved deadline is left alone).
    What the start sent until the tasks of a second of deadlines came, kept for the messages
    already in a queue."""
    from exam.testing.services.attempts import attempt_finalize as finalize

    finalize(attempt_id=attempt_id)


@shared_task(name="exam.tasks.attempt_finalize_second", bind=True, acks_late=True, max_retries=5)
def attempt_finalize_second(self, second: int) -> int:  # type: ignore[no-untyped-def]
    """Scheduled for the end of a second of deadlines (finalisation_schedule): finalise and score
    every attempt due in it. A worker whose clock is behind the node that scheduled it waits for
    the second to end rather than finalise nobody."""
    from exam.testing.services.attempts import attempt_finalize_second as finalize

    early = second - time.time()
    if early > 0 and not self.request.is_eager:
        raise self.retry(countdown=early)
    return finalize(second=second)


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
