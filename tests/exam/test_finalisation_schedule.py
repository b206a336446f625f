"""The exam clock's tasks: one Celery message per second of deadlines, not one per attempt (the start
of a national sitting sends dozens a second), and that task finalising exactly its second's attempts."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.core.cache import cache

from exam.testing.services import attempts as service
from tests.conftest import tasks_queued
from tests.exam.test_services_attempts import grant, interruption, start

pytestmark = pytest.mark.django_db


def queued() -> list[tuple[str, list, datetime | None]]:
    """(task, args, eta) of every message waiting in the broker's queue, taken off it."""
    from config.celery import app

    messages = []
    with app.connection_for_read() as connection:
        queue = connection.SimpleQueue("celery", no_ack=True)
        while True:
            try:
                message = queue.get(timeout=0.2)
            except queue.Empty:
                break
            eta = message.headers.get("eta")
            messages.append((message.headers["task"], message.payload[0], eta and datetime.fromisoformat(eta)))
    return messages


def test_the_deadlines_of_one_second_send_one_task_for_that_second():
    base = datetime(2026, 12, 7, 7, 40, 10, tzinfo=UTC)
    with tasks_queued():
        for offset in (0.05, 0.4, 0.999, 1.0, 1.2):
            service.finalisation_schedule(base + timedelta(seconds=offset))
        sent = queued()
    second = int(base.timestamp())
    assert sent == [
        ("exam.tasks.attempt_finalize_second", [second + 1], base + timedelta(seconds=1)),
        ("exam.tasks.attempt_finalize_second", [second + 2], base + timedelta(seconds=2)),
    ]


def test_a_start_schedules_the_task_of_its_deadline_and_a_grant_that_of_the_moved_one(
    exam_setup, eva, django_capture_on_commit_callbacks
):
    with tasks_queued():
        with django_capture_on_commit_callbacks(execute=True):
            attempt = start(exam_setup["credential"])
        at_start = queued()
        lost = interruption(attempt, eva, start_min=5, lost_min=4)
        with django_capture_on_commit_callbacks(execute=True):
            attempt = grant(attempt, eva, lost, 5)
        at_grant = queued()
    second = math.ceil(attempt.deadline_at.timestamp())
    assert [(task, args) for task, args, _eta in at_start] == [
        ("exam.tasks.attempt_finalize_second", [second - 5 * 60])
    ]
    assert [(task, args) for task, args, _eta in at_grant] == [("exam.tasks.attempt_finalize_second", [second])]


def test_a_message_the_broker_refused_is_sent_by_the_next_deadline_of_its_second(settings):
    """The key that marks a second's task sent is not left behind when the sending failed: else
    every attempt of that second would wait for the sweeper."""
    from config.celery import app

    deadline = datetime(2026, 12, 7, 7, 40, 10, 300_000, tzinfo=UTC)
    saved = app.conf.CELERY_BROKER_URL, app.conf.CELERY_TASK_ALWAYS_EAGER, app.conf.broker_connection_max_retries
    try:
        with tasks_queued():
            app.conf.CELERY_BROKER_URL = "redis://127.0.0.1:9/0"  # nothing listens on the discard port
            app.conf.broker_connection_max_retries = 0
            app._after_fork()
            service.finalisation_schedule(deadline)
            assert cache.get(f"exam:finalisation:{math.ceil(deadline.timestamp())}") is None
            app.conf.CELERY_BROKER_URL = "memory://"
            app._after_fork()
            service.finalisation_schedule(deadline + timedelta(milliseconds=100))
            assert [args for _task, args, _eta in queued()] == [[math.ceil(deadline.timestamp())]]
    finally:
        app.conf.CELERY_BROKER_URL, app.conf.CELERY_TASK_ALWAYS_EAGER, app.conf.broker_connection_max_retries = saved
        app._after_fork()


def test_the_task_of_a_second_finalises_the_attempts_due_in_it_and_no_other(exam_setup):
    attempt = start(exam_setup["credential"])
    second = math.ceil(attempt.deadline_at.timestamp())
    if attempt.deadline_at.timestamp() == second:  # a deadline on the second itself: move it into one
        attempt.deadline_at += timedelta(milliseconds=500)
        attempt.save(update_fields=["deadline_at"])
        second += 1
    with time_machine.travel(attempt.deadline_at - timedelta(milliseconds=1), tick=False):
        assert service.attempt_finalize_second(second=second) == 0  # its second, not yet due
    with time_machine.travel(attempt.deadline_at + timedelta(seconds=5), tick=False):
        assert service.attempt_finalize_second(second=second - 1) == 0
        assert service.attempt_finalize_second(second=second + 1) == 0
        assert service.attempt_finalize_second(second=second) == 1
        assert service.attempt_finalize_second(second=second) == 0  # once
    attempt.refresh_from_db()
    assert attempt.status == "finished" and attempt.finish_reason == "deadline"
    assert attempt.finished_at == attempt.deadline_at


def test_the_task_run_early_by_a_worker_whose_clock_is_behind_waits_for_its_second(exam_setup):
    from celery.exceptions import Retry

    from exam.testing.tasks import attempt_finalize_second

    attempt = start(exam_setup["credential"])
    second = math.ceil(attempt.deadline_at.timestamp()) + 1
    # As a worker runs a message (not eagerly, as the tests' settings would): its request pushed.
    attempt_finalize_second.push_request(
        id="early", args=[second], kwargs={}, retries=0, is_eager=False, called_directly=False, delivery_info={}
    )
    try:
        with tasks_queued(), time_machine.travel(datetime.fromtimestamp(second - 0.5, tz=UTC), tick=False):
            with pytest.raises(Retry):
                attempt_finalize_second.run(second)
            retried = queued()
    finally:
        attempt_finalize_second.pop_request()
    assert [(task, args) for task, args, _eta in retried] == [("exam.tasks.attempt_finalize_second", [second])]
    assert retried[0][2] is not None and retried[0][2] >= datetime.fromtimestamp(second - 0.5, tz=UTC)
    attempt.refresh_from_db()
    assert attempt.status == "in_progress"
