"""The OpenAPI schema states what the API does (drf-spectacular; checked by tests/contract/run.py).

* Every operation declares the error answers it can give, each with the one ``Error`` component
  (core.api's ``{"error": {"code", "message", "fields"}}``): the ones the framework gives are
  derived from the view here (400 for a body, query parameters or text in the path, where
  core.middleware refuses a NUL; 403 for a signed-in API or the CSRF check; 404 for an object in
  the path; 413 and 415 for POST, PUT and PATCH, a body over the size limit or of another type;
  429 for a rate limit); the ones the procedure gives (409, a 404 without an object in the path,
  ...) are declared on the view with ``errors(...)``.
* A request body refuses the fields it does not name (``additionalProperties: false``), as the
  API does (core.api.form_data_from_json, core.api.json_object).
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.openapi import AutoSchema as SpectacularAutoSchema
from drf_spectacular.utils import OpenApiResponse, extend_schema_field
from rest_framework import serializers
from rest_framework.authentication import SessionAuthentication
from rest_framework.permissions import AllowAny

ERROR_DESCRIPTIONS = {
    400: "Ошибка в запросе или в данных (code, message, fields по полям)",
    401: "Нужен вход в систему тестирования",
    403: "Нет прав, нужен вход или не пройдена проверка CSRF",
    404: "Не найдено",
    405: "Метод не поддерживается",
    409: "Действие недоступно в текущем состоянии",
    413: "Тело запроса больше допустимого размера",
    415: "Тип содержимого не поддерживается",
    429: "Слишком много запросов: повторите позже (заголовок Retry-After)",
}

ERROR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "code": {"type": "string", "description": "Стабильный код ошибки для программ"},
        "message": {"type": "string", "description": "Сообщение для человека (по-русски)"},
        "fields": {
            "type": "object",
            "description": "Сообщения по полям: «поле» или «раздел.N.поле»; non_field_errors — об объекте в целом",
            "additionalProperties": {"type": "array", "items": {"type": "string"}},
        },
    },
    "required": ["code", "message", "fields"],
    "additionalProperties": False,
}


@extend_schema_field(ERROR_SCHEMA)
class _ErrorDetailField(serializers.JSONField):
    pass


class ErrorSerializer(serializers.Serializer):
    """The one error body of the API (core.api.error_body)."""

    error = _ErrorDetailField()


def error_response(status: int) -> OpenApiResponse:
    return OpenApiResponse(ErrorSerializer, description=ERROR_DESCRIPTIONS[status])


def errors(*statuses: int) -> dict[int, OpenApiResponse]:
    """The error answers a view gives beyond those the schema derives (for ``extend_schema``)."""
    return {status: error_response(status) for status in statuses}


def _or_blank(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"anyOf": [schema, {"type": "string", "maxLength": 0}], "description": description}


# 254: the longest address (RFC 5321), the bound of every e-mail field of our forms and models.
@extend_schema_field(
    _or_blank({"type": "string", "format": "email", "maxLength": 254}, "Адрес электронной почты или пустая строка")
)
class OptionalEmailField(serializers.EmailField):
    """An e-mail that may be left empty (the forms accept "" for an optional address)."""


@extend_schema_field(_or_blank({"type": "string", "format": "date"}, "Дата или пустая строка (null) — не указана"))
class OptionalDateField(serializers.DateField):
    """A date that may be left empty (the forms accept "" for an optional date)."""


class AutoSchema(SpectacularAutoSchema):
    """drf-spectacular's AutoSchema with the error answers and closed request bodies."""

    def _get_response_bodies(self, direction: Any = "response") -> dict[str, Any]:
        responses: dict[str, Any] = super()._get_response_bodies(direction)
        for status in sorted(self._framework_errors()):
            if str(status) not in responses:
                responses[str(status)] = self._get_response_for_code(error_response(status), str(status))
        return responses

    def _framework_errors(self) -> set[int]:
        """The error answers that DRF and core.api give for this operation whatever the view does."""
        statuses: set[int] = set()
        has_body = self.method in ("POST", "PUT", "PATCH") and self.get_request_serializer() is not None
        if has_body:
            statuses.add(400)
        if self.method in ("POST", "PUT", "PATCH"):
            # A body over DATA_UPLOAD_MAX_MEMORY_SIZE, or of a type the view does not parse (a form
            # is refused even where the operation takes no body: core.api.ContentNegotiation).
            statuses |= {413, 415}
        parameters = self._get_parameters()
        if any(p.get("in") == "query" for p in parameters):
            statuses.add(400)
        if any(p.get("in") == "path" and p.get("schema", {}).get("type") == "string" for p in parameters):
            statuses.add(400)  # a NUL or a lone surrogate in the text
        if "{" in self.path:
            statuses.add(404)  # no such object, or not the caller's (never 403: it would tell that it exists)
        view = self.view
        authenticated = not all(isinstance(p, AllowAny) for p in view.get_permissions())
        session = any(isinstance(a, SessionAuthentication) for a in view.get_authenticators())
        if authenticated or (session and self.method not in ("GET", "HEAD", "OPTIONS")):
            statuses.add(403)
        if view.get_throttles():
            statuses.add(429)
        return statuses

    def _map_serializer_field(self, field: Any, direction: Any, bypass_extensions: bool = False) -> dict[str, Any]:
        """A multiple choice that may be null is a nullable list of choices: null stands for no
        choice (core.api.form_data_from_json), never for one of the items, which the API refuses."""
        if not (isinstance(field, serializers.MultipleChoiceField) and field.allow_null):
            return dict(super()._map_serializer_field(field, direction, bypass_extensions))
        field.allow_null = False
        try:
            schema = dict(super()._map_serializer_field(field, direction, bypass_extensions))
        finally:
            field.allow_null = True
        return {**schema, "nullable": True}

    def _map_serializer(self, serializer: Any, direction: Any, bypass_extensions: bool = False) -> dict[str, Any]:
        schema: dict[str, Any] = super()._map_serializer(serializer, direction, bypass_extensions)
        if direction == "request" and schema.get("type") == "object" and "properties" in schema:
            schema["additionalProperties"] = False
        return schema


class SessionCookieScheme(OpenApiAuthenticationExtension):
    """The portal's session cookie, with the CSRF header on unsafe methods."""

    target_class = "rest_framework.authentication.SessionAuthentication"
    name = "cookieAuth"
    priority = 1

    def get_security_definition(self, auto_schema: Any) -> dict[str, Any]:
        return {
            "type": "apiKey",
            "in": "cookie",
            "name": "sessionid",
            "description": "Сессия портала; для POST, PUT и DELETE — заголовок X-CSRFToken со значением cookie csrftoken.",
        }
