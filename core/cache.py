"""A Redis cache that degrades to a miss when Redis is unreachable, with one client per process.

Sessions are cached_db (read from Redis, written through to the database) and the API's throttles
count in the cache: with this backend a restarted or unreachable Redis slows nothing down to an
error, the database answers instead."""

from __future__ import annotations

import logging
import threading
from functools import cached_property
from typing import Any

from django.core.cache.backends.redis import RedisCache, RedisCacheClient
from redis.exceptions import RedisError

log = logging.getLogger(__name__)


_clients: dict[str, Any] = {}
_clients_lock = threading.Lock()


class ReusedRedisClient(RedisCacheClient):
    """Django builds a new ``redis.Redis`` over the pool for every command (a few hundred
    microseconds of setting up its response callbacks, on every session read). One per pool is
    enough: a ``redis.Redis`` is thread-safe, each command takes a connection from the pool."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._redis_clients: dict[int, Any] = {}

    def get_client(self, key: Any = None, *, write: bool = False) -> Any:
        base: Any = self  # RedisCacheClient's private methods, untyped in django-stubs
        index = base._get_connection_pool_index(write)
        client = self._redis_clients.get(index)
        if client is None:
            client = self._redis_clients[index] = base._client(connection_pool=base._get_connection_pool(write))
        return client


class ResilientRedisCache(RedisCache):
    @cached_property
    def _cache(self) -> Any:
        """One client (so one connection pool) per process and configuration. Django keeps cache
        objects per asyncio context, and under ASGI each request is a new context: without this,
        every request would open a new TCP connection to Redis."""
        base: Any = self  # RedisCache's private attributes, untyped in django-stubs
        key = repr((base._servers, sorted(base._options.items())))
        with _clients_lock:
            client = _clients.get(key)
            if client is None:
                client = _clients[key] = ReusedRedisClient(base._servers, **base._options)
        return client

    def _safe(self, method: str, default: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return getattr(super(), method)(*args, **kwargs)
        except RedisError as exc:
            log.warning("cache %s failed, Redis unavailable: %s", method, exc)
            return default

    def get(self, key: Any, default: Any = None, version: Any = None) -> Any:
        return self._safe("get", default, key, default, version)

    def get_many(self, keys: Any, version: Any = None) -> Any:
        return self._safe("get_many", {}, keys, version)

    def set(self, key: Any, value: Any, timeout: Any = 300, version: Any = None) -> None:
        self._safe("set", None, key, value, timeout, version)

    def add(self, key: Any, value: Any, timeout: Any = 300, version: Any = None) -> bool:
        return bool(self._safe("add", False, key, value, timeout, version))

    def set_many(self, data: Any, timeout: Any = 300, version: Any = None) -> list[Any]:
        return list(self._safe("set_many", [], data, timeout, version))

    def delete(self, key: Any, version: Any = None) -> bool:
        return bool(self._safe("delete", False, key, version))

    def delete_many(self, keys: Any, version: Any = None) -> None:
        self._safe("delete_many", None, keys, version)

    def touch(self, key: Any, timeout: Any = 300, version: Any = None) -> bool:
        return bool(self._safe("touch", False, key, timeout, version))

    def has_key(self, key: Any, version: Any = None) -> bool:
        return bool(self._safe("has_key", False, key, version))

    def clear(self) -> None:
        self._safe("clear", None)
