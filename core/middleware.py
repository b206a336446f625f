"""The request guard: a request no view can handle never reaches one.

* A lone surrogate or NUL in the address, the query string or a posted form (or an uploaded file's
  name) is refused with a 400: the database cannot store it, and a view would pass it to a query.
* A body over DATA_UPLOAD_MAX_MEMORY_SIZE (413), too many fields or files and a broken multipart
  body (400), which Django finds while reading the query string or a form, are refused here too,
  each with its own Russian message (``body_refusal``), not a bare 400 or a 500 from deep inside.

Under /api/ the answer is the API's structured error body; elsewhere the error page, saying what
was wrong. JSON bodies are checked by the API's parser (core.api.JSONParser) and by the exam room's
answer save, which parses its own body (exam.testing.api.views); both use ``body_refusal`` as well."""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import BadRequest, RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.http.multipartparser import MultiPartParserError
from django.template.defaultfilters import filesizeformat
from django.utils.deprecation import MiddlewareMixin
from django.utils.translation import gettext as _

from core.text import unstorable, unstorable_error

FORM_TYPES = frozenset({"application/x-www-form-urlencoded", "multipart/form-data"})
# What Django raises while reading a request that the client sent wrong (request.GET, .POST, .body).
BODY_ERRORS = (RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent, MultiPartParserError)


class RefusedRequest(BadRequest):
    """A request the guard refuses: the error page shows its message with its status (400 or 413)."""

    def __init__(self, message: str, *, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class Refusal:
    status: int
    code: str
    message: str


def body_refusal(exc: BaseException) -> Refusal | None:
    """The answer to a request Django could not read because of the client (``BODY_ERRORS``), or
    None for any other exception."""
    if isinstance(exc, RequestDataTooBig):
        size = filesizeformat(settings.DATA_UPLOAD_MAX_MEMORY_SIZE)
        return Refusal(
            413,
            "request_too_large",
            _("Тело запроса больше допустимого (%(size)s): уменьшите объём данных или приложите файлы по одному.")
            % {"size": size},
        )
    if isinstance(exc, TooManyFieldsSent | TooManyFilesSent):
        return Refusal(
            400, "too_many_fields", _("Слишком много полей или файлов в запросе: отправьте форму без лишних полей.")
        )
    if isinstance(exc, MultiPartParserError):
        return Refusal(
            400, "parse_error", _("Не удалось разобрать тело запроса (multipart/form-data): отправьте форму заново.")
        )
    return None


def _request_unstorable(request: HttpRequest) -> bool:
    """Reads the query string and a posted form: may raise one of ``BODY_ERRORS``."""
    if unstorable(request.path_info) is not None:
        return True
    if request.META.get("QUERY_STRING") and unstorable(list(request.GET.lists())) is not None:
        return True
    if request.method != "POST" or request.content_type not in FORM_TYPES:
        return False
    names = [upload.name for _key, uploads in request.FILES.lists() for upload in uploads]
    return unstorable([list(request.POST.lists()), names]) is not None


def _refusal(request: HttpRequest) -> Refusal | None:
    try:
        if not _request_unstorable(request):
            return None
    except BODY_ERRORS as exc:
        return body_refusal(exc)
    error = unstorable_error()
    return Refusal(400, error.code, error.message)


class UnstorableTextMiddleware(MiddlewareMixin):
    """Sync and async capable (MiddlewareMixin); a request without a query string and a form body
    (the exam room's JSON answer save) costs a search of its path and two dictionary lookups."""

    def process_request(self, request: HttpRequest) -> HttpResponse | None:
        refusal = _refusal(request)
        if refusal is None:
            return None
        if request.path.startswith("/api/"):
            from core.api import error_body

            return JsonResponse(error_body(code=refusal.code, message=refusal.message), status=refusal.status)
        raise RefusedRequest(refusal.message, status=refusal.status)
