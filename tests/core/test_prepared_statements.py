"""core.db.fetch_prepared: the statement is prepared on the server once per connection and run
again by name (Django turns psycopg's preparing off; the settings turn it back on for what asks)."""

import pytest
from django.conf import settings
from django.db import connection

from core.db import fetch_prepared

pytestmark = pytest.mark.skipif(not settings.DATABASE_IS_POSTGRES, reason="statements prepared by PostgreSQL")


def prepared_statements():
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements")
        return [row[0] for row in cursor.fetchall()]


@pytest.mark.django_db
def test_a_statement_asked_for_is_prepared_once_and_django_s_own_are_not():
    sql = "SELECT %s::int + 1 AS answered_by_a_prepared_statement"
    assert fetch_prepared(sql, [1]) == [(2,)]
    assert fetch_prepared(sql, [41]) == [(42,)]
    with connection.cursor() as cursor:
        for _ in range(10):
            cursor.execute("SELECT %s::int AS run_by_django", [1])
    statements = prepared_statements()
    assert statements.count("SELECT $1::int + 1 AS answered_by_a_prepared_statement") == 1
    assert not any("run_by_django" in s for s in statements)


def fields(instance, *without):
    return {
        f.attname: getattr(instance, f.attname) for f in type(instance)._meta.concrete_fields if f.name not in without
    }


@pytest.mark.django_db
def test_insert_row_stores_what_the_orm_stores_and_refuses_an_existing_key(alice):
    from django.contrib.contenttypes.models import ContentType
    from django.contrib.sessions.models import Session
    from django.utils import timezone

    from core.db import insert_row
    from core.models import AuditEvent

    def line():
        return AuditEvent(
            actor=alice,
            actor_label="Алиса",
            action="event",
            verb="attempt_start",
            case_type=ContentType.objects.get_for_model(AuditEvent),
            case_id=7,
            case_label="Попытка 7",
            data={"questions": 40},
            ip="10.0.0.1",
        )

    prepared, orm = line(), line()
    assert insert_row(prepared) is True
    orm.save()
    assert prepared.pk is not None and not prepared._state.adding
    stored = AuditEvent.objects.get(pk=prepared.pk)
    assert (
        fields(stored, "id", "at")
        == fields(AuditEvent.objects.get(pk=orm.pk), "id", "at")
        == fields(prepared, "id", "at")
    )
    assert stored.at == prepared.at  # the default made when the instance was

    expires = timezone.now()
    assert insert_row(Session(session_key="k" * 32, session_data="a", expire_date=expires), skip_conflict=True)
    assert not insert_row(Session(session_key="k" * 32, session_data="b", expire_date=expires), skip_conflict=True)
    assert Session.objects.get(session_key="k" * 32).session_data == "a"


@pytest.mark.django_db
def test_prepared_statements_are_in_django_s_log_of_queries():
    """What counts the statements of a request (CaptureQueriesContext, DEBUG) sees them too."""
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        fetch_prepared("SELECT %s::int AS logged", [5])
    assert [q["sql"] for q in queries.captured_queries] == ["SELECT %s::int AS logged -- [5]"]
