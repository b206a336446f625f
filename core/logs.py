"""Structured logs of several nodes: every line carries the request id, taken from an incoming
``X-Request-ID`` when it is well-formed (the balancer's, or the client's), else made here; returned
in the response's header and carried into the Celery tasks the request enqueues (a task header), so
that one id follows a request across nodes and workers. With ``LOG_FORMAT=json`` the lines are JSON
(python-json-logger); otherwise the human format of ``make run``."""

from __future__ import annotations

import logging
import random
import re
import time
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from core.carried import Carried

HEADER = "X-Request-ID"
# Letters, digits and . _ : - up to 128 characters (a UUID, HAProxy's unique-id, a trace id): an id
# that cannot forge a log line or a header.
WELL_FORMED = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,127}")
request_id = Carried("request_id", header="sout_request_id")
access_log = logging.getLogger("sout.request")


def incoming_or_new(value: str | None) -> str:
    """The incoming id when well-formed, else 128 random bits in hex, as a UUID's: from the process's
    generator (seeded from the system's at start and after a fork), since a read of the system's
    (uuid4) lets go of the interpreter lock in the middle of every request."""
    if value and WELL_FORMED.fullmatch(value):
        return value
    return f"{random.getrandbits(128):032x}"


class RequestIdFilter(logging.Filter):
    """Adds ``request_id`` to every record (None outside a request or a task it enqueued)."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id.get()
        return True


class RequestIdMiddleware:
    """First in the chain: the id is set before anything logs, and one access line (JSON logs; the
    human format leaves it to the server's own access log) says what was served, without the query
    string (a registry search holds a name)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        rid = incoming_or_new(request.headers.get(HEADER))
        token = request_id.set(rid)
        started = time.perf_counter()
        try:
            response = self.get_response(request)
            response[HEADER] = rid
            if access_log.isEnabledFor(logging.INFO):
                access_log.info(
                    "%s %s %s",
                    request.method,
                    request.path,
                    response.status_code,
                    extra={
                        "method": request.method,
                        "path": request.path,
                        "status": response.status_code,
                        "duration_ms": round((time.perf_counter() - started) * 1000, 1),
                    },
                )
            return response
        finally:
            request_id.reset(token)
