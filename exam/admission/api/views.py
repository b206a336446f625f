"""The API of the admission procedure: parse, call a service or selector, respond."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.db import transaction
from django.forms import Form
from django.http import FileResponse, HttpResponse
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.parsers import MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import UserRateThrottle
from rest_framework.views import APIView

from core.api import JSONParser, form_or_400, unknown_fields
from core.api_schema import errors
from core.errors import DomainError, NotFound
from core.http import client_ip, request_user
from core.roles import Role, has_role, user_roles
from core.services import audit_file_viewed
from exam import forms
from exam.admission import selectors, services
from exam.admission.api import serializers as s
from exam.models import Application, Decision, Sitting

# What the procedure answers beyond the framework's errors (core.api_schema): a rule of the
# procedure refuses the data (400) or the action in the current state (409).
ERRORS = errors(400, 409)
# The media types of attached documents (checked by content on upload: exam.admission.services).
DOCUMENT_TYPES = ("application/pdf", "image/png", "image/jpeg")


def _application(request: Request, pk: Any, *, log_view: str | None = None) -> Application:
    application = selectors.application_get(user=request_user(request), pk=pk)
    if log_view and request_user(request).is_staff:
        audit_file_viewed(case=application, viewer=request_user(request), what=log_view, ip=client_ip(request))
    return application


class ApplicationListApi(APIView):
    @extend_schema(responses={200: s.ApplicationListSerializer(many=True)}, summary="Заявления, доступные пользователю")
    def get(self, request: Request) -> Response:
        user = request_user(request)
        applications = list(selectors.application_list_for(user=user).order_by("-created_at")[:200])
        if user.is_staff:
            # The list names the candidates: each file it shows is logged as viewed, as a page would.
            with transaction.atomic():
                for application in applications:
                    audit_file_viewed(case=application, viewer=user, what="list_view_api", ip=client_ip(request))
        return Response(s.ApplicationListSerializer(applications, many=True).data)

    @extend_schema(
        request=None, responses={201: s.ApplicationSerializer, **ERRORS}, summary="Начать заявление (черновик)"
    )
    def post(self, request: Request) -> Response:
        application = services.application_start(candidate=request_user(request))
        return Response(s.ApplicationSerializer(application).data, status=status.HTTP_201_CREATED)


class ApplicationDetailApi(APIView):
    parser_classes = [JSONParser]

    @extend_schema(responses={200: s.ApplicationSerializer}, summary="Заявление")
    def get(self, request: Request, pk: int) -> Response:
        application = _application(request, pk, log_view="file_view_api")
        return Response(s.ApplicationSerializer(application).data)

    @extend_schema(
        request=s.ApplicationDraftInput,
        responses={200: s.ApplicationSerializer, **ERRORS},
        summary="Сохранить черновик",
    )
    def put(self, request: Request, pk: int) -> Response:
        application = _application(request, pk)
        cleaned, errors = forms.validate_application_payload(request.data)
        if errors:
            raise DomainError(_("Проверьте введённые данные."), code="invalid", fields=errors)
        application = services.application_save_draft(
            application=application, by=request_user(request), cleaned=cleaned
        )
        return Response(s.ApplicationSerializer(application).data)


class AttachmentListApi(APIView):
    parser_classes = [MultiPartParser]  # the one view taking a file; the rest of the API takes JSON

    @extend_schema(
        request=s.AttachmentInput, responses={201: s.AttachmentSerializer, **ERRORS}, summary="Приложить документ"
    )
    def post(self, request: Request, pk: int) -> Response:
        application = _application(request, pk)
        if unknown := unknown_fields(("kind", "file"), request.data):
            raise DomainError(_("Проверьте введённые данные."), fields=unknown)
        upload = request.FILES.get("file")
        if upload is None:
            raise DomainError(_("Выберите файл."), fields={"file": [_("Обязательное поле.")]})
        attachment = services.attachment_add(
            application=application, by=request_user(request), kind=str(request.data.get("kind", "")), upload=upload
        )
        return Response(s.AttachmentSerializer(attachment).data, status=status.HTTP_201_CREATED)


class AttachmentDetailApi(APIView):
    @extend_schema(
        responses={(200, media): OpenApiTypes.BINARY for media in DOCUMENT_TYPES},
        summary="Скачать документ (PDF, PNG или JPEG, как он был приложен)",
    )
    def get(self, request: Request, pk: int, attachment_id: int) -> FileResponse:
        application = _application(request, pk)
        attachment = selectors.attachment_get(user=request_user(request), application=application, pk=attachment_id)
        if request_user(request).is_staff:
            audit_file_viewed(
                case=application, viewer=request_user(request), what="attachment_download", ip=client_ip(request)
            )
        return FileResponse(
            attachment.file.open("rb"),
            as_attachment=True,
            filename=attachment.original_name,
            content_type=attachment.content_type,
        )

    @extend_schema(responses={204: None, **ERRORS}, summary="Удалить документ из черновика")
    def delete(self, request: Request, pk: int, attachment_id: int) -> Response:
        application = _application(request, pk)
        attachment = selectors.attachment_get(user=request_user(request), application=application, pk=attachment_id)
        services.attachment_remove(attachment=attachment, by=request_user(request))
        return Response(status=status.HTTP_204_NO_CONTENT)


class SignatureCodeThrottle(UserRateThrottle):
    scope = "signature_code"


class SignatureCodeApi(APIView):
    throttle_classes = [SignatureCodeThrottle]

    @extend_schema(
        request=None,
        responses={202: s.SignatureChallengeSerializer, **ERRORS},
        summary="Отправить код для подписания на почту",
    )
    def post(self, request: Request, pk: int) -> Response:
        application = _application(request, pk)
        challenge = services.signature_request(application=application, by=request_user(request))
        return Response(
            {"expires_at": challenge.expires_at, "digest": challenge.digest}, status=status.HTTP_202_ACCEPTED
        )


class ApplicationSubmitApi(APIView):
    @extend_schema(
        request=s.SignatureCodeInput, responses={200: s.ApplicationSerializer, **ERRORS}, summary="Подписать и подать"
    )
    def post(self, request: Request, pk: int) -> Response:
        return _submit(request, pk, form=forms.SignatureCodeForm, submit=services.application_submit, field="code")


def _submit(request: Request, pk: int, *, form: type[Form], submit: Callable[..., object], field: str) -> Response:
    """Sign and submit the application (the e-mailed code or a qualified signature, ``field`` of
    ``form``); a refusal to accept is an answer too: the application not accepted, with its reasons."""
    application = _application(request, pk)
    data = form_or_400(form, request.data)
    submit(application=application, by=request_user(request), ip=client_ip(request), **{field: data[field]})
    application.refresh_from_db()
    return Response(s.ApplicationSerializer(application).data)


class ApplicationSigningDocumentApi(APIView):
    @extend_schema(
        responses={(200, "application/json"): OpenApiTypes.OBJECT, **ERRORS},
        summary="Документ для подписи квалифицированной электронной подписью (точные байты)",
    )
    def get(self, request: Request, pk: int) -> HttpResponse:
        application = _application(request, pk)
        if not application.is_editable or application.candidate_id != request_user(request).pk:
            raise NotFound(_("Заявление не найдено."))
        content = selectors.document_bytes(selectors.application_document(application))
        response = HttpResponse(content, content_type="application/json; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="zayavlenie-{application.pk}.json"'
        return response


class ApplicationSubmitQualifiedApi(APIView):
    parser_classes = [JSONParser]

    @extend_schema(
        request=s.QualifiedSignatureInput,
        responses={200: s.ApplicationSerializer, **ERRORS},
        summary="Подать заявление, подписанное квалифицированной электронной подписью (п. 19, 39)",
        description="Открепленная подпись CAdES-BES (Base64 или PEM) над документом для подписи. "
        "Отказ в приёме (подпись не прошла проверку или комплект неполный) — ответ 200 с состоянием "
        "not_accepted, причинами и протоколом проверки в подаче.",
    )
    def post(self, request: Request, pk: int) -> Response:
        return _submit(
            request,
            pk,
            form=forms.QualifiedSignatureForm,
            submit=services.application_submit_qualified,
            field="signature",
        )


class ApplicationTimelineApi(APIView):
    @extend_schema(responses={200: s.StepSerializer(many=True)}, summary="Ход рассмотрения (п. 40, 68)")
    def get(self, request: Request, pk: int) -> Response:
        application = _application(request, pk, log_view="timeline_view_api")
        return Response(s.StepSerializer(selectors.application_timeline(application), many=True).data)


class ApplicationCriteriaApi(APIView):
    @extend_schema(responses={200: s.CriterionSerializer(many=True)}, summary="Критерии п. 21 «а»")
    def get(self, request: Request, pk: int) -> Response:
        if not request_user(request).is_staff:
            raise NotFound()
        application = _application(request, pk, log_view="criteria_view_api")
        return Response(s.CriterionSerializer(selectors.application_criteria(application).all, many=True).data)


class ReviewQueueApi(APIView):
    @extend_schema(responses={200: s.QueueItemSerializer(many=True)}, summary="Очередь рассмотрения")
    def get(self, request: Request) -> Response:
        if not has_role(request_user(request), Role.REVIEWER):
            raise DomainError(_("Очередь доступна должностным лицам департамента."), code="forbidden", status=403)
        return Response(s.QueueItemSerializer(selectors.review_queue(user=request_user(request))[:500], many=True).data)


class ApplicationStartReviewApi(APIView):
    @extend_schema(
        request=None, responses={200: s.ApplicationListSerializer, **ERRORS}, summary="Взять на рассмотрение"
    )
    def post(self, request: Request, pk: int) -> Response:
        application = _application(request, pk)
        application = services.application_start_review(
            application=application, by=request_user(request), ip=client_ip(request)
        )
        return Response(s.ApplicationListSerializer(application).data)


class DecisionCreateApi(APIView):
    @extend_schema(
        request=s.DecisionInput, responses={201: s.DecisionSerializer, **ERRORS}, summary="Подготовить проект решения"
    )
    def post(self, request: Request, pk: int) -> Response:
        application = _application(request, pk)
        data = form_or_400(forms.DecisionForm, request.data)
        sitting = None
        if data.get("sitting"):
            sitting = Sitting.objects.filter(pk=data["sitting"]).first()
            if sitting is None:
                raise DomainError(_("Сеанс не найден."), fields={"sitting": [_("Сеанс не найден.")]})
        decision = services.decision_draft(
            application=application,
            by=request_user(request),
            kind=data["kind"],
            sitting=sitting,
            grounds=data.get("grounds") or [],
            explanation=data.get("explanation", ""),
            ip=client_ip(request),
        )
        return Response(s.DecisionSerializer(decision).data, status=status.HTTP_201_CREATED)


def _decision(request: Request, pk: Any) -> Decision:
    if Role.SIGNATORY not in user_roles(request_user(request)):
        raise NotFound()
    try:
        decision = Decision.objects.select_related("application").get(pk=int(pk))
    except (TypeError, ValueError, Decision.DoesNotExist):
        raise NotFound() from None
    selectors.application_get(user=request_user(request), pk=decision.application_id)
    return decision


class DecisionSignApi(APIView):
    @extend_schema(request=None, responses={200: s.DecisionSerializer, **ERRORS}, summary="Подписать решение")
    def post(self, request: Request, pk: int) -> Response:
        decision = services.decision_sign(
            decision=_decision(request, pk), by=request_user(request), ip=client_ip(request)
        )
        return Response(s.DecisionSerializer(decision).data)


class DecisionReturnApi(APIView):
    @extend_schema(
        request=s.ReasonInput, responses={200: s.DecisionSerializer, **ERRORS}, summary="Вернуть на доработку"
    )
    def post(self, request: Request, pk: int) -> Response:
        data = form_or_400(forms.ReasonForm, request.data)
        decision = services.decision_return(
            decision=_decision(request, pk), by=request_user(request), reason=data["reason"], ip=client_ip(request)
        )
        return Response(s.DecisionSerializer(decision).data)


class SittingListApi(APIView):
    @extend_schema(
        responses={200: s.SittingSerializer(many=True), **errors(404)},
        summary="Предстоящие сеансы тестирования (только для сотрудников; остальным — 404)",
    )
    def get(self, request: Request) -> Response:
        if not request_user(request).is_staff:
            raise NotFound()
        return Response(s.SittingSerializer(selectors.sitting_list_upcoming(), many=True).data)


class ExamPasswordApi(APIView):
    @extend_schema(
        request=None,
        responses={200: s.ExamPasswordSerializer, **ERRORS},
        summary="Выдать пароль системы тестирования (один раз)",
    )
    def post(self, request: Request, pk: int) -> Response:
        application = _application(request, pk)
        credential = getattr(application, "exam_credential", None)
        if credential is None:
            raise NotFound(_("Уведомление о допуске не найдено."))
        password = services.exam_password_issue(credential=credential, by=request_user(request), ip=client_ip(request))
        if request_user(request).is_staff:
            audit_file_viewed(
                case=application, viewer=request_user(request), what="exam_password_api", ip=client_ip(request)
            )
        response = Response({"login": credential.login, "password": password})
        response["Cache-Control"] = "no-store"
        return response
