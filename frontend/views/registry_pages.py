"""The public registry of experts: search, the entry page, the verification page of a certificate
(the QR target) and open data."""

from __future__ import annotations

import json
from typing import Any

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render

from core import calendar
from core.errors import DomainError
from registry import selectors, signing
from registry.api.views import search_params
from registry.models import AreaOfActivity, Certificate


def registry_search(request: HttpRequest) -> HttpResponse:
    error = ""
    result = None
    params: dict[str, Any] = {}
    try:
        params = search_params(request.GET)
        result = selectors.registry_search(**params)
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
    certificate = selectors.certificate_by_number(number[:40])
    if certificate is None:
        raise Http404
    return render(request, "frontend/registry/entry.html", _entry_context(certificate))


def registry_verify(request: HttpRequest, token: str) -> HttpResponse:
    """The QR target: says plainly whether the certificate is valid today, and whether the data the
    QR code carries is the registry's record signed by the ministry."""
    certificate = selectors.certificate_by_token(token[:40])
    if certificate is None:
        raise Http404
    context = _entry_context(certificate)
    context["qr_check"] = _check_qr(
        request.GET.get("d", ""), request.GET.get("s", ""), request.GET.get("k", ""), certificate=certificate
    )
    return render(request, "frontend/registry/verify.html", context)


def _entry_context(certificate: Certificate) -> dict[str, Any]:
    return {
        "certificate": certificate,
        "status": certificate.status,
        "today": calendar.today(),
        "areas": [a for a in certificate.areas_text.split("; ") if a],
        "history": certificate.history.exclude(kind="handed_over"),
    }


# The fields of the signed record fixed at issue; the annulment and the signing time change after.
QR_FIXED_FIELDS = ("number", "name", "issued_on", "expires_on", "areas")


def _check_qr(payload: str, signature: str, key_id: str, *, certificate: Certificate) -> str:
    """'' without QR data; 'invalid' when the data is not signed by a published key; 'mismatch' when
    it is signed but is not this certificate's record (the QR code of another certificate, or data
    that differ from the registry's); 'valid' otherwise."""
    if not payload:
        return ""
    try:
        record = json.loads(signing.b64decode(payload))
    except (ValueError, UnicodeDecodeError):
        return "invalid"
    if not isinstance(record, dict) or not signing.verify(record, signature, key_id):
        return "invalid"
    current = selectors.certificate_record(certificate)
    if any(record.get(field) != current[field] for field in QR_FIXED_FIELDS):
        return "mismatch"
    return "valid"


def open_data(request: HttpRequest) -> HttpResponse:
    return render(request, "frontend/registry/open_data.html", {"last_change": selectors.last_change()})
