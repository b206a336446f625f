"""The read replica (DATABASE_REPLICA_URL): the public registry reads from it while it answers and
is recent enough, and from the primary when it does not answer; a person who has just written reads
from the primary. Here the replica is the test database under its second alias (a test mirror),
turned on by REPLICA_READS."""

import pytest
from django.conf import settings as django_settings
from django.db import connections
from django.test import Client
from django.test.utils import CaptureQueriesContext

from core import db
from tests.conftest import published_certificate

pytestmark = [
    pytest.mark.skipif(not django_settings.DATABASE_IS_POSTGRES, reason="the replica is a PostgreSQL standby"),
    pytest.mark.django_db(transaction=True, databases=["default", "replica"]),
]


def _close(replica) -> None:
    replica.close()
    replica.close_pool()


@pytest.fixture
def replica_on(settings):
    settings.REPLICA_READS = True
    db.replica_forget()
    yield
    db.replica_forget()
    _close(connections[db.REPLICA])  # its pool would keep the test database open


@pytest.fixture
def replica_down(replica_on):
    """The replica's address leads nowhere (a closed port), as when its server is stopped."""
    replica = connections[db.REPLICA]
    _close(replica)
    port, replica.settings_dict["PORT"] = replica.settings_dict["PORT"], 1
    yield
    _close(replica)
    replica.settings_dict["PORT"] = port


def _certificate_reads(context: CaptureQueriesContext) -> int:
    return sum('"registry_certificate"' in query["sql"] for query in context.captured_queries)


def _search(path: str = "/api/v1/registry/experts/", client: Client | None = None) -> list[str]:
    response = (client or Client()).get(path, {"q": "Ивонов"})
    assert response.status_code == 200, response.content
    return [row["number"] for row in response.json()["results"]] if path.startswith("/api/") else []


def test_without_a_replica_everything_reads_from_the_primary():
    assert db.replica() == db.PRIMARY


def test_the_registry_search_reads_from_the_replica(replica_on):
    published_certificate("2025-00001", "Иванов", "Иван", "Иванович")
    with (
        CaptureQueriesContext(connections[db.REPLICA]) as on_replica,
        CaptureQueriesContext(connections[db.PRIMARY]) as on_primary,
    ):
        assert _search() == ["2025-00001"]
        page = Client().get("/registry/", {"q": "Ивонов"})
        entry = Client().get("/registry/certificates/2025-00001/")
    assert "Иванов" in page.content.decode() and "Иванов" in entry.content.decode()
    assert _certificate_reads(on_replica) >= 3 and _certificate_reads(on_primary) == 0
    assert db.replica_state().usable and db.replica_state().lag == 0


def test_a_replica_that_does_not_answer_leaves_the_search_to_the_primary(replica_down):
    published_certificate("2025-00001", "Иванов", "Иван", "Иванович")
    assert _search() == ["2025-00001"]
    assert Client().get("/registry/", {"q": "Ивонов"}).status_code == 200
    assert Client().get("/registry/certificates/2025-00001/").status_code == 200
    assert db.replica_state().usable is False


def test_a_replica_failing_under_a_read_is_left_for_the_primary(replica_on, settings):
    """Measured as usable, then gone before the next measure: the read is done again on the primary."""
    settings.REPLICA_CHECK_SECONDS = 600
    published_certificate("2025-00001", "Иванов", "Иван", "Иванович")
    assert db.replica() == db.REPLICA
    replica = connections[db.REPLICA]
    _close(replica)
    port, replica.settings_dict["PORT"] = replica.settings_dict["PORT"], 1
    try:
        assert _search() == ["2025-00001"]
        assert db.replica() == db.PRIMARY  # and the next reads go to the primary at once
    finally:
        _close(replica)
        replica.settings_dict["PORT"] = port


def test_a_replica_behind_by_more_than_the_setting_is_not_used(replica_on, settings):
    settings.REPLICA_MAX_LAG_SECONDS = -1  # the mirror lags 0 s: "more than allowed"
    assert db.replica() == db.PRIMARY


def test_after_a_write_the_person_reads_from_the_primary(replica_on):
    published_certificate("2025-00001", "Иванов", "Иван", "Иванович")
    client = Client()
    client.post("/i18n/setlang/", {"language": "ru", "next": "/"})  # any write request
    assert db.PIN_COOKIE in client.cookies
    with CaptureQueriesContext(connections[db.REPLICA]) as on_replica:
        assert _search(client=client) == ["2025-00001"]
    assert _certificate_reads(on_replica) == 0


def test_a_replica_connection_cut_under_the_search_is_left_for_the_primary(replica_on, settings):
    """The replica's server goes away while its connections are open (stopped, immediate): the
    search fails on the replica inside a prepared statement, and is read again on the primary."""
    settings.REPLICA_CHECK_SECONDS = 600
    published_certificate("2025-00001", "Иванов", "Иван", "Иванович")
    replica = connections[db.REPLICA]
    _close(replica)
    options = replica.settings_dict.setdefault("OPTIONS", {})
    options["application_name"] = "replica-under-test"
    try:
        assert _search() == ["2025-00001"]  # on the replica: its connection stays open in the pool
        with connections[db.PRIMARY].cursor() as cursor:
            cursor.execute(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name = %s",
                ["replica-under-test"],
            )
            assert cursor.fetchone()[0] >= 1
        assert _search() == ["2025-00001"]
        assert db.replica() == db.PRIMARY
    finally:
        _close(replica)
        options.pop("application_name", None)


def test_an_answer_save_does_not_pin_the_candidate_to_the_primary(replica_on, exam_setup):
    """No read from the replica shows an answer: the save, a hundred times a second in a sitting,
    sets no cookie; the start, like any other write, does."""
    from tests.conftest import exam_client

    client, _password = exam_client(exam_setup["credential"], exam_setup["candidate"])
    client.cookies.pop(db.PIN_COOKIE, None)
    started = client.post("/api/v1/exam/attempt/start/", {"personally": True}, content_type="application/json")
    assert started.status_code == 201 and db.PIN_COOKIE in started.cookies
    client.cookies.pop(db.PIN_COOKIE, None)
    saved = client.put("/api/v1/exam/attempt/answers/1/", {"answer": [], "seq": 1}, content_type="application/json")
    assert saved.status_code == 200 and saved.json()["applied"] is True
    assert db.PIN_COOKIE not in saved.cookies


def test_a_forked_process_opens_sessions_of_its_own():
    """The browser tests' live server is forked from the test process: it must not go on with the
    parent's PostgreSQL session (two processes interleaving statements on one socket)."""
    from tests.conftest import in_forked_child

    def backend_pid():
        with connections[db.PRIMARY].cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            return cursor.fetchone()[0]

    parent = backend_pid()
    assert in_forked_child(lambda: 0 if backend_pid() != parent else 2) == 0
    assert backend_pid() == parent  # and the parent's session still serves
