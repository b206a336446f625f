from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from core.middleware import RefusedRequest


def error_400(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    # The request guard's refusal says what was wrong (and a body too large is a 413); other bad
    # requests stay unexplained.
    if isinstance(exception, RefusedRequest):
        context = {"code": exception.status, "message": str(exception)}
        return render(request, "frontend/errors/error.html", context, status=exception.status)
    return render(request, "frontend/errors/error.html", {"code": 400, "message": ""}, status=400)


def error_403(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return render(request, "frontend/errors/error.html", {"code": 403}, status=403)


def error_404(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return render(request, "frontend/errors/error.html", {"code": 404}, status=404)


def error_500(request: HttpRequest) -> HttpResponse:
    return render(request, "frontend/errors/error.html", {"code": 500}, status=500)
