from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from core.middleware import UnstorableText


def error_400(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    # The request guard's refusal says what was wrong; other bad requests stay unexplained.
    message = str(exception) if isinstance(exception, UnstorableText) else ""
    return render(request, "frontend/errors/error.html", {"code": 400, "message": message}, status=400)


def error_403(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return render(request, "frontend/errors/error.html", {"code": 403}, status=403)


def error_404(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return render(request, "frontend/errors/error.html", {"code": 404}, status=404)


def error_500(request: HttpRequest) -> HttpResponse:
    return render(request, "frontend/errors/error.html", {"code": 500}, status=500)
