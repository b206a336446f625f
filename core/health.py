"""The health of a node (django-health-check): its database, its Redis (the cache and the channel
layer) and the Celery broker, for the balancer and monitoring. 200 when every part answers, 503
when one does not; the answer names the parts, never a host, a port or anyone's data.
``/health/live`` only says that the process serves (no part checked): a liveness probe."""

from __future__ import annotations

import dataclasses
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.views.decorators.cache import never_cache
from health_check.base import HealthCheck
from health_check.checks import Cache, Database
from health_check.contrib.redis import Redis
from health_check.exceptions import ServiceUnavailable
from health_check.views import HealthCheckView
from redis.asyncio import Redis as RedisClient

TIMEOUT_SECONDS = 2


@dataclasses.dataclass
class RedisPing(Redis):
    """Redis of REDIS_URL as the settings say now (a test may point it elsewhere)."""

    def __post_init__(self) -> None:
        self.client_factory = lambda: RedisClient.from_url(
            settings.REDIS_URL, socket_connect_timeout=TIMEOUT_SECONDS, socket_timeout=TIMEOUT_SECONDS
        )
        super().__post_init__()

    def __repr__(self) -> str:
        return "Redis"


@dataclasses.dataclass
class Broker(HealthCheck):
    """The Celery broker accepts a connection (the workers may run on other nodes: their absence
    does not make this node unhealthy; the finalisation lag of /metrics shows it)."""

    def run(self) -> None:
        from kombu import Connection

        url = settings.CELERY_BROKER_URL
        options = dict(settings.CELERY_BROKER_TRANSPORT_OPTIONS)
        with Connection(url, connect_timeout=TIMEOUT_SECONDS, transport_options=options) as connection:
            try:
                connection.ensure_connection(max_retries=0, timeout=TIMEOUT_SECONDS)
            except Exception as exc:
                raise ServiceUnavailable("Broker unreachable") from exc

    def __repr__(self) -> str:
        return "Broker"


class NodeHealthView(HealthCheckView):
    def get_checks(self) -> Any:
        yield Database(alias="default")
        if settings.REDIS_URL:
            yield RedisPing()
        else:  # embedded mode: the local-memory cache
            yield Cache()
        yield Broker()

    async def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        response: HttpResponse = await super().get(request, *args, **kwargs)
        if response.status_code == 500:  # a part is down: "unavailable", as the balancer reads it
            response.status_code = 503
        return response


@never_cache
def live(request: HttpRequest) -> HttpResponse:
    return HttpResponse("ok\n", content_type="text/plain")
