"""The request guard: text the database cannot store never reaches a view.

A lone surrogate or NUL in the query string or in a posted form (or an uploaded file's name) is
refused with a 400 before any view runs: a structured error body under /api/, the 400 page
elsewhere. JSON bodies are checked by the API's parser (core.api.JSONParser) and by the exam
room's answer save, which parses its own body (exam.api.exam_views)."""

from __future__ import annotations

from django.core.exceptions import BadRequest
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.deprecation import MiddlewareMixin

from core.text import unstorable, unstorable_error

FORM_TYPES = frozenset({"application/x-www-form-urlencoded", "multipart/form-data"})


class UnstorableText(BadRequest):
    """Input holding a lone surrogate or NUL (the 400 page shows its message)."""


def _request_unstorable(request: HttpRequest) -> bool:
    if request.META.get("QUERY_STRING") and unstorable(list(request.GET.lists())) is not None:
        return True
    if request.method != "POST" or request.content_type not in FORM_TYPES:
        return False
    names = [upload.name for _key, uploads in request.FILES.lists() for upload in uploads]
    return unstorable([list(request.POST.lists()), names]) is not None


class UnstorableTextMiddleware(MiddlewareMixin):
    """Sync and async capable (MiddlewareMixin); a request without a query string and a form body
    (the exam room's JSON answer save) costs two dictionary lookups."""

    def process_request(self, request: HttpRequest) -> HttpResponse | None:
        if not _request_unstorable(request):
            return None
        error = unstorable_error()
        if request.path.startswith("/api/"):
            from core.api import error_body

            return JsonResponse(error_body(code=error.code, message=error.message), status=400)
        raise UnstorableText(error.message)
