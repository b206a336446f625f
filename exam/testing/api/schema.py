"""The exam room's API in the OpenAPI schema: its inputs as the views read them, its answers as
exam.testing.selectors builds them, and its own sign-in (the session of the exam room, and the pass
cookie of the answer save)."""

from __future__ import annotations

from typing import Any

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.utils import PolymorphicProxySerializer
from rest_framework import serializers

from core.api import serializer_for_form
from exam import forms
from exam.testing.session import PASS_COOKIE


class ExamSessionScheme(OpenApiAuthenticationExtension):
    """The exam room's session (the login and password of the admission notice, p.53); the answer
    save also takes the signed pass cookie that the sign-in gives."""

    target_class = "exam.testing.api.views.ExamSessionAuthentication"
    name = ["examSession", "examPass"]

    def get_security_requirement(self, auto_schema: Any) -> list[dict[str, list[Any]]]:
        if auto_schema.method == "PUT":
            return [{"examSession": []}, {"examPass": []}]
        return [{"examSession": []}]

    def get_security_definition(self, auto_schema: Any) -> list[dict[str, Any]]:
        return [
            {
                "type": "apiKey",
                "in": "cookie",
                "name": "sessionid",
                "description": "Сессия системы тестирования (POST /api/v1/exam/login/); "
                "для POST и PUT — заголовок X-CSRFToken со значением cookie csrftoken.",
            },
            {
                "type": "apiKey",
                "in": "cookie",
                "name": PASS_COOKIE,
                "description": "Пропуск для сохранения ответов, выдаётся при входе в систему тестирования.",
            },
        ]


# --- Inputs -----------------------------------------------------------------------------------------


LoginInput = serializer_for_form(forms.ExamLoginForm, name="LoginInput")
StartInput = serializer_for_form(forms.AttemptStartForm, name="StartInput")
EventInput = serializer_for_form(forms.AttemptEventForm, name="EventInput")


# Written by hand, the one JSON input schema not generated from a form: keep it in step with the
# checks of attempt_save_answer.
class AnswerInput(serializers.Serializer):
    """The body of the answer save. No form checks it: the save itself does
    (exam.testing.services.attempts.attempt_save_answer), in one statement, as the request of a sitting
    (a hundred a second) must be cheap."""

    answer = serializers.ListField(child=serializers.IntegerField(min_value=0), help_text="номера вариантов (id)")
    flagged = serializers.BooleanField(
        required=False, allow_null=True, help_text="отметка вопроса; null или без поля — без изменений"
    )
    seq = serializers.IntegerField(
        min_value=1, max_value=2**62 - 1, help_text="порядковый номер сохранения на клиенте (растёт)"
    )


# --- Answers ----------------------------------------------------------------------------------------


class LoginResult(serializers.Serializer):
    login = serializers.CharField()


class ClockSerializer(serializers.Serializer):
    attempt = serializers.IntegerField()
    status = serializers.CharField()
    server_time = serializers.DateTimeField()
    deadline = serializers.DateTimeField()
    remaining_ms = serializers.IntegerField()


class OptionSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    text = serializers.CharField()


class ItemSerializer(serializers.Serializer):
    position = serializers.IntegerField()
    text = serializers.CharField()
    multiple = serializers.BooleanField()
    options = OptionSerializer(many=True)
    answer = serializers.ListField(child=serializers.IntegerField())
    flagged = serializers.BooleanField()
    seq = serializers.IntegerField()


class AttemptStateSerializer(ClockSerializer):
    """The attempt under way (exam.testing.selectors.attempt_state): no correct answers."""

    max_seq = serializers.IntegerField()
    items = ItemSerializer(many=True)


class AttemptResultSerializer(serializers.Serializer):
    """The result of the test as the candidate gets it: the score and pass or fail (p.57), never
    which questions were answered right (with the candidate's own answers that is the key)."""

    attempt = serializers.IntegerField()
    status = serializers.CharField()
    score = serializers.IntegerField(allow_null=True)
    question_count = serializers.IntegerField()
    pass_score = serializers.IntegerField()
    passed = serializers.BooleanField(allow_null=True)
    finished_at = serializers.DateTimeField(allow_null=True)
    finish_reason = serializers.CharField(allow_blank=True)


AttemptViewSerializer = PolymorphicProxySerializer(
    component_name="AttemptView",
    serializers=[AttemptStateSerializer, AttemptResultSerializer],
    resource_type_field_name=None,
)


class AnswerSaved(serializers.Serializer):
    position = serializers.IntegerField()
    seq = serializers.IntegerField()
    applied = serializers.BooleanField(help_text="false: сохранение старше уже сохранённого, ответ не изменён")
    answer = serializers.ListField(child=serializers.IntegerField())
    flagged = serializers.BooleanField()
