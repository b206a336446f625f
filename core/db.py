"""Statements prepared on the PostgreSQL server, for the few queries that run a hundred times a
second (the answer save, the registry's dictionary of surnames).

Django's psycopg cursors bind parameters on the client, so the server parses and plans every
statement anew; a prepared statement is planned once per connection, and the pooled connections
(DB_POOL_*) live long."""

from __future__ import annotations

import hashlib
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


def advisory_lock(name: str) -> None:
    """Take PostgreSQL's transaction-level advisory lock named ``name`` (held until the transaction
    ends): the lock on something that has no row of its own, such as a person known only by their
    identity document. Elsewhere (SQLite in `make run`, whose writers take turns anyway) nothing."""
    if connection.vendor != "postgresql":
        return
    if not connection.in_atomic_block:
        raise RuntimeError("advisory_lock must run inside a transaction")
    key = int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big", signed=True)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [key])
