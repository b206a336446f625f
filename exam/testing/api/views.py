"""The exam room's API: the candidate signed in with the testing-system credentials (p.53).

Answers are saved one by one (PUT), each acknowledged only after it is committed. The correct
answers never appear in any response, before or after scoring: the result is the score and pass or
fail, not which questions were answered right."""

from __future__ import annotations

import json
import time
from typing import Any

from django.http import HttpRequest, HttpResponseBase, JsonResponse
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions
from rest_framework.authentication import SessionAuthentication
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from core import metrics
from core.api import JSONParser, error_body, form_or_400, server_error_body, too_deep_error, unknown_fields
from core.api_schema import errors
from core.errors import DomainError, NotFound
from core.http import client_ip
from core.middleware import body_refusal
from core.text import unstorable, unstorable_error
from exam import forms
from exam.models import Attempt, ExamCredential
from exam.testing import selectors as testing_selectors
from exam.testing.api import schema as s
from exam.testing.services import attempts as service
from exam.testing.session import (
    CREDENTIAL_KEY,
    PASS_COOKIE,
    exam_pass_ids,
    exam_pass_set,
    exam_session_get,
    exam_session_ids,
    exam_session_open,
)

# The exam room's own answers (the schema adds those of the framework, core.api_schema): not signed
# in (401), the test not yet started (404), finished, timed out or taken over (409).
ERRORS = errors(401, 404, 409)


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
        """The session's attempt, read by the credential's id: a credential with an attempt exists
        (PROTECT), so it is read only when there is none, to tell a credential gone since the
        sign-in (401) from a test not started (404)."""
        credential_id, session_key = exam_session_ids(request.session)
        attempt = testing_selectors.attempt_for_credential_id(credential_id)
        if attempt is None:
            exam_session_get(request.session)
            raise NotFound(_("Тестирование ещё не начато."))
        return service.attempt_finalize_if_due(attempt=attempt), session_key


def _result(attempt: Attempt) -> dict[str, Any]:
    """The result through its declared shape: nothing beyond the score and pass or fail goes out."""
    return dict(s.AttemptResultSerializer(testing_selectors.attempt_result(attempt)).data)


class ExamLoginApi(ExamApi):
    authentication_classes: list[Any] = []

    @extend_schema(
        request=s.LoginInput,
        responses={200: s.LoginResult, **errors(403, 429)},
        summary="Вход в систему тестирования",
        description="Неверный логин или пароль — 400; не допущен — 403; вход заблокирован после неудачных попыток — 429.",
    )
    def post(self, request: Request) -> Response:
        data = form_or_400(forms.ExamLoginForm, request.data)
        credential = service.exam_login(login=data["login"], password=data["password"])
        exam_session_open(request.session, credential, service.new_session_key())
        response = Response({"login": credential.login})
        exam_pass_set(response, request.session)
        return response


class AttemptApi(ExamApi):
    @extend_schema(responses={200: s.AttemptViewSerializer, **ERRORS}, summary="Состояние попытки (или результат)")
    def get(self, request: Request) -> Response:
        attempt, session_key = self.attempt(request)
        if not attempt.is_active:
            return Response(_result(attempt))
        if attempt.session_key != session_key:
            raise DomainError(_("Тестирование открыто в другом сеансе."), code="taken_over", status=409)
        service.attempt_touch(attempt=attempt, ip=client_ip(request), user_agent=request.headers.get("User-Agent", ""))
        return Response(testing_selectors.attempt_state(attempt))


class AttemptStartApi(ExamApi):
    @extend_schema(
        request=s.StartInput, responses={201: s.AttemptStateSerializer, **ERRORS}, summary="Начать тестирование"
    )
    def post(self, request: Request) -> Response:
        credential_id, session_key = exam_session_ids(request.session)
        data = form_or_400(forms.AttemptStartForm, request.data)
        attempt = service.attempt_start(
            credential=credential_id,
            session_key=session_key,
            personally=data["personally"],
            ip=client_ip(request),
            user_agent=request.headers.get("User-Agent", ""),
        )
        return Response(testing_selectors.attempt_state(attempt), status=201)


ANSWER_FIELDS = frozenset(s.AnswerInput().fields)


def _answer_save(request: HttpRequest, position: int, data: Any) -> dict[str, Any]:
    """The answer save itself (one implementation for both ways in, see AnswerApi.as_view). The
    exam room's pass identifies the candidate (exam_pass_ids); without one, the session does."""
    started = time.perf_counter()
    try:
        saved = _answer_apply(request, position, data)
    except DomainError:
        metrics.answer_saved["refused"].inc()
        raise
    finally:
        metrics.answer_save_seconds.observe(time.perf_counter() - started)
    metrics.answer_saved["applied" if saved["applied"] else "not_applied"].inc()
    return saved


def _answer_apply(request: HttpRequest, position: int, data: Any) -> dict[str, Any]:
    credential_id, session_key = exam_pass_ids(request) or exam_session_ids(request.session)
    if not isinstance(data, dict):
        raise DomainError(_("Ожидается объект JSON."), code="invalid")
    if unknown := unknown_fields(ANSWER_FIELDS, data):
        raise DomainError(_("Проверьте введённые данные."), code="invalid", fields=unknown)
    try:
        result = service.attempt_save_answer(
            credential_id=credential_id,
            session_key=session_key,
            position=position,
            answer=data.get("answer"),
            flagged=data.get("flagged"),
            seq=data.get("seq"),
            ip=client_ip(request),
        )
    except DomainError as exc:
        if exc.code in ("time_is_up", "attempt_finished"):
            # The end of the test: finalised now if the task and the sweeper have not yet.
            credential = ExamCredential.objects.filter(pk=credential_id).first()
            attempt = testing_selectors.attempt_for_credential(credential) if credential else None
            if attempt is not None:
                service.attempt_finalize_if_due(attempt=attempt)
        raise
    return {
        "position": result.position,
        "seq": result.seq,
        "applied": result.applied,
        "answer": result.answer,
        "flagged": result.flagged,
    }


def _answer_save_direct(request: HttpRequest, position: int) -> JsonResponse:
    """PUT without DRF's request machinery: the same authentication (the exam room's session, with
    CSRF enforced when it holds a credential, as ExamSessionAuthentication does), the same JSON
    parsing rules (a body over the size limit a 413, JSON nested too deep a 400), the same error
    shape as the API's exception handler."""
    try:
        if PASS_COOKIE in request.COOKIES or request.session.get(CREDENTIAL_KEY):
            # DRF's check reads only what a Django request has (cookies, headers, the token).
            ExamSessionAuthentication().enforce_csrf(request)  # type: ignore[arg-type]
        if request.content_type != "application/json":
            return JsonResponse(
                error_body(code="unsupported_media_type", message=_("Ожидается тело запроса в формате JSON.")),
                status=415,
            )
        try:
            data = json.loads(request.body)
        except ValueError:
            raise DomainError(_("Тело запроса — не JSON."), code="parse_error") from None
        except RecursionError:
            raise too_deep_error() from None
        # As the API's parser does; only an escape (\u) in the body can make a surrogate or NUL.
        if b"\\u" in request.body and unstorable(data) is not None:
            raise unstorable_error()
        return JsonResponse(_answer_save(request, position, data))
    except DomainError as exc:
        return JsonResponse(error_body(code=exc.code, message=exc.message, fields=exc.fields), status=exc.status)
    except exceptions.PermissionDenied as exc:
        return JsonResponse(error_body(code="permission_denied", message=str(exc.detail)), status=403)
    except Exception as exc:
        if refusal := body_refusal(exc):  # a body over the size limit (request.body)
            return JsonResponse(error_body(code=refusal.code, message=refusal.message), status=refusal.status)
        # A bug: the same structured 500 as the rest of the API.
        return JsonResponse(server_error_body(exc), status=500)


class AnswerApi(ExamApi):
    # No read from the replica shows an answer (core.db.ReplicaPinMiddleware): a save sets no pin.
    replica_pin = False

    @extend_schema(request=s.AnswerInput, responses={200: s.AnswerSaved, **ERRORS}, summary="Сохранить ответ на вопрос")
    def put(self, request: Request, position: int) -> Response:
        return Response(_answer_save(request._request, position, request.data))

    @classmethod
    def as_view(cls, **initkwargs: Any) -> Any:
        """The answer save is the request of a sitting (five hundred candidates make a hundred a
        second): its PUT goes straight to _answer_save_direct, which does what DRF would do for this
        view at a fraction of the cost; any other method goes through DRF. The view keeps ``cls``,
        so the OpenAPI schema still documents ``put``."""
        drf_view = super().as_view(**initkwargs)

        def view(request: HttpRequest, position: int) -> HttpResponseBase:
            if request.method == "PUT":
                return _answer_save_direct(request, position)
            return drf_view(request, position=position)

        view.cls = cls  # type: ignore[attr-defined]
        view.initkwargs = initkwargs  # type: ignore[attr-defined]
        return csrf_exempt(view)  # CSRF is enforced inside, as DRF's session authentication does


class EventApi(ExamApi):
    @extend_schema(request=s.EventInput, responses={204: None, **ERRORS}, summary="Событие на странице (контроль)")
    def post(self, request: Request) -> Response:
        attempt, session_key = self.attempt(request)
        data = form_or_400(forms.AttemptEventForm, request.data)
        service.attempt_record_event(
            attempt=attempt,
            session_key=session_key,
            kind=data["kind"],
            data=data["data"],
            ip=client_ip(request),
        )
        return Response(status=204)


class SubmitApi(ExamApi):
    @extend_schema(request=None, responses={200: s.AttemptResultSerializer, **ERRORS}, summary="Завершить тестирование")
    def post(self, request: Request) -> Response:
        attempt, session_key = self.attempt(request)
        attempt = service.attempt_submit(attempt=attempt, session_key=session_key)
        return Response(_result(attempt))


class ClockApi(ExamApi):
    @extend_schema(responses={200: s.ClockSerializer, **ERRORS}, summary="Часы сервера (резерв без WebSocket)")
    def get(self, request: Request) -> Response:
        attempt, _session_key = self.attempt(request)
        return Response(testing_selectors.attempt_clock(attempt))
