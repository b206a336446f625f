"""The entry of a sitting (its peak: every candidate signs in and starts within minutes) does no
work it does not need: the sign-in writes its session once, the start reads nothing back, and what
they give the candidate is what a later read gives."""

import pytest
from django.conf import settings as django_settings
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from exam.admission import services as admission
from exam.models import Attempt, ExamCredential

API = "/api/v1/exam"


@pytest.fixture
def signed_in(exam_setup):
    credential = exam_setup["credential"]
    password = admission.exam_password_issue(credential=credential, by=exam_setup["candidate"])
    client = Client()
    with CaptureQueriesContext(connection) as queries:
        response = client.post(f"{API}/login/", {"login": credential.login, "password": password}, "application/json")
    assert response.status_code == 200, response.content
    return client, [q["sql"] for q in queries.captured_queries]


def session_statements(statements):
    return [sql.split(" ", 1)[0] for sql in statements if "django_session" in sql]


def test_the_sign_in_creates_its_session_once(signed_in, settings):
    _client, statements = signed_in
    # Before: an empty session created (INSERT) and then written again with the credential (UPDATE).
    # Django's own stores look the new key up first (SELECT); ours, with Redis, do not (core/sessions.py).
    looked_up = [] if settings.SESSION_ENGINE == "core.sessions" else ["SELECT"]
    assert session_statements(statements) == [*looked_up, "INSERT"]
    assert len(statements) <= 5  # the credential (with whether it has an attempt), the look-up, BEGIN, INSERT, COMMIT


@pytest.mark.skipif(not django_settings.REDIS_URL, reason="the sessions of the Redis configuration")
def test_a_new_session_key_already_taken_is_drawn_again(db, monkeypatch):
    """The insert refuses a key that exists, and another is drawn (what the look-up guarded)."""
    from core import sessions

    taken = sessions.SessionStore()
    taken["x"] = 1
    taken.save()
    keys = iter([taken.session_key, "b" * 32])
    monkeypatch.setattr(sessions, "get_random_string", lambda length, chars: next(keys))

    store = sessions.SessionStore()
    store["y"] = 2
    store.save()

    assert store.session_key == "b" * 32
    assert sessions.SessionStore(taken.session_key).load() == {"x": 1}


def test_a_sign_in_over_an_existing_session_gets_a_new_session_key(exam_setup):
    credential = exam_setup["credential"]
    password = admission.exam_password_issue(credential=credential, by=exam_setup["candidate"])
    client = Client()
    client.force_login(exam_setup["candidate"])  # a session that someone else may know
    before = client.cookies["sessionid"].value

    client.post(f"{API}/login/", {"login": credential.login, "password": password}, "application/json")

    after = client.cookies["sessionid"].value
    assert after != before
    assert client.get(f"{API}/attempt/").status_code == 404  # signed in to the room: not started yet


def test_the_start_answers_what_a_later_read_of_the_attempt_gives(signed_in):
    client, _statements = signed_in
    with CaptureQueriesContext(connection) as queries:
        started = client.post(f"{API}/attempt/start/", {"personally": True}, "application/json")
    statements = [q["sql"] for q in queries.captured_queries]  # before the next request clears the log
    assert started.status_code == 201, started.content

    read = client.get(f"{API}/attempt/")

    assert read.status_code == 200
    assert len(started.json()["items"]) == 40
    assert started.json()["items"] == read.json()["items"]
    assert started.json()["max_seq"] == read.json()["max_seq"] == 0
    assert not any('FROM "exam_attemptitem"' in sql for sql in statements)  # the items are not read back


def test_a_start_whose_credential_is_gone_asks_to_sign_in_again(signed_in):
    client, _statements = signed_in
    ExamCredential.objects.all().delete()

    response = client.post(f"{API}/attempt/start/", {"personally": True}, "application/json")

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "exam_login_required"
    assert not Attempt.objects.exists()
