"""Statements prepared on the PostgreSQL server, for the few queries that run a hundred times a
second (the answer save, the registry's dictionary of surnames).

Django's psycopg cursors bind parameters on the client, so the server parses and plans every
statement anew; a prepared statement is planned once per connection, and the pooled connections
(DB_POOL_*) live long."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import psycopg
from django.db import connection


def fetch_prepared(sql: str, params: Sequence[Any]) -> list[tuple[Any, ...]]:
    """Run ``sql`` (``%s`` placeholders, ``%%`` for a literal ``%``) as a prepared statement on
    Django's connection, in its transaction if one is open; PostgreSQL only."""
    connection.ensure_connection()
    with psycopg.Cursor(connection.connection) as cursor:
        cursor.execute(sql, params, prepare=True)
        return cursor.fetchall() if cursor.description is not None else []
