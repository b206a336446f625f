"""The public registry of experts: search, the entry page, the verification page of a certificate
(the QR target) and open data."""

from __future__ import annotations

from typing import Any

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render

from core import calendar
from core.db import on_replica
from core.errors import DomainError
from registry import selectors
from registry.api.views import search_params
from registry.forms import StatusOnForm
from registry.models import AreaOfActivity, Certificate, CertificateHistory


def registry_search(request: HttpRequest) -> HttpResponse:
    error = ""
    result = None
    params: dict[str, Any] = {}
    try:
        params = search_params(request.GET)
        # The public registry may lag a few seconds: read from the replica when there is one.
        result = on_replica(lambda: selectors.registry_search(**params))
    except DomainError as exc:
        error = exc.message
    return render(
        request,
        "frontend/registry/search.html",
        {
            "result": result,
            "error": error,
            "q": request.GET,
            "areas": AreaOfActivity.objects.all(),
            "statuses": Certificate.Status.choices,
            "years": range(calendar.today().year, 2013, -1),
            "params": params,
        },
    )


def registry_entry(request: HttpRequest, number: str) -> HttpResponse:
    certificate = on_replica(lambda: selectors.certificate_by_number(number[:40]))
    if certificate is None:
        raise Http404
    verification = on_replica(lambda: selectors.certificate_verification(certificate))
    # Was it valid on a day (seed 002, p.3.6.2.4): asked by the form of the page itself (GET).
    status_form = StatusOnForm(request.GET if "date" in request.GET else None)
    status_on = (
        selectors.certificate_status_on(certificate, on=status_form.cleaned_data["date"])
        if status_form.is_valid()
        else None
    )
    return render(
        request,
        "frontend/registry/entry.html",
        {**_entry_context(certificate, verification), "status_form": status_form, "status_on": status_on},
    )


def registry_verify(request: HttpRequest, token: str) -> HttpResponse:
    """The QR target: says plainly whether the certificate is valid today — only when the registry's
    record verifies against its signature and the data the QR code carries (if any) is that record
    signed by the ministry; otherwise one verdict: not confirmed, and why."""
    certificate = selectors.certificate_by_token(token[:40])
    if certificate is None:
        raise Http404
    verification = selectors.certificate_verification(
        certificate,
        payload=request.GET.get("d", ""),
        signature=request.GET.get("s", ""),
        key_id=request.GET.get("k", ""),
    )
    return render(request, "frontend/registry/verify.html", _entry_context(certificate, verification))


def _entry_context(certificate: Certificate, verification: selectors.Verification) -> dict[str, Any]:
    """The status shown is the one the verified record states (never the row's dates alone)."""
    return {
        "certificate": certificate,
        "verification": verification,
        "status": verification.status,
        "today": calendar.today(),
        "areas": AreaOfActivity.shown_titles([a for a in certificate.areas_text.split("; ") if a]),
        "history": certificate.history.exclude(kind=CertificateHistory.Kind.HANDED_OVER),
    }


def open_data(request: HttpRequest) -> HttpResponse:
    return render(request, "frontend/registry/open_data.html", {"last_change": on_replica(selectors.last_change)})
