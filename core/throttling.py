"""Rate limits of the public API counted in fixed windows: one round trip to Redis per request.

DRF's throttles keep, per client, the list of the times of its recent requests, read and written
whole at every request (two round trips, and a list as long as the rate). A counter per client and
window (INCR, and EXPIRE on the first request of the window, in one pipeline) does the same job for
a public registry; a client may make up to twice the rate across the boundary of two windows. When
the cache is unavailable the request is let through: a lost counter must not close the registry.

Clients are told apart by DRF's get_ident, which reads X-Forwarded-For only from as many proxies as
REST_FRAMEWORK["NUM_PROXIES"] says (settings API_NUM_PROXIES, 0 by default: REMOTE_ADDR alone; unset,
DRF would believe any X-Forwarded-For, and a client sending a new one each time would never be
limited)."""

from __future__ import annotations

import logging
from typing import Any

from django.core.cache import caches
from django_redis import get_redis_connection
from django_redis.cache import RedisCache
from redis.exceptions import RedisError
from rest_framework.request import Request
from rest_framework.throttling import ScopedRateThrottle

log = logging.getLogger(__name__)


def window_count(key: str, *, seconds: int) -> int | None:
    """Count one more request under ``key``, which lives ``seconds``; None if the cache is down."""
    backend = caches["default"]
    if isinstance(backend, RedisCache):
        full_key = backend.make_and_validate_key(key)
        try:
            pipe = get_redis_connection("default", write=True).pipeline(transaction=False)
            pipe.incr(full_key)
            pipe.expire(full_key, seconds, nx=True)
            return int(pipe.execute()[0])
        except RedisError as exc:
            log.warning("throttle counter unavailable, request let through: %s", exc)
            return None
    backend.add(key, 0, seconds)  # the embedded mode's local memory
    try:
        return int(backend.incr(key))
    except ValueError:  # expired between the two calls
        backend.add(key, 1, seconds)
        return 1


class WindowScopedRateThrottle(ScopedRateThrottle):
    """ScopedRateThrottle's rates and scopes (``throttle_scope`` of the view, per client address),
    counted by window_count."""

    def allow_request(self, request: Request, view: Any) -> bool:
        self.scope = getattr(view, self.scope_attr, None)
        if not self.scope:
            return True
        self.rate = self.get_rate()
        self.num_requests, self.duration = self.parse_rate(self.rate)
        if self.rate is None or self.num_requests is None or self.duration is None:
            return True
        ident = self.get_cache_key(request, view)
        if ident is None:
            return True
        now = self.timer()
        window = int(now // self.duration)
        count = window_count(f"{ident}:{window}", seconds=self.duration + 1)
        self.retry_after = (window + 1) * self.duration - now
        return count is None or count <= self.num_requests

    def wait(self) -> float | None:
        return max(self.retry_after, 0.0)
