"""Structured logs across nodes and workers: every line of a request and of the tasks it enqueues
carries one request id, the incoming X-Request-ID when well-formed, returned in the response."""

import io
import json
import logging
import subprocess
import sys

import pytest
from django.conf import settings as django_settings
from django.http import HttpResponse
from django.test import Client, RequestFactory
from pythonjsonlogger.json import JsonFormatter

from core.logs import HEADER, RequestIdFilter, RequestIdMiddleware, incoming_or_new
from core.models import Notification
from tests.conftest import tasks_queued


@pytest.fixture
def json_lines(caplog):
    """The JSON handler of LOG_FORMAT=json (its formatter and filter as the settings declare them),
    on the root logger, with the access line and Celery's task lines turned on."""
    conf = django_settings.LOGGING["formatters"]["json"]
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(RequestIdFilter())
    handler.setFormatter(JsonFormatter(conf["fmt"], rename_fields=conf["rename_fields"], timestamp=True))
    root = logging.getLogger()
    root.addHandler(handler)
    caplog.set_level(logging.INFO, logger="sout.request")
    caplog.set_level(logging.INFO, logger="celery.app.trace")
    yield lambda: [json.loads(line) for line in stream.getvalue().splitlines()]
    root.removeHandler(handler)


def test_the_id_of_an_incoming_request_is_kept_and_returned():
    response = Client().get("/health/live", HTTP_X_REQUEST_ID="haproxy-0a1b2c3d")
    assert response[HEADER] == "haproxy-0a1b2c3d"


@pytest.mark.parametrize("incoming", ["", "a b", "x" * 200, "id\nforged: line", "<script>"])
def test_a_malformed_id_is_replaced_by_a_new_one(incoming):
    response = Client().get("/health/live", HTTP_X_REQUEST_ID=incoming)
    assert response[HEADER] != incoming and len(response[HEADER]) == 32


def test_new_ids_are_distinct_here_and_in_a_forked_child():
    """Made from the process's generator (core.logs.incoming_or_new), which Python seeds again in a
    forked child (a Celery pool process): no two processes hand out the same ids."""
    import os

    ids = {incoming_or_new(None) for _ in range(10_000)}
    assert len(ids) == 10_000 and all(len(i) == 32 and int(i, 16) >= 0 for i in ids)
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: its first ids, to the parent
        os.write(write, ",".join(incoming_or_new(None) for _ in range(100)).encode())
        os._exit(0)
    os.close(write)
    os.waitpid(pid, 0)
    with os.fdopen(read) as pipe:
        child = set(pipe.read().split(","))
    mine = {incoming_or_new(None) for _ in range(100)}
    assert len(child) == 100 and not child & mine


@pytest.mark.django_db
def test_a_request_and_the_task_it_enqueues_log_the_same_id(alice, json_lines):
    """The worker has no request: the id travels in the task's headers."""
    from config.celery import app
    from core.tasks import notification_email

    note = Notification.objects.create(recipient=alice, subject="Тема", body="Текст", link="/cabinet/")

    def serve(_request):
        notification_email.delay(note.pk)
        return HttpResponse()

    with tasks_queued():
        response = RequestIdMiddleware(serve)(RequestFactory().get("/cabinet/?q=Иванов"))
        with app.connection_for_read() as connection:
            message = connection.SimpleQueue("celery", no_ack=True).get(timeout=5)
    request_id = response[HEADER]
    notification_email.apply((note.pk,), headers=message.headers)
    lines = json_lines()
    access = [line for line in lines if line["logger"] == "sout.request"]
    task = [line for line in lines if line["logger"] == "celery.app.trace"]
    assert access and task, lines
    assert access[0]["request_id"] == task[0]["request_id"] == request_id
    assert access[0]["path"] == "/cabinet/" and access[0]["status"] == 200
    assert "Иванов" not in json.dumps(lines, ensure_ascii=False)  # no query string in the logs
    logging.getLogger("sout.test").warning("after")  # the task's id does not outlive it
    assert json_lines()[-1]["request_id"] is None


def test_log_format_json_prints_json_lines_and_the_default_is_human(tmp_path, settings):
    code = "import django; django.setup(); import logging; logging.getLogger('sout.test').warning('Проверка')"
    env = {"DJANGO_SETTINGS_MODULE": "config.settings", "VAR_DIR": str(tmp_path), "SECRET_KEY": "s" * 50}
    env["PATH"] = "/usr/bin:/bin"

    def run(**extra: str) -> str:
        result = subprocess.run(
            [sys.executable, "-c", code], env={**env, **extra}, cwd=settings.BASE_DIR, capture_output=True, text=True
        )
        assert result.returncode == 0, result.stderr
        return result.stderr.strip()

    line = json.loads(run(LOG_FORMAT="json"))
    assert line["message"] == "Проверка" and line["level"] == "WARNING" and line["logger"] == "sout.test"
    assert "request_id" in line and line["timestamp"].endswith("+00:00")
    assert run() == "Проверка"
