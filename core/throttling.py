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


def rate_allows(*, scope: str, ident: str) -> tuple[bool, float]:
    """Count one more request of ``ident`` under the rate of ``scope`` (REST_FRAMEWORK's
    DEFAULT_THROTTLE_RATES): (allowed, seconds until the next window). Pages use it as the API does."""
    parser = WindowScopedRateThrottle()  # its rates: tests rebind them on this class
    parser.scope = scope
    num_requests, duration = parser.parse_rate(parser.get_rate())
    if num_requests is None or duration is None:
        return True, 0.0
    now = parser.timer()
    window = int(now // duration)
    count = window_count(f"throttle_{scope}_{ident}:{window}", seconds=duration + 1)
    return count is None or count <= num_requests, (window + 1) * duration - now


class WindowScopedRateThrottle(ScopedRateThrottle):
    """ScopedRateThrottle's rates and scopes (``throttle_scope`` of the view, per client address),
    counted by window_count."""

    def allow_request(self, request: Request, view: Any) -> bool:
        scope = getattr(view, self.scope_attr, None)
        if not scope:
            return True
        user = request.user
        ident = str(user.pk) if user and user.is_authenticated else self.get_ident(request)
        allowed, self.retry_after = rate_allows(scope=scope, ident=ident)
        return allowed

    def wait(self) -> float | None:
        return max(self.retry_after, 0.0)
