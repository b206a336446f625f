"""The session store: Django's cached_db (read from Redis, written through to the database), without
the look-up of every new session key before it is written.

Django's stores draw a new key and ask whether it exists (here a Redis read and a database query)
before the INSERT that creates it. The database's primary key already refuses a key in use: the
INSERT is made with ``must_create``, its IntegrityError becomes CreateError, and ``create()`` draws
another key. With 32 characters of 36 (about 165 bits) that never happens in practice; the look-up
was two round trips of every sign-in, the exam room's included, at the peak of a sitting."""

from __future__ import annotations

from django.contrib.sessions.backends.base import VALID_KEY_CHARS
from django.contrib.sessions.backends.cached_db import SessionStore as CachedDbStore
from django.utils.crypto import get_random_string


class SessionStore(CachedDbStore):
    def _get_new_session_key(self) -> str:
        return get_random_string(32, VALID_KEY_CHARS)
