"""The Redis cache: django-redis, with one ``redis.Redis`` per process and Redis URL.

Sessions are cached_db (read from Redis, written through to the database) and the API's throttles
count in the cache. The cache's ``IGNORE_EXCEPTIONS`` option (config/settings.py) turns an
unreachable or restarted Redis into a cache miss: the database answers instead of an error."""

from __future__ import annotations

import threading
from typing import Any, ClassVar

from django_redis.pool import ConnectionFactory
from redis import Redis


class SharedClientConnectionFactory(ConnectionFactory):
    """django-redis keeps its connection pools per process but builds a new ``redis.Redis`` over the
    pool for every cache object, and Django keeps cache objects per asyncio context: under ASGI, one
    per request (a few hundred microseconds of setting up its response callbacks, on every session
    read). One per pool is enough: a ``redis.Redis`` is thread-safe, each command takes a connection
    from the pool. Keyed by URL, as django-redis keys its pools."""

    _clients: ClassVar[dict[str, Redis]] = {}
    _clients_lock = threading.Lock()

    def get_connection(self, params: dict[str, Any]) -> Redis:
        key = params["url"]
        with self._clients_lock:
            client = self._clients.get(key)
            if client is None:
                client = self._clients[key] = super().get_connection(params)
        return client
