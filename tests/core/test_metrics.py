"""Prometheus metrics of a node at /metrics: for the monitoring's addresses only; the answer saves
counted in memory, the requests, the outbox and the attempts past their deadline."""

from datetime import timedelta

import pytest
import time_machine
from django.test import Client
from prometheus_client.parser import text_string_to_metric_families

from tests.exam.test_api_exam import put_answer, room, started  # noqa: F401  (room is a fixture)


def scrape(**extra) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    response = Client(**extra).get("/metrics")
    assert response.status_code == 200
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(response.content.decode())
        for sample in family.samples
    }


def saves(metrics, outcome: str) -> float:
    return metrics.get(("sout_answer_saves_total", (("outcome", outcome),)), 0.0)


@pytest.mark.django_db
def test_the_answer_save_counter_grows_with_each_save(room):  # noqa: F811
    started(room)
    item = room.get("/api/v1/exam/attempt/").json()["items"][0]
    before = scrape()
    assert put_answer(room, 1, [item["options"][0]["id"]], 1).status_code == 200
    assert put_answer(room, 1, [item["options"][1]["id"]], 1).status_code == 200  # the same seq: not applied
    assert put_answer(room, 1, [-5], 2).status_code == 400  # an option that is not there: refused
    after = scrape()
    assert saves(after, "applied") == saves(before, "applied") + 1
    assert saves(after, "not_applied") == saves(before, "not_applied") + 1
    assert saves(after, "refused") == saves(before, "refused") + 1
    count = ("sout_answer_save_duration_seconds_count", ())
    assert after[count] == before.get(count, 0) + 3
    assert after[("sout_attempts_overdue", ())] == 0
    assert ("sout_outbox_backlog", (("kind", "notification_email"),)) in after
    answers = ("sout_http_requests_total", (("method", "PUT"), ("status", "200"), ("view", "exam-api:exam-answer")))
    assert after[answers] == before.get(answers, 0) + 2


@pytest.mark.django_db
def test_metrics_from_another_address_are_not_found():
    assert Client(REMOTE_ADDR="10.20.30.40").get("/metrics").status_code == 404
    assert Client(REMOTE_ADDR="::1").get("/metrics").status_code == 200


@pytest.mark.django_db
def test_the_allowed_addresses_are_a_setting(settings):
    settings.METRICS_ALLOWED_ADDRESSES = ["10.20.30.0/24"]
    assert Client(REMOTE_ADDR="10.20.30.40").get("/metrics").status_code == 200
    assert Client().get("/metrics").status_code == 404


@pytest.mark.django_db
def test_an_attempt_past_its_deadline_shows_until_finalised_and_its_lag_is_counted(
    room,  # noqa: F811
    django_capture_on_commit_callbacks,
):
    from exam.testing.services.attempts import attempt_finalize_due

    attempt = started(room)
    lag = ("sout_attempt_finalisation_lag_seconds_count", ())
    before = scrape()
    with time_machine.travel(attempt.deadline_at + timedelta(seconds=7), tick=False):
        waiting = scrape()
        assert waiting[("sout_attempts_overdue", ())] == 1
        assert waiting[("sout_attempts_overdue_oldest_seconds", ())] == 7
        with django_capture_on_commit_callbacks(execute=True):
            assert attempt_finalize_due() == 1
        after = scrape()
    assert after[("sout_attempts_overdue", ())] == 0
    assert after[lag] == before.get(lag, 0) + 1
    assert after[("sout_attempt_finalisation_lag_seconds_bucket", (("le", "10.0"),))] >= 1
