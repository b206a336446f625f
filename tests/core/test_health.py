"""The health of a node for the balancer: 200 when its database, Redis and the broker answer, 503
when one does not; the answer names the parts only (no host, no port, nobody's data)."""

import pytest
from django.test import Client

CLOSED = "redis://127.0.0.1:1/0"  # nothing listens on port 1


@pytest.mark.django_db
def test_a_healthy_node_answers_200_and_names_its_parts(settings):
    response = Client().get("/health/", HTTP_ACCEPT="application/json")
    assert response.status_code == 200, response.content
    parts = response.json()
    assert set(parts.values()) == {"OK"}
    assert "Database(alias='default')" in parts and "Broker" in parts
    assert ("Redis" in parts) is bool(settings.REDIS_URL)
    assert "no-cache" in response["Cache-Control"]


@pytest.mark.django_db
def test_a_node_whose_redis_does_not_answer_is_unavailable(settings):
    settings.REDIS_URL = settings.CELERY_BROKER_URL = CLOSED
    settings.CELERY_BROKER_TRANSPORT_OPTIONS = {}
    response = Client().get("/health/", HTTP_ACCEPT="application/json")
    assert response.status_code == 503
    parts = response.json()
    assert parts["Database(alias='default')"] == "OK"
    assert parts["Redis"].startswith("Unavailable") and parts["Broker"].startswith("Unavailable")
    assert "127.0.0.1" not in response.content.decode() and ":1" not in response.content.decode()
    # The balancer's probe takes the page as it is (no Accept header): the same status.
    assert Client().get("/health/").status_code == 503


def test_the_liveness_probe_checks_nothing_and_answers(settings):
    settings.REDIS_URL = CLOSED
    response = Client().get("/health/live")
    assert response.status_code == 200 and response.content == b"ok\n"
