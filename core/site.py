"""The site's own address in absolute links (e-mails, the certificate's QR code, the verification
URL): the configured ``SITE_URL`` when it is set; otherwise the address the request was served on,
carried to the Celery tasks enqueued while serving it; otherwise ``SITE_URL_DEFAULT`` (where ``make
run`` serves: ``http://HOST:PORT``).

The request's address is its Host header, which Django checks against ALLOWED_HOSTS (as it does for
its own password-reset links); behind a proxy or in production, set ``SITE_URL``."""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.core.exceptions import DisallowedHost
from django.http import HttpRequest, HttpResponse

from core.carried import Carried

HEADER = "sout_site_url"
# Carried to the tasks a request enqueues: a task builds its links on the request's address.
served_on = Carried("site_served_on", header=HEADER)


def site_url() -> str:
    """The site's address without a trailing slash, e.g. ``http://127.0.0.1:8101``."""
    return settings.SITE_URL or served_on.get() or settings.SITE_URL_DEFAULT


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
        token = served_on.set(address)
        try:
            return self.get_response(request)
        finally:
            served_on.reset(token)
