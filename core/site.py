"""The site's own address in absolute links (e-mails, the certificate's QR code, the verification
URL): the configured ``SITE_URL`` when it is set; otherwise the address the request was served on,
carried to the Celery tasks enqueued while serving it; otherwise ``SITE_URL_DEFAULT`` (where ``make
run`` serves: ``http://HOST:PORT``).

The request's address is its Host header, which Django checks against ALLOWED_HOSTS (as it does for
its own password-reset links); behind a proxy or in production, set ``SITE_URL``."""

from __future__ import annotations

from collections.abc import Callable
from contextvars import ContextVar
from typing import Any

from django.conf import settings
from django.core.exceptions import DisallowedHost
from django.http import HttpRequest, HttpResponse

_served_on: ContextVar[str | None] = ContextVar("site_served_on", default=None)
HEADER = "sout_site_url"


def site_url() -> str:
    """The site's address without a trailing slash, e.g. ``http://127.0.0.1:8101``."""
    return settings.SITE_URL or _served_on.get() or settings.SITE_URL_DEFAULT


def absolute_url(path: str) -> str:
    return f"{site_url()}{path}"


class SiteUrlMiddleware:
    """Remembers, for the time of a request, the address it was served on."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        try:
            address: str | None = f"{request.scheme}://{request.get_host()}"
        except DisallowedHost:
            address = None
        token = _served_on.set(address)
        try:
            return self.get_response(request)
        finally:
            _served_on.reset(token)


# --- Celery: a task enqueued while serving a request builds its links on the request's address -----


def task_publish(*, headers: dict[str, Any] | None = None, **_kwargs: Any) -> None:
    address = _served_on.get()
    if headers is not None and address:
        headers[HEADER] = address


def task_start(*, task: Any = None, **_kwargs: Any) -> None:
    request: Any = getattr(task, "request", None)
    address = getattr(request, HEADER, None) or (getattr(request, "headers", None) or {}).get(HEADER)
    if request is not None and address:
        request.sout_site_token = _served_on.set(str(address))


def task_end(*, task: Any = None, **_kwargs: Any) -> None:
    request: Any = getattr(task, "request", None)
    token = getattr(request, "sout_site_token", None)
    if request is not None and token is not None:
        request.sout_site_token = None
        try:
            _served_on.reset(token)
        except ValueError:  # ended in another context than it started
            _served_on.set(None)
