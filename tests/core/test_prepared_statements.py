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
