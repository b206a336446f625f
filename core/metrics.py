"""Prometheus metrics of a node at ``/metrics`` (prometheus-client), for the addresses of
METRICS_ALLOWED_ADDRESSES only (others get a 404): requests (count and latency by view), answer
saves (count by outcome and latency), the finalisation lag of attempts, the outbox (letters and
e-mails not yet sent) and the replica's lag.

Counters and histograms live in memory (no query on the answer save's path); under several server
processes (uvicorn --workers, Celery's prefork) set ``PROMETHEUS_MULTIPROC_DIR`` to an empty folder
shared by the processes of the node, and every process writes its figures there
(prometheus-client's multiprocess mode). What is a state of the database (the outbox, attempts past
their deadline, the replica) is read when /metrics is scraped, by the collectors the apps register
(``scrape_register``)."""

from __future__ import annotations

import ipaddress
import os
import time
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime
from functools import cache

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.metrics_core import Metric
from prometheus_client.registry import Collector

requests_total = Counter("sout_http_requests_total", "HTTP requests served", ["method", "view", "status"])
request_seconds = Histogram(
    "sout_http_request_duration_seconds",
    "Time to answer an HTTP request",
    ["view"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
answer_saves_total = Counter("sout_answer_saves_total", "Answer saves of the exam room", ["outcome"])
# The save's three outcomes, bound once (the hot path of a sitting): applied, not applied (an older
# or equal seq), refused (a 4xx).
answer_saved = {outcome: answer_saves_total.labels(outcome) for outcome in ("applied", "not_applied", "refused")}
answer_save_seconds = Histogram(
    "sout_answer_save_duration_seconds",
    "Time of an answer save, from the parsed body to the answer",
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5),
)
finalisation_lag_seconds = Histogram(
    "sout_attempt_finalisation_lag_seconds",
    "From an attempt's deadline to its finalisation (attempts finalised at the deadline)",
    buckets=(0.5, 1, 2, 5, 10, 15, 30, 60, 120, 300),
)

Scrape = Callable[[], Iterable[Metric]]
_scrapes: list[Scrape] = []


def scrape_register(scrape: Scrape) -> None:
    """An app adds metrics read at scrape time (from its ``ready()``)."""
    if scrape not in _scrapes:
        _scrapes.append(scrape)


def finalised_late(*, deadline_at: datetime) -> None:
    finalisation_lag_seconds.observe(max(0.0, (timezone.now() - deadline_at).total_seconds()))


def gauge(name: str, documentation: str, value: float, **labels: str) -> GaugeMetricFamily:
    family = GaugeMetricFamily(name, documentation, labels=list(labels))
    family.add_metric(list(labels.values()), value)
    return family


class _Scraped(Collector):
    def collect(self) -> Iterator[Metric]:
        for scrape in _scrapes:
            yield from scrape()


@cache
def _networks(addresses: tuple[str, ...]) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    return tuple(ipaddress.ip_network(a, strict=False) for a in addresses)


def scrape_allowed(address: str) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in _networks(tuple(settings.METRICS_ALLOWED_ADDRESSES)))


@never_cache
def metrics_view(request: HttpRequest) -> HttpResponse:
    """Only for the monitoring's addresses: to anyone else the address does not exist."""
    if not scrape_allowed(request.META.get("REMOTE_ADDR", "")):
        raise Http404
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
    else:
        registry = REGISTRY
    scraped = CollectorRegistry(auto_describe=False)
    scraped.register(_Scraped())
    return HttpResponse(generate_latest(registry) + generate_latest(scraped), content_type=CONTENT_TYPE_LATEST)


class MetricsMiddleware:
    """Counts each request and its time, by the view that answered (a bounded set of names)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        started = time.perf_counter()
        response = self.get_response(request)
        match = request.resolver_match
        view = match.view_name if match is not None else "unmatched"
        request_seconds.labels(view).observe(time.perf_counter() - started)
        requests_total.labels(request.method or "", view, str(response.status_code)).inc()
        return response


def core_scrape() -> Iterator[Metric]:
    """The outbox and the replica, as they stand when scraped."""
    from core.db import replica_state
    from core.models import LetterEdition, Notification

    backlog = GaugeMetricFamily("sout_outbox_backlog", "Messages and letters not yet sent", labels=["kind"])
    backlog.add_metric(["notification_email"], Notification.objects.filter(emailed_at__isnull=True).count())
    letters = LetterEdition.objects.filter(dispatched_at__isnull=True).exclude(particulars__email="")
    backlog.add_metric(["letter_edition_email"], letters.count())
    yield backlog
    state = replica_state()
    if state is not None:
        yield gauge("sout_replica_usable", "1 when reads that may lag go to the replica", float(state.usable))
        yield gauge(
            "sout_replica_lag_seconds",
            "Replay lag of the read replica (-1: it does not answer)",
            state.lag if state.lag is not None else -1.0,
        )
