"""The API's error shape: every 4xx answers ``{"error": {"code", "message", "fields"}}`` with a
Russian message, whatever raised it (a domain rule, a validation, a missing object, a throttle)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django import forms
from django.core.exceptions import PermissionDenied
from django.core.validators import RegexValidator
from django.http import Http404
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.utils import extend_schema_field
from rest_framework import exceptions, negotiation, parsers, permissions, serializers, status
from rest_framework.request import is_form_media_type
from rest_framework.response import Response

from core.accounts import second_factor_pending
from core.errors import DomainError
from core.middleware import body_refusal
from core.text import TextField, TextSerializerField, unstorable, unstorable_error

if TYPE_CHECKING:
    from rest_framework.request import Request
    from rest_framework.views import APIView


def _flatten(detail: Any, prefix: str = "") -> dict[str, list[str]]:
    """DRF's nested error details as ``{"field" or "section.N.field": [messages]}``."""
    out: dict[str, list[str]] = {}
    if isinstance(detail, dict):
        for key, value in detail.items():
            name = "non_field_errors" if key in ("non_field_errors", "__all__") and not prefix else f"{prefix}{key}"
            out.update(_flatten(value, f"{name}."))
    elif isinstance(detail, list) and detail and all(isinstance(d, dict | list) for d in detail):
        for index, value in enumerate(detail):
            out.update(_flatten(value, f"{prefix}{index}."))
    elif isinstance(detail, list):
        out[prefix.rstrip(".") or "non_field_errors"] = [str(d) for d in detail]
    else:
        out[prefix.rstrip(".") or "non_field_errors"] = [str(detail)]
    return {k: v for k, v in out.items() if v}


def error_body(*, code: str, message: str, fields: dict[str, list[str]] | None = None) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "fields": fields or {}}}


def error_response(
    *, code: str, message: str, status_code: int, fields: dict[str, list[str]] | None = None
) -> Response:
    return Response(error_body(code=code, message=message, fields=fields), status=status_code)


def server_error_body(exc: BaseException) -> dict[str, Any]:
    """A bug, not the client's fault: logged with its traceback, answered as a structured 500."""
    import logging

    logging.getLogger("django.request").error("API error: %s", exc, exc_info=exc)
    return error_body(
        code="server_error",
        message=_("Внутренняя ошибка сервера. Повторите запрос позже; сохранённые данные не потеряны."),
    )


def too_deep_error() -> DomainError:
    """JSON nested deeper than Python's parser follows (a RecursionError): the client's fault."""
    return DomainError(
        _("Слишком глубоко вложенный JSON: тело запроса не разобрано, уменьшите вложенность."), code="too_deep"
    )


class JSONParser(parsers.JSONParser):
    """DRF's JSON parser that refuses a lone surrogate or NUL anywhere in the body, in a field
    nobody validates too (exam room events, a key of an object): a structured 400, never a 500
    from the database. JSON nested too deep is a 400 (a body over the size limit is a 413 before:
    DRF reads the body through Django's ``request.body``, which keeps DATA_UPLOAD_MAX_MEMORY_SIZE)."""

    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> Any:
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise too_deep_error() from None
        if unstorable(data) is not None:
            raise unstorable_error()
        return data


class ContentNegotiation(negotiation.DefaultContentNegotiation):
    """DRF's negotiation that also refuses (415) a form sent to a view that parses no form. The
    request guard (core.middleware) and the CSRF check read a posted form before DRF does, and DRF
    would then take the form for an empty body instead of refusing its type. Negotiation is the
    step every API request passes before its view reads anything; an empty form (no fields, no
    files: a client posting "nothing") stays an empty body, as DRF reads it."""

    def select_renderer(self, request: Request, renderers: Any, format_suffix: str | None = None) -> Any:
        media_type = request.content_type
        if is_form_media_type(media_type) and not any(is_form_media_type(p.media_type) for p in request.parsers or ()):
            django_request = request._request
            if django_request.method == "POST" and (django_request.POST or django_request.FILES):
                raise exceptions.UnsupportedMediaType(media_type)
        return super().select_renderer(request, renderers, format_suffix)


class IsAuthenticatedWithSecondFactor(permissions.IsAuthenticated):
    """The API's default permission: signed in, and a staff member who turned on TOTP has passed the
    code step in this session (a password-only session is refused, as on the staff pages)."""

    code = "second_factor_required"
    message = gettext_lazy("Подтвердите вход кодом из приложения-аутентификатора: войдите заново.")

    def has_permission(self, request: Request, view: APIView) -> bool:
        return super().has_permission(request, view) and not second_factor_pending(request.user)


def _russian_message(exc: exceptions.APIException, context: dict[str, Any]) -> str | None:
    """Our own message for DRF's errors whose text DRF builds in English (e.g. "JSON parse error - ...")."""
    request = context.get("request")
    if isinstance(exc, exceptions.ParseError):
        return _("Не удалось разобрать тело запроса: проверьте, что это корректный JSON.")
    if isinstance(exc, exceptions.UnsupportedMediaType):
        content_type = getattr(request, "content_type", "") or "—"
        return _("Тип содержимого «%(type)s» не поддерживается.") % {"type": content_type}
    if isinstance(exc, exceptions.MethodNotAllowed):
        method = getattr(request, "method", "") or "—"
        return _("Метод %(method)s не поддерживается по этому адресу.") % {"method": method}
    if isinstance(exc, exceptions.NotAcceptable):
        return _("Запрошенный формат ответа не поддерживается.")
    return None


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    # Imported here: DRF imports this module (the default permission) while loading its views.
    from rest_framework.views import exception_handler as drf_exception_handler

    if isinstance(exc, DomainError):
        return error_response(code=exc.code, message=exc.message, status_code=exc.status, fields=exc.fields)
    if refusal := body_refusal(exc):  # a body too large, too many fields, a broken multipart body
        return error_response(code=refusal.code, message=refusal.message, status_code=refusal.status)
    if isinstance(exc, Http404):
        exc = exceptions.NotFound(_("Не найдено."))
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()
    response = drf_exception_handler(exc, context)
    if response is None:
        return Response(server_error_body(exc), status=status.HTTP_500_INTERNAL_SERVER_ERROR)
    if isinstance(exc, exceptions.ValidationError):
        return error_response(
            code="invalid",
            message=_("Проверьте введённые данные."),
            status_code=status.HTTP_400_BAD_REQUEST,
            fields=_flatten(exc.detail),
        )
    if isinstance(exc, exceptions.APIException):
        detail = exc.detail
        message = _russian_message(exc, context) or (
            str(detail.get("detail", "")) if isinstance(detail, dict) else str(detail)
        )
        code = exc.get_codes() if not isinstance(exc.get_codes(), dict | list) else exc.default_code
        body = error_response(code=str(code), message=message, status_code=response.status_code)
        for header in ("Retry-After", "WWW-Authenticate", "Allow"):
            if header in response:
                body[header] = response[header]
        return body
    return response


# --- Forms as the single source of input rules --------------------------------------------------


class JSONObjectField(forms.Field):
    """A JSON object, which only the API's input has (a page posts no objects). ``scalars``: its
    values are strings, numbers or true/false. Optional and not given: ``{}``; ``{}`` given counts
    as given (a required object may be empty)."""

    default_error_messages = {
        "invalid": gettext_lazy("Ожидается объект JSON."),
        "invalid_value": gettext_lazy("Ожидается строка, число или true/false."),
    }
    empty_values = [None, ""]

    def __init__(self, *, scalars: bool = False, **kwargs: Any) -> None:
        self.scalars = scalars
        super().__init__(**kwargs)

    def to_python(self, value: Any) -> Any:
        if value in self.empty_values:
            return None
        if not isinstance(value, dict):
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid")
        if self.scalars and not all(isinstance(v, str | int | float | bool) for v in value.values()):
            raise forms.ValidationError(self.error_messages["invalid_value"], code="invalid")
        return value

    def clean(self, value: Any) -> dict[str, Any]:
        return super().clean(value) or {}


class YesNoField(forms.NullBooleanField):
    """true or false, given (a BooleanField's ``required`` would mean true: the rule that the answer
    must be yes belongs to the service, with its own message)."""

    def validate(self, value: Any) -> None:
        if value is None and self.required:
            raise forms.ValidationError(self.error_messages["required"], code="required")


@extend_schema_field({"anyOf": [{"type": "string"}, {"type": "number"}, {"type": "boolean"}]})
class _ScalarSchemaField(serializers.Field):
    """The schema of a value of a JSONObjectField(scalars=True)."""


_FIELD_MAP: list[tuple[type[forms.Field], type[serializers.Field]]] = [
    (JSONObjectField, serializers.DictField),
    (forms.EmailField, serializers.EmailField),
    (forms.DateTimeField, serializers.DateTimeField),
    (forms.DateField, serializers.DateField),
    (forms.IntegerField, serializers.IntegerField),
    (forms.BooleanField, serializers.BooleanField),
    (forms.MultipleChoiceField, serializers.MultipleChoiceField),
    (forms.ChoiceField, serializers.ChoiceField),
    (TextField, TextSerializerField),
    (forms.CharField, serializers.CharField),
]


def _serializer_field(name: str, field: forms.Field) -> serializers.Field:
    """The schema of one form field as the API reads it (form_data_from_json): null or nothing
    where the field is optional, the patterns and lengths the form checks."""
    from core.api_schema import OptionalDateField, OptionalEmailField

    serializer_class = next(s for f, s in _FIELD_MAP if isinstance(field, f))
    kwargs: dict[str, Any] = {"required": field.required, "label": str(field.label or name)}
    if field.help_text:
        kwargs["help_text"] = str(field.help_text)
    if isinstance(field, forms.ChoiceField):
        kwargs["choices"] = list(field.choices)  # type: ignore[arg-type]
    if isinstance(field, forms.CharField) and not isinstance(field, forms.ChoiceField):
        kwargs.update(max_length=field.max_length, min_length=field.min_length, allow_blank=not field.required)
        kwargs["validators"] = [v for v in field.validators if isinstance(v, RegexValidator)]
    if isinstance(field, TextField):
        kwargs["multiline"] = field.multiline
    if isinstance(field, forms.IntegerField):
        kwargs.update(min_value=field.min_value, max_value=field.max_value)
    if isinstance(field, JSONObjectField) and field.scalars:
        kwargs["child"] = _ScalarSchemaField()
    if not field.required:
        kwargs["allow_null"] = True  # null reads as empty
    if not field.required and isinstance(field, forms.EmailField):
        serializer_class = OptionalEmailField
    elif not field.required and type(field) is forms.DateField:
        serializer_class = OptionalDateField
    return serializer_class(**kwargs)


def serializer_for_form(form_class: type[forms.Form], *, name: str) -> type[serializers.Serializer]:
    """A serializer describing a Django form's fields, for the OpenAPI schema. The API validates
    input with the form itself (form_or_400), so pages and API share one set of rules and the
    schema says what validates. ``form_class`` on the serializer names the form."""
    fields = {field_name: _serializer_field(field_name, field) for field_name, field in form_class.base_fields.items()}
    return type(name, (serializers.Serializer,), {**fields, "form_class": form_class})


def _json_type_error(field: forms.Field, value: Any) -> str | None:
    """The message when a JSON value is not of the type the schema gives the field (a number is
    not taken for text, nor a string for a number or a yes/no)."""
    if isinstance(field, forms.BooleanField):
        return None if isinstance(value, bool) else _("Ожидается true или false.")
    if isinstance(field, forms.IntegerField):
        return None if isinstance(value, int) and not isinstance(value, bool) else _("Ожидается целое число.")
    return None if isinstance(value, str) else _("Ожидается строка.")


def unknown_fields(names: Any, data: dict[str, Any]) -> dict[str, list[str]]:
    """An error for each field of ``data`` not among ``names``: the API refuses what it would ignore."""
    return {str(key): [_("Неизвестное поле.")] for key in data if key not in names}


def form_data_from_json(form_class: type[forms.Form], data: Any) -> tuple[dict[str, Any], dict[str, list[str]]]:
    """Prepare a JSON object for a Django form: scalars as the form expects them, a list only where
    the field takes several values, null as empty. A value of the wrong JSON type, or a field the
    form does not have, is an error, not a crash nor a silent conversion."""
    if not isinstance(data, dict):
        return {}, {"non_field_errors": [_("Ожидается объект JSON.")]}
    prepared: dict[str, Any] = {}
    errors = unknown_fields(form_class.base_fields, data)
    for name, field in form_class.base_fields.items():
        if name not in data:
            continue
        value = data[name]
        if isinstance(field, forms.MultipleChoiceField):
            if value is None:
                value = []
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                errors[name] = [_("Ожидается список значений.")]
                continue
            prepared[name] = value
        elif value is None:
            prepared[name] = ""
        elif isinstance(field, JSONObjectField):
            prepared[name] = value  # the field checks it
        elif message := _json_type_error(field, value):
            errors[name] = [message]
        else:
            prepared[name] = value if isinstance(value, str | bool) else str(value)
    return prepared, errors


def validate_form_json(form_class: type[forms.Form], data: Any) -> tuple[dict[str, Any], dict[str, list[str]]]:
    """Validate a JSON object with a Django form: (cleaned data, errors by field)."""
    prepared, errors = form_data_from_json(form_class, data)
    form = form_class(data=prepared)
    if form.is_valid() and not errors:
        return dict(form.cleaned_data), {}
    for field, messages in form.errors.items():
        key = "non_field_errors" if field == "__all__" else field
        errors.setdefault(key, [str(m) for m in messages])
    return {}, errors


def form_or_400(form_class: type[forms.Form], data: Any) -> dict[str, Any]:
    """The API's one way to validate input: a JSON object through the Django form the pages use
    (or the form of an API-only input), its cleaned data or a structured 400 naming the fields.
    The schema of the input is serializer_for_form of the same form."""
    cleaned, errors = validate_form_json(form_class, data)
    if errors:
        raise DomainError(_("Проверьте введённые данные."), code="invalid", fields=errors)
    return cleaned
