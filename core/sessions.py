"""Sessions kept in the database and cached in Redis (Django's cached_db), with a new session's
key drawn without first looking it up.

Django draws a new key and asks whether a session already has it (the cache, then the database)
before inserting the session; the insert itself refuses a key that exists (the primary key) and
Django then draws again (``create``, ``CreateError``). The look-up guards against a collision of
32 random characters of 36 (about 165 bits) that the insert already catches: at a sitting's start,
where every candidate's sign-in creates a session, it was one statement and one Redis round trip
of each sign-in."""

from __future__ import annotations

from django.contrib.sessions.backends.base import VALID_KEY_CHARS
from django.contrib.sessions.backends.cached_db import SessionStore as CachedDbSessionStore

from core.randomness import get_random_string


class SessionStore(CachedDbSessionStore):
    def _get_new_session_key(self) -> str:
        return get_random_string(32, VALID_KEY_CHARS)
