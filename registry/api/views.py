"""The public API of the registry (no authentication, throttled per client) and open data."""

from __future__ import annotations

import csv
import io
import itertools
import json
import re
from collections.abc import Iterator
from datetime import datetime
from typing import Any

from django.http import StreamingHttpResponse
from django.utils.http import http_date
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from core import calendar, dates
from core.api import form_or_400, serializer_for_form
from core.db import on_replica, replica
from core.errors import DomainError, NotFound
from core.text import for_export, text_argument
from core.throttling import WindowScopedRateThrottle
from registry import selectors, signing
from registry.forms import StatusOnForm, VerifyForm
from registry.models import Certificate, SigningKey


class PublicApi(APIView):
    authentication_classes: list[Any] = []
    permission_classes = [AllowAny]
    throttle_classes = [WindowScopedRateThrottle]
    throttle_scope = "registry"


def expert_json(entry: selectors.RegistryEntry) -> dict[str, Any]:
    """One registry entry as the API gives it (the fields of ExpertSerializer), with the status its
    verified record states ("invalid" when the record does not verify)."""
    certificate = entry.certificate
    return {
        "number": certificate.number,
        "full_name": certificate.full_name,
        "issued_on": certificate.issued_on.isoformat(),
        "expires_on": certificate.expires_on.isoformat(),
        "areas": [a for a in certificate.areas_text.split("; ") if a],
        "status": entry.status,
        "status_display": entry.status_display,
        "annulled_on": certificate.annulled_on.isoformat() if certificate.annulled_on else None,
        "url": certificate.public_url(),
    }


class ExpertFields(serializers.Serializer):
    """The fields of a registry entry: they declare the schema; the representation is expert_json's
    (a search page has 20 entries, and DRF's field machinery cost more than the search itself)."""

    number = serializers.CharField()
    full_name = serializers.CharField()
    issued_on = serializers.DateField()
    expires_on = serializers.DateField()
    areas = serializers.ListField(child=serializers.CharField())
    status = serializers.ChoiceField(
        choices=selectors.PUBLIC_STATUSES,
        help_text="как его указывает запись реестра, прошедшая проверку подписи; invalid — запись её не прошла",
    )
    status_display = serializers.CharField()
    annulled_on = serializers.DateField(allow_null=True)
    url = serializers.CharField()


class ExpertSerializer(ExpertFields):
    def to_representation(self, instance: selectors.RegistryEntry) -> dict[str, Any]:
        return expert_json(instance)


class HistorySerializer(serializers.Serializer):
    kind = serializers.CharField()
    on = serializers.DateField()
    detail = serializers.CharField()


class CertificateRecordSerializer(ExpertFields):
    """A record that does not verify against its signature (a row changed in the database, or
    never signed) is given with status "invalid" and record_valid false, whatever its dates say."""

    annulment_reason = serializers.CharField(allow_null=True)
    record = serializers.DictField()
    record_valid = serializers.BooleanField()
    signature = serializers.CharField()
    key_id = serializers.CharField()
    history = HistorySerializer(many=True)

    def to_representation(self, instance: Certificate) -> dict[str, Any]:
        public = instance.history.exclude(kind="handed_over")
        record = selectors.certificate_record(instance)
        entry = selectors.registry_entry(instance)
        return {
            **expert_json(entry),
            "record_valid": entry.status != selectors.UNCONFIRMED,
            "annulment_reason": record["annulment_reason"],
            "record": record,
            "signature": instance.signature,
            "key_id": instance.key_id,
            "history": [{"kind": h.kind, "on": h.on.isoformat(), "detail": h.detail} for h in public],
        }


class SearchPageSerializer(serializers.Serializer):
    page = serializers.IntegerField()
    next = serializers.IntegerField(allow_null=True)
    results = ExpertSerializer(many=True)


def _int(value: Any, *, field: str, minimum: int, maximum: int) -> int | None:
    if value in (None, ""):
        return None
    try:
        # Decimal digits only: int() would also take " 7", "+7", "7_0" or other scripts' digits.
        number = int(value) if re.fullmatch(r"-?[0-9]{1,20}", str(value)) else minimum - 1
    except (TypeError, ValueError):
        number = minimum - 1
    if not minimum <= number <= maximum:
        raise DomainError(_("Неверное значение параметра."), fields={field: [_("Неверное значение.")]})
    return number


def search_params(data: Any) -> dict[str, Any]:
    """The query parameters of a registry search, checked (a bad one is a structured 400)."""
    status = str(data.get("status") or "")
    if status and status not in Certificate.Status.values:
        raise DomainError(_("Неверный статус."), fields={"status": [_("Допустимо: valid, expired, annulled.")]})
    query = text_argument(data.get("q"), field="q", label=_("Запрос"), max_length=200, required=False)
    return {
        "query": query,
        "status": status,
        "area": str(data.get("area") or "")[:20],
        "year": _int(data.get("year"), field="year", minimum=2014, maximum=2100),
        "page": _int(data.get("page"), field="page", minimum=1, maximum=10000) or 1,
    }


def _int_schema(minimum: int, maximum: int) -> dict[str, Any]:
    """The schema of a whole-number query parameter that _int reads."""
    return {"type": "integer", "minimum": minimum, "maximum": maximum}


def refuse_blank(params: Any, *names: str) -> None:
    """The API refuses a parameter given empty (``?year=``): the schema gives it a type, and the
    registry page's form, which sends empty fields, reads its parameters without this check."""
    blank = [name for name in names if name in params and not params.get(name)]
    if blank:
        raise DomainError(
            _("Неверное значение параметра."),
            fields={name: [_("Укажите значение или не передавайте параметр.")] for name in blank},
        )


class ExpertListApi(PublicApi):
    @extend_schema(
        summary="Поиск в реестре экспертов",
        parameters=[
            OpenApiParameter("q", str, description="Ф. И. О. (регистр, ё/е и опечатка не важны) или номер сертификата"),
            OpenApiParameter("status", str, enum=list(Certificate.Status.values)),
            OpenApiParameter("area", str, description="код области деятельности"),
            OpenApiParameter("year", _int_schema(2014, 2100), description="год выдачи"),
            OpenApiParameter("page", _int_schema(1, 10000), description="страница"),
        ],
        responses={200: SearchPageSerializer},
    )
    def get(self, request: Request) -> Response:
        refuse_blank(request.query_params, "status", "year", "page")
        params = search_params(request.query_params)
        result = on_replica(lambda: selectors.registry_search(**params))
        return Response(
            {
                "page": result.page,
                "next": result.page + 1 if result.has_next else None,
                "results": ExpertSerializer(result.items, many=True).data,
            }
        )


class CertificateApi(PublicApi):
    @extend_schema(
        summary="Сертификат эксперта: запись реестра со статусом и подписью",
        responses={200: CertificateRecordSerializer},
    )
    def get(self, request: Request, number: str) -> Response:
        certificate = on_replica(lambda: selectors.certificate_by_number(number[:40]))
        if certificate is None:
            raise NotFound(_("Сертификат не найден в реестре."))
        return Response(on_replica(lambda: CertificateRecordSerializer(certificate).data))


class StatusOnSerializer(serializers.Serializer):
    number = serializers.CharField()
    date = serializers.DateField(help_text="день, о котором спрашивали")
    valid = serializers.BooleanField(
        help_text="true только если запись реестра прошла проверку подписи и сертификат в этот день действовал"
    )
    status = serializers.ChoiceField(
        choices=selectors.STATUSES_ON,
        help_text=(
            "статус сертификата в этот день по записи реестра, прошедшей проверку подписи: not_issued — ещё не выдан, "
            "valid — действовал (дни выдачи и окончания срока включительно), expired — срок истёк, "
            "annulled — аннулирован (со дня аннулирования включительно); invalid — запись не прошла проверку подписи"
        ),
    )
    status_display = serializers.CharField()
    message = serializers.CharField(help_text="ответ словами, с датами, на которых он основан")


class CertificateStatusOnApi(PublicApi):
    @extend_schema(
        summary="Действовал ли сертификат на дату",
        description=(
            "Для государственной экспертизы условий труда: действовал ли сертификат эксперта в день проведения "
            "специальной оценки условий труда. Ответ — по датам записи реестра, прошедшей проверку подписи "
            "Минтруда России, с учётом аннулирования. Дата — не раньше 2014-01-01 и не позже сегодняшнего дня "
            "(по московскому времени); иная дата — ответ 400."
        ),
        parameters=[
            OpenApiParameter(
                "date", OpenApiTypes.DATE, required=True, description="день в формате ГГГГ-ММ-ДД, например 2027-03-15"
            )
        ],
        responses={200: StatusOnSerializer},
    )
    def get(self, request: Request, number: str) -> Response:
        data = form_or_400(StatusOnForm, {"date": request.query_params.get("date", "")})
        certificate = selectors.certificate_by_number(number[:40])
        if certificate is None:
            raise NotFound(_("Сертификат не найден в реестре."))
        answer = selectors.certificate_status_on(certificate, on=data["date"])
        return Response(
            {
                "number": certificate.number,
                "date": answer.on.isoformat(),
                "valid": answer.valid,
                "status": answer.status,
                "status_display": answer.status_display,
                "message": answer.message,
            }
        )


class KeySerializer(serializers.ModelSerializer):
    class Meta:
        model = SigningKey
        fields = ["key_id", "algorithm", "public_key", "valid_from", "valid_to"]


class KeyListApi(PublicApi):
    @extend_schema(
        summary="Открытые ключи Минтруда для проверки подписи (с периодами действия)",
        responses={200: KeySerializer(many=True)},
    )
    def get(self, request: Request) -> Response:
        signing.publish_current_key()
        return Response(KeySerializer(SigningKey.objects.all(), many=True).data)


VerifyInput = serializer_for_form(VerifyForm, name="VerifyInput")


class VerifyResultSerializer(serializers.Serializer):
    valid = serializers.BooleanField(
        help_text="true только если запись подлинная и сертификат действителен сегодня (не аннулирован, не истёк)"
    )
    verdict = serializers.ChoiceField(choices=list(selectors.VERDICTS))
    message = serializers.CharField()
    found = serializers.BooleanField(help_text="в реестре есть сертификат с номером из записи")
    status = serializers.ChoiceField(
        choices=selectors.PUBLIC_STATUSES,
        allow_null=True,
        help_text=(
            "статус сертификата сегодня по действующей записи реестра (invalid — она не прошла проверку подписи); "
            "null, если запись не подлинная или не относится к сертификату реестра"
        ),
    )
    status_display = serializers.CharField(allow_null=True)
    current = serializers.BooleanField(
        help_text="проверенная запись — действующая запись реестра (false — более ранняя, например до аннулирования)"
    )
    current_signed_at = serializers.DateTimeField(
        allow_null=True, help_text="время подписания действующей записи реестра об этом сертификате"
    )


class VerifyApi(PublicApi):
    @extend_schema(
        summary="Проверить подпись записи реестра",
        description=(
            "Подпись проверяется ключом Минтруда, действовавшим в момент подписания. Более ранняя запись о "
            "сертификате (например, подписанная до его аннулирования) остаётся подлинной, поэтому ответ "
            "содержит статус сертификата на сегодня по действующей записи реестра: valid = true, только если "
            "запись подлинная и сертификат сегодня действителен. Сертификат с номером из записи не найден: "
            "ответ 200 с found = false и verdict = not_found."
        ),
        request=VerifyInput,
        responses={200: VerifyResultSerializer},
    )
    def post(self, request: Request) -> Response:
        data = form_or_400(VerifyForm, request.data)
        check = selectors.record_check(data["record"], data["signature"], data["key_id"])
        return Response(
            {
                "valid": check.valid,
                "verdict": check.verdict,
                "message": check.message,
                "found": check.found,
                "status": check.status,
                "status_display": selectors.status_label(check.status) if check.status else None,
                "current": check.current,
                "current_signed_at": check.current_signed_at.isoformat() if check.current_signed_at else None,
            }
        )


# --- Open data ------------------------------------------------------------------------------------

CSV_HEADER = [
    "number",
    "last_name",
    "first_name",
    "patronymic",
    "issued_on",
    "expires_on",
    "areas",
    "status",
    "annulled_on",
    "annulment_reason",
    "updated_at",
]


def _csv_line(values: list[Any]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer).writerow(["" if v is None else v for v in values])
    # Names stored before the text rule may hold control characters; a line drops them whole.
    return for_export(buffer.getvalue())


def _csv_stream(rows: Iterator[dict[str, Any]]) -> Iterator[str]:
    yield "\ufeff" + _csv_line(CSV_HEADER)
    for row in rows:
        yield _csv_line(
            [
                row["number"],
                row["last_name"],
                row["first_name"],
                row["patronymic"],
                row["issued_on"].isoformat(),
                row["expires_on"].isoformat(),
                row["areas_text"],
                row["status"],
                row["annulled_on"].isoformat() if row["annulled_on"] else "",
                row["annulment_reason_title"] or "",
                row["updated_at"].isoformat(),
            ]
        )


def _json_row(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "number": row["number"],
        "last_name": row["last_name"],
        "first_name": row["first_name"],
        "patronymic": row["patronymic"],
        "issued_on": row["issued_on"].isoformat(),
        "expires_on": row["expires_on"].isoformat(),
        "areas": [a for a in row["areas_text"].split("; ") if a],
        "status": row["status"],
        "annulled_on": row["annulled_on"].isoformat() if row["annulled_on"] else None,
        "annulment_reason": row["annulment_reason_title"] or None,
        "updated_at": row["updated_at"].isoformat(),
    }


def _json_stream(rows: Iterator[dict[str, Any]], last: datetime | None) -> Iterator[str]:
    yield '{"updated_at": %s, "entries": [' % json.dumps(last.isoformat() if last else None)  # noqa: UP031
    first = True
    for row in rows:
        yield ("" if first else ",") + "\n" + json.dumps(_json_row(row), ensure_ascii=False)
        first = False
    yield "\n]}\n"


def streamed(chunks: Iterator[str], *, lines: int = 2000) -> Iterator[str]:
    """The body of a streamed download in batches of ``lines``: each chunk crosses from the
    request's thread to the server's event loop (config/asgi.py), so one per line would cost more
    than the line. The server's send queue is bounded: memory stays constant whatever the size."""
    while text := "".join(itertools.islice(chunks, lines)):
        yield text


class OpenDataEntrySerializer(serializers.Serializer):
    """One entry of the open data (_json_row)."""

    number = serializers.CharField()
    last_name = serializers.CharField()
    first_name = serializers.CharField()
    patronymic = serializers.CharField(allow_blank=True)
    issued_on = serializers.DateField()
    expires_on = serializers.DateField()
    areas = serializers.ListField(child=serializers.CharField())
    status = serializers.ChoiceField(choices=selectors.PUBLIC_STATUSES)
    annulled_on = serializers.DateField(allow_null=True)
    annulment_reason = serializers.CharField(allow_null=True)
    updated_at = serializers.DateTimeField()


class OpenDataSerializer(serializers.Serializer):
    updated_at = serializers.DateTimeField(allow_null=True)
    entries = OpenDataEntrySerializer(many=True)


class ChangeSerializer(OpenDataEntrySerializer):
    id = serializers.IntegerField()


class CursorSerializer(serializers.Serializer):
    since = serializers.DateTimeField()
    after = serializers.IntegerField()


class ChangesSerializer(serializers.Serializer):
    entries = ChangeSerializer(many=True)
    next = CursorSerializer(allow_null=True, help_text="параметры следующего запроса; null — изменений больше нет")


class OpenDataApi(PublicApi):
    @extend_schema(
        summary="Реестр экспертов целиком (открытые данные), потоком: open-data.csv или open-data.json",
        parameters=[OpenApiParameter("fmt", str, OpenApiParameter.PATH, enum=["csv", "json"])],
        responses={(200, "text/csv"): OpenApiTypes.STR, (200, "application/json"): OpenDataSerializer},
    )
    def get(self, request: Request, fmt: str) -> StreamingHttpResponse:
        if fmt not in ("csv", "json"):
            raise NotFound(_("Формат: csv или json."))
        # Streamed after the view returns: the rows are read where replica() says now.
        using = replica()
        last = selectors.last_change(using=using)
        rows = selectors.open_data_rows(using=using)
        if fmt == "csv":
            response = StreamingHttpResponse(streamed(_csv_stream(rows)), content_type="text/csv; charset=utf-8")
            response["Content-Disposition"] = 'attachment; filename="registry-of-experts.csv"'
        else:
            response = StreamingHttpResponse(
                streamed(_json_stream(rows, last)), content_type="application/json; charset=utf-8"
            )
            response["Content-Disposition"] = 'attachment; filename="registry-of-experts.json"'
        if last is not None:
            response["Last-Modified"] = http_date(last.timestamp())
        return response


class ChangesApi(PublicApi):
    @extend_schema(
        summary="Изменения реестра после момента времени (для зеркал реестра)",
        description=(
            "Записи, изменённые после момента since, от старых изменений к новым, страницами по limit. "
            "Изменение попадает в ленту не сразу, а через несколько секунд (настройка REGISTRY_FEED_LAG_SECONDS, "
            "по умолчанию 5): время изменения ставится до завершения транзакции, и так лента не пропускает "
            "изменение, которое завершилось позже соседнего. Зеркало запрашивает ленту повторно: со значениями "
            "next, пока он не пуст, а затем периодически с since и after последней полученной записи."
        ),
        parameters=[
            OpenApiParameter(
                "since",
                OpenApiTypes.DATETIME,
                required=True,
                description="ISO 8601 с часовым поясом, например 2026-11-01T00:00:00+03:00",
            ),
            OpenApiParameter(
                "after", _int_schema(0, 2**62), description="id последней полученной записи с тем же updated_at"
            ),
            OpenApiParameter("limit", _int_schema(1, 5000), description="записей на странице (по умолчанию 1000)"),
        ],
        responses={200: ChangesSerializer},
    )
    def get(self, request: Request) -> Response:
        refuse_blank(request.query_params, "after", "limit")
        raw = request.query_params.get("since", "")
        since = calendar.parse_moment(raw.replace(" ", "+"))
        if since is None or dates.input_date_problem(since):
            raise DomainError(
                _("Укажите since в формате ISO 8601 с часовым поясом."), fields={"since": [_("Неверное значение.")]}
            )
        after = _int(request.query_params.get("after"), field="after", minimum=0, maximum=2**62) or 0
        limit = _int(request.query_params.get("limit"), field="limit", minimum=1, maximum=5000) or 1000
        # On the primary: a replica behind by more than REGISTRY_FEED_LAG_SECONDS would let a
        # mirror's cursor pass a change it has not yet replayed.
        rows = list(selectors.open_data_rows(since=since, after_id=after, limit=limit + 1))
        entries = [dict(_json_row(row), id=row["id"]) for row in rows[:limit]]
        cursor = None
        if len(rows) > limit:
            tail = rows[limit - 1]
            cursor = {"since": tail["updated_at"].isoformat(), "after": tail["id"]}
        return Response({"entries": entries, "next": cursor})
