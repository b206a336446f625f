"""Sessions kept in the database and cached in Redis (Django's cached_db), with a new session's
key drawn without first looking it up.

Django draws a new key and asks whether a session already has it (the cache, then the database)
before inserting the session; the insert itself refuses a key that exists (the primary key) and
Django then draws again (``create``, ``CreateError``). The look-up guards against a collision of
32 random characters of 36 (about 165 bits) that the insert already catches: at a sitting's start,
where every candidate's sign-in creates a session, it was one statement and one Redis round trip
of each sign-in."""

from __future__ import annotations

from django.contrib.sessions.backends.base import VALID_KEY_CHARS, CreateError
from django.contrib.sessions.backends.cached_db import SessionStore as CachedDbSessionStore
from django.contrib.sessions.backends.db import SessionStore as DbSessionStore

from core.db import insert_row
from core.randomness import get_random_string


class _InsertedSessionStore(DbSessionStore):
    """A new session inserted in one prepared statement (core.db.insert_row) instead of the ORM's
    insert in a transaction of its own; a key that exists is refused as Django's insert refuses it
    (CreateError: Django draws another). Saving an existing session is Django's."""

    def save(self, must_create: bool = False) -> None:
        if not must_create or self.session_key is None:
            super().save(must_create=must_create)
            return
        if not insert_row(self.create_model_instance(self._get_session(no_load=True)), skip_conflict=True):  # type: ignore[attr-defined]
            raise CreateError


class SessionStore(CachedDbSessionStore, _InsertedSessionStore):
    """cached_db over _InsertedSessionStore: the session cached after it is written."""

    def _get_new_session_key(self) -> str:
        return get_random_string(32, VALID_KEY_CHARS)
