"""The public API of the verification of a document's qualified signature: the same verifier and
protocol as the public page (no authentication, throttled per client, nothing stored)."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.parsers import MultiPartParser
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api import unknown_fields
from core.errors import DomainError
from core.qes import verifier
from core.qes.selectors import DocumentCheck, uploaded_signature_check
from core.throttling import WindowScopedRateThrottle


class DocumentSignatureInput(serializers.Serializer):
    document = serializers.FileField(help_text="Подписанный документ (PDF или иной файл) как он был подписан")
    signature = serializers.FileField(
        help_text="Открепленная подпись документа (.sig): CMS (CAdES-BES) в DER или Base64, не более 1 МБ"
    )


class CheckSerializer(serializers.Serializer):
    code = serializers.ChoiceField(
        choices=list(verifier.CHECKS),
        help_text="issuer, validity, integrity, usage — условия ст. 11 63-ФЗ; official — только для документа Минтруда",
    )
    ok = serializers.BooleanField()
    title = serializers.CharField(help_text="Что проверено")
    basis = serializers.CharField(help_text="Норма, по которой проверено")
    detail = serializers.CharField(help_text="Результат проверки")


class CertificateSummarySerializer(serializers.Serializer):
    serial = serializers.CharField()
    owner = serializers.CharField()
    issuer = serializers.CharField()
    valid_from = serializers.CharField(help_text="Дата начала действия, как в протоколе")
    valid_to = serializers.CharField(help_text="Дата окончания действия, как в протоколе")


class MinistryDocumentSerializer(serializers.Serializer):
    title = serializers.CharField()
    signed_at = serializers.DateTimeField(help_text="Момент подписания по учёту Минтруда России")


class DocumentSignatureResultSerializer(serializers.Serializer):
    valid = serializers.BooleanField(help_text="true, только если пройдены все проверки")
    checked_at = serializers.DateTimeField(help_text="Момент, на который проверена подпись")
    ministry_document = MinistryDocumentSerializer(
        allow_null=True, help_text="Документ, выданный Минтрудом России (null — документ Минтруду не известен)"
    )
    certificate = CertificateSummarySerializer(allow_null=True, help_text="null — подпись не прочитана")
    algorithm = serializers.CharField()
    signing_time = serializers.DateTimeField(
        allow_null=True, help_text="Время подписания, указанное программой подписавшего (не проверяется)"
    )
    checks = CheckSerializer(many=True)


def check_json(check: DocumentCheck) -> dict[str, Any]:
    protocol, document = check.protocol, check.document
    return {
        "valid": protocol.ok,
        "checked_at": protocol.at.isoformat(),
        "ministry_document": (
            {"title": document.title, "signed_at": document.signed_at.isoformat()} if document is not None else None
        ),
        "certificate": protocol.certificate or None,
        "algorithm": protocol.algorithm,
        "signing_time": protocol.signing_time.isoformat() if protocol.signing_time else None,
        "checks": [
            {"code": c.code, "ok": c.ok, "title": c.title, "basis": c.basis, "detail": c.detail}
            for c in protocol.checks
        ],
    }


class DocumentSignatureVerifyApi(APIView):
    authentication_classes: list[Any] = []
    permission_classes = [AllowAny]
    throttle_classes = [WindowScopedRateThrottle]
    throttle_scope = "signature_verify"
    parser_classes = [MultiPartParser]

    @extend_schema(
        summary="Проверить электронную подпись документа",
        description=(
            "Документ и его открепленная подпись проверяются тем же средством, что и подписи заявлений: "
            "аккредитация удостоверяющего центра, действительность и отзыв сертификата, целостность документа, "
            "ограничения сертификата (ст. 11 Федерального закона № 63-ФЗ). Для документа, выданного Минтрудом "
            "России, подпись проверяется на момент подписания по учёту Минтруда и добавляется проверка official: "
            "подписал ли документ его должностное лицо. Файлы не сохраняются."
        ),
        request={"multipart/form-data": DocumentSignatureInput},
        responses={200: DocumentSignatureResultSerializer},
    )
    def post(self, request: Request) -> Response:
        if unknown := unknown_fields(("document", "signature"), request.data):
            raise DomainError(_("Проверьте введённые данные."), fields=unknown)
        check = uploaded_signature_check(
            document=request.FILES.get("document"), signature=request.FILES.get("signature")
        )
        return Response(check_json(check))
