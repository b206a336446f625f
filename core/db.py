"""The database beyond the ORM.

* Statements prepared on the PostgreSQL server, for the few queries that run a hundred times a
  second (the answer save, the registry's dictionary of surnames). Django's psycopg cursors bind
  parameters on the client, so the server parses and plans every statement anew; a prepared
  statement is planned once per connection, and the pooled connections (DB_POOL_*) live long.
* The read replica (``DATABASE_REPLICA_URL``): the public reads that may lag a few seconds (the
  registry search, entry pages, open data, the period report) run on it through ``on_replica``
  or with ``.using(replica())``; nothing else does (no global read routing: what a person just
  wrote is read back from the primary). The replica is used while it answers and lags at most
  ``REPLICA_MAX_LAG_SECONDS``, measured on it with ``pg_last_xact_replay_timestamp()`` and kept
  ``REPLICA_CHECK_SECONDS`` in the process; otherwise, and when a query on it fails, the primary
  answers. After a person's write (a POST, PUT, PATCH or DELETE) their reads stay on the primary
  for the allowed lag (``ReplicaPinMiddleware``)."""

from __future__ import annotations

import functools
import hashlib
import logging
import os
import threading
import time
from collections.abc import Callable, Sequence
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any, TypeVar

import psycopg
from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, DatabaseError, connection, connections
from django.db.models import Field, Model
from django.http import HttpRequest, HttpResponse

logger = logging.getLogger(__name__)
T = TypeVar("T")
PRIMARY = DEFAULT_DB_ALIAS
REPLICA = "replica"  # the alias of DATABASE_REPLICA_URL (config/settings.py)


def fetch_prepared(sql: str, params: Sequence[Any], *, using: str = PRIMARY) -> list[tuple[Any, ...]]:
    """Run ``sql`` (``%s`` placeholders, ``%%`` for a literal ``%``) as a prepared statement on
    Django's connection ``using``, in its transaction if one is open; PostgreSQL only."""
    conn = connections[using]
    conn.ensure_connection()
    started = time.monotonic()
    # Django's own errors, as for any query (a caller such as on_replica catches DatabaseError),
    # and the connection is known to have failed.
    with conn.wrap_database_errors, psycopg.Cursor(conn.connection) as cursor:
        cursor.execute(sql, params, prepare=True)
        rows = cursor.fetchall() if cursor.description is not None else []
    if conn.queries_logged:  # in Django's log of queries as its own cursors' (DEBUG, CaptureQueriesContext)
        conn.queries_log.append({"sql": f"{sql.strip()} -- {params!r}", "time": f"{time.monotonic() - started:.3f}"})
    return rows


_INSERT = "INSERT INTO {table} ({columns}) VALUES ({values}){conflict} RETURNING {pk}"


@functools.cache
def inserted_fields(model: type[Model]) -> tuple[Field[Any, Any], ...]:
    """The fields an INSERT of ``model`` writes, in order: every column but the generated key."""
    return tuple(f for f in model._meta.concrete_fields if f is not model._meta.auto_field)


@functools.cache
def _insert_statement(model: type[Model], skip_conflict: bool) -> tuple[str, tuple[Field[Any, Any], ...]]:
    meta = model._meta
    fields = inserted_fields(model)
    quote = connection.ops.quote_name
    sql = _INSERT.format(
        table=quote(meta.db_table),
        columns=", ".join(quote(f.column) for f in fields),
        values=", ".join(["%s"] * len(fields)),
        conflict=" ON CONFLICT DO NOTHING" if skip_conflict else "",
        pk=quote(meta.pk.column),  # type: ignore[union-attr]
    )
    return sql, fields


def insert_row(instance: Model, *, skip_conflict: bool = False) -> bool:
    """Insert the new ``instance`` as ``save(force_insert=True)`` does (each field's value prepared
    as the ORM prepares it, the primary key set), on PostgreSQL as a prepared statement: for the
    rows written at every sign-in and start of a sitting (a session, an audit line), where the
    ORM's compilation of the INSERT cost more than the database's work. No ``pre_save`` or
    ``post_save`` signal is sent and ``save()`` is not called: only for models that have neither
    receivers nor a ``save`` of their own that does more than refuse an update. With
    ``skip_conflict``, a row that a unique constraint refuses is not inserted and False returned.
    Elsewhere (SQLite in `make run`) the ORM's own insert."""
    model = type(instance)
    if connection.vendor != "postgresql":
        from django.db import IntegrityError, transaction

        try:
            with transaction.atomic():
                instance.save(force_insert=True)
        except IntegrityError:
            if not skip_conflict:
                raise
            return False
        return True
    sql, fields = _insert_statement(model, skip_conflict)
    values = [f.get_db_prep_save(f.pre_save(instance, True), connection) for f in fields]
    rows = fetch_prepared(sql, values)
    if not rows:
        return False
    instance.pk = rows[0][0]
    instance._state.adding, instance._state.db = False, connection.alias
    return True


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


# --- The read replica -------------------------------------------------------------------------------

_reads: ContextVar[str | None] = ContextVar("replica_reads", default=None)
_pinned: ContextVar[bool] = ContextVar("primary_pinned", default=False)
PIN_COOKIE = "sout_primary"

# On the replica: 0 when it has replayed all it received (an idle primary sends nothing, and the
# last replayed transaction grows old without any lag), else the age of the last one replayed;
# 0 on a server that is not a standby (a mirror of the primary in the tests).
_LAG_SQL = """
SELECT CASE WHEN NOT pg_is_in_recovery() THEN 0
            WHEN pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn() THEN 0
            ELSE extract(epoch FROM now() - pg_last_xact_replay_timestamp()) END
"""


@dataclass(frozen=True)
class ReplicaState:
    usable: bool
    lag: float | None  # seconds; None when the replica does not answer
    checked_at: float  # time.monotonic()


_state: ReplicaState | None = None
_checking = threading.Lock()


def replica_configured() -> bool:
    return bool(settings.REPLICA_READS) and REPLICA in settings.DATABASES


def _measure() -> ReplicaState:
    try:
        with connections[REPLICA].cursor() as cursor:
            cursor.execute(_LAG_SQL)
            row = cursor.fetchone()
    except DatabaseError as exc:
        logger.warning("The read replica does not answer (%s): reads go to the primary", type(exc).__name__)
        return ReplicaState(usable=False, lag=None, checked_at=time.monotonic())
    lag = None if row is None or row[0] is None else float(row[0])
    usable = lag is not None and lag <= settings.REPLICA_MAX_LAG_SECONDS
    if not usable:
        logger.warning("The read replica lags %s s: reads go to the primary", lag)
    return ReplicaState(usable=usable, lag=lag, checked_at=time.monotonic())


def replica_state() -> ReplicaState | None:
    """The replica's state as last measured in this process, measured again when older than
    REPLICA_CHECK_SECONDS (by one thread; the others go on with the last state meanwhile). None
    without a replica."""
    global _state
    if not replica_configured():
        return None
    state = _state
    stale = state is None or time.monotonic() - state.checked_at >= settings.REPLICA_CHECK_SECONDS
    if stale and _checking.acquire(blocking=state is None):
        try:
            _state = state = _measure()
        finally:
            _checking.release()
    return state or _state


def replica_forget() -> None:
    """Measure again at the next read (after a failure, or in tests)."""
    global _state
    _state = None


def _replica_failed() -> None:
    global _state
    _state = ReplicaState(usable=False, lag=None, checked_at=time.monotonic())


def replica() -> str:
    """The alias for a read that may lag: the replica when it is configured, answers and is
    recent enough, and this request has written nothing lately; else the primary."""
    if not replica_configured() or _pinned.get() or connections[PRIMARY].in_atomic_block:
        return PRIMARY
    state = replica_state()
    return REPLICA if state is not None and state.usable else PRIMARY


def on_replica(read: Callable[[], T]) -> T:
    """``read()`` with its queries on the replica (``replica()``); if the replica fails under it,
    ``read()`` again on the primary. Writes inside still go to the primary."""
    alias = replica()
    if alias == PRIMARY:
        return read()
    token = _reads.set(alias)
    try:
        return read()
    except DatabaseError as exc:
        logger.warning("A read on the replica failed (%s): read again on the primary", type(exc).__name__)
        _replica_failed()
    finally:
        _reads.reset(token)
    return read()


def read_alias() -> str:
    """Where a read goes now: the replica inside ``on_replica``, else the primary."""
    return _reads.get() or PRIMARY


class ReplicaRouter:
    """Routes the reads of ``on_replica`` only (and the lazy reads of the rows read there); every
    write to the primary; never migrates the replica (it streams the primary's changes)."""

    def db_for_read(self, model: Any, **hints: Any) -> str | None:
        return _reads.get()

    def db_for_write(self, model: Any, **hints: Any) -> str:
        # Also for a row read from the replica (Django would write it where it was read from).
        return PRIMARY

    def allow_migrate(self, db: str, app_label: str, **hints: Any) -> bool | None:
        return False if db == REPLICA else None


class ReplicaPinMiddleware:
    """A person who has just written reads from the primary for REPLICA_MAX_LAG_SECONDS: a write
    request sets a short cookie, and while it lasts ``replica()`` gives the primary. A view whose
    writes nothing on the replica's side ever reads back (``replica_pin = False`` on its class or
    function: the exam room's answer save, a hundred times a second in a sitting) sets none: the
    cookie cost each save a fifth of its CPU, and the browser carried it on every request."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not replica_configured():
            return self.get_response(request)
        token = _pinned.set(PIN_COOKIE in request.COOKIES)
        try:
            response = self.get_response(request)
        finally:
            _pinned.reset(token)
        if request.method not in ("GET", "HEAD", "OPTIONS") and getattr(request, "_replica_pin", True):
            response.set_cookie(
                PIN_COOKIE,
                "1",
                max_age=int(settings.REPLICA_MAX_LAG_SECONDS) + 1,
                httponly=True,
                samesite="Lax",
                secure=settings.SESSION_COOKIE_SECURE,
            )
        return response

    def process_view(self, request: HttpRequest, view: Any, args: Any, kwargs: Any) -> None:
        """Whether the view pins (a class-based view's function names its class as ``cls``, or
        ``view_class``)."""
        cls = getattr(view, "cls", None) or getattr(view, "view_class", None)
        request._replica_pin = getattr(cls, "replica_pin", getattr(view, "replica_pin", True))  # type: ignore[attr-defined]


def _forget_inherited_connections() -> None:
    """In a process just forked: the parent's open connections and pools are dropped, not closed
    (closing would end the parent's sessions, on the sockets both hold; and a pool's threads are not
    copied by a fork); the child opens its own at its first query. Two processes on one session
    interleave their statements: the browser tests' live server, forked from the test process, met
    the test's prepared statements ("prepared statement _pg3_0 already exists")."""
    from django.db import connections
    from django.db.backends.postgresql.base import DatabaseWrapper

    DatabaseWrapper._connection_pools.clear()  # type: ignore[attr-defined]  # Django keeps them by alias
    for conn in connections.all(initialized_only=True):
        if conn.vendor == "postgresql":
            conn.connection = None


@functools.cache
def install_fork_hook() -> None:
    """Once per process (core.apps): a hook given to os.register_at_fork cannot be taken back."""
    os.register_at_fork(after_in_child=_forget_inherited_connections)
