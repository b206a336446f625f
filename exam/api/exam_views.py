"""The exam room's API: the candidate signed in with the testing-system credentials (p.53).

Answers are saved one by one (PUT), each acknowledged only after it is committed. The correct
answers never appear in any response before the attempt is scored."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.authentication import SessionAuthentication
from rest_framework.parsers import JSONParser
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from core.errors import DomainError, NotFound
from core.http import client_ip
from exam import selectors_exam
from exam.exam_session import CREDENTIAL_KEY, exam_session_get, exam_session_ids, exam_session_open
from exam.models import Attempt
from exam.services import attempts as service

ERRORS = {
    400: OpenApiResponse(description="Ошибка в данных"),
    401: OpenApiResponse(description="Нужен вход в систему тестирования"),
    409: OpenApiResponse(description="Тестирование завершено, время истекло или сеанс перехвачен"),
}


class ExamCandidate:
    """The principal of an exam-room request (not a portal user)."""

    is_authenticated = True
    is_anonymous = False
    is_staff = False
    pk = None


class ExamSessionAuthentication(SessionAuthentication):
    """The exam room's session, with Django's CSRF protection (cookies are credentials)."""

    def authenticate(self, request: Request) -> tuple[Any, None] | None:
        if not request._request.session.get(CREDENTIAL_KEY):
            return None
        self.enforce_csrf(request)
        return ExamCandidate(), None


class ExamApi(APIView):
    authentication_classes = [ExamSessionAuthentication]
    permission_classes = [AllowAny]
    throttle_classes: list[Any] = []
    parser_classes = [JSONParser]

    def attempt(self, request: Request) -> tuple[Attempt, str]:
        credential, session_key = exam_session_get(request.session)
        attempt = selectors_exam.attempt_for_credential(credential)
        if attempt is None:
            raise NotFound(_("Тестирование ещё не начато."))
        return service.attempt_finalize_if_due(attempt=attempt), session_key


class LoginInput(serializers.Serializer):
    login = serializers.CharField(max_length=40)
    password = serializers.CharField(max_length=100)


class AnswerInput(serializers.Serializer):
    answer = serializers.ListField(child=serializers.IntegerField(min_value=0), help_text="номера вариантов (id)")
    flagged = serializers.BooleanField(required=False)
    seq = serializers.IntegerField(min_value=1, help_text="порядковый номер сохранения на клиенте (растёт)")


class EventInput(serializers.Serializer):
    kind = serializers.ChoiceField(
        choices=[
            (k, k) for k in ("page_hidden", "window_blur", "reconnect", "offline", "copy", "paste", "context_menu")
        ]
    )
    data = serializers.DictField(required=False)  # type: ignore[assignment]


class StartInput(serializers.Serializer):
    personally = serializers.BooleanField()


def _json_object(request: Request) -> dict[str, Any]:
    if not isinstance(request.data, dict):
        raise DomainError(_("Ожидается объект JSON."), code="invalid")
    return request.data


class ExamLoginApi(ExamApi):
    authentication_classes: list[Any] = []

    @extend_schema(request=LoginInput, responses={200: None, **ERRORS}, summary="Вход в систему тестирования")
    def post(self, request: Request) -> Response:
        data = _json_object(request)
        credential = service.exam_login(login=str(data.get("login") or ""), password=str(data.get("password") or ""))
        exam_session_open(request.session, credential, service.new_session_key())
        return Response({"login": credential.login})


class AttemptApi(ExamApi):
    @extend_schema(responses={200: None, **ERRORS}, summary="Состояние попытки (или результат)")
    def get(self, request: Request) -> Response:
        attempt, session_key = self.attempt(request)
        if not attempt.is_active:
            return Response(selectors_exam.attempt_result(attempt))
        if attempt.session_key != session_key:
            raise DomainError(_("Тестирование открыто в другом сеансе."), code="taken_over", status=409)
        service.attempt_touch(attempt=attempt, ip=client_ip(request), user_agent=request.headers.get("User-Agent", ""))
        return Response(selectors_exam.attempt_state(attempt))


class AttemptStartApi(ExamApi):
    @extend_schema(request=StartInput, responses={201: None, **ERRORS}, summary="Начать тестирование")
    def post(self, request: Request) -> Response:
        credential, session_key = exam_session_get(request.session)
        data = _json_object(request)
        attempt = service.attempt_start(
            credential=credential,
            session_key=session_key,
            personally=data.get("personally") is True,
            ip=client_ip(request),
            user_agent=request.headers.get("User-Agent", ""),
        )
        return Response(selectors_exam.attempt_state(attempt), status=201)


class AnswerApi(ExamApi):
    @extend_schema(request=AnswerInput, responses={200: None, **ERRORS}, summary="Сохранить ответ на вопрос")
    def put(self, request: Request, position: int) -> Response:
        credential_id, session_key = exam_session_ids(request.session)
        data = _json_object(request)
        attempt_id = (
            Attempt.objects.filter(credential_id=credential_id, status=Attempt.Status.IN_PROGRESS)
            .values_list("pk", flat=True)
            .first()
        )
        if attempt_id is None:
            credential, _session_key = exam_session_get(request.session)
            attempt = selectors_exam.attempt_for_credential(credential)
            if attempt is not None:
                service.attempt_finalize_if_due(attempt=attempt)
            raise DomainError(_("Тестирование завершено."), code="attempt_finished", status=409)
        try:
            result = service.attempt_save_answer(
                attempt_id=attempt_id,
                session_key=session_key,
                position=position,
                answer=data.get("answer"),
                flagged=data.get("flagged"),
                seq=data.get("seq"),
                ip=client_ip(request),
            )
        except DomainError as exc:
            if exc.code == "time_is_up":
                service.attempt_finalize(attempt_id=attempt_id)
            raise
        return Response(
            {
                "position": result.position,
                "seq": result.seq,
                "applied": result.applied,
                "answer": result.answer,
                "flagged": result.flagged,
            }
        )


class EventApi(ExamApi):
    @extend_schema(request=EventInput, responses={204: None, **ERRORS}, summary="Событие на странице (контроль)")
    def post(self, request: Request) -> Response:
        attempt, session_key = self.attempt(request)
        data = _json_object(request)
        service.attempt_record_event(
            attempt=attempt,
            session_key=session_key,
            kind=str(data.get("kind")),
            data=data.get("data"),
            ip=client_ip(request),
        )
        return Response(status=204)


class SubmitApi(ExamApi):
    @extend_schema(request=None, responses={200: None, **ERRORS}, summary="Завершить тестирование")
    def post(self, request: Request) -> Response:
        attempt, session_key = self.attempt(request)
        attempt = service.attempt_submit(attempt=attempt, session_key=session_key)
        return Response(selectors_exam.attempt_result(attempt))


class ClockApi(ExamApi):
    @extend_schema(responses={200: None, **ERRORS}, summary="Часы сервера (резерв без WebSocket)")
    def get(self, request: Request) -> Response:
        attempt, _session_key = self.attempt(request)
        return Response(selectors_exam.attempt_clock(attempt))
