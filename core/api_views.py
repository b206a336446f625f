"""API of the platform: the signed-in user and their notifications."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, HttpResponsePermanentRedirect, JsonResponse
from django.urls import Resolver404, resolve
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api import error_body
from core.errors import NotFound
from core.http import request_user
from core.models import Notification
from core.roles import user_roles
from core.selectors import notification_list
from core.services import notification_mark_read


class MeSerializer(serializers.Serializer):
    email = serializers.EmailField()
    full_name = serializers.CharField()
    is_staff = serializers.BooleanField()
    roles = serializers.ListField(child=serializers.CharField())


class NotificationSerializer(serializers.ModelSerializer):
    # In the language the request asks for (Accept-Language), as the cabinet shows them.
    subject = serializers.CharField(source="shown_subject", read_only=True)
    body = serializers.CharField(source="shown_body", read_only=True)

    class Meta:
        model = Notification
        fields = ["id", "subject", "body", "link", "created_at", "read_at"]


class MeApi(APIView):
    @extend_schema(responses={200: MeSerializer}, summary="Текущий пользователь")
    def get(self, request: Request) -> Response:
        user = request_user(request)
        return Response(
            {
                "email": user.email,
                "full_name": user.full_name,
                "is_staff": user.is_staff,
                "roles": sorted(r.value for r in user_roles(user)),
            }
        )


class NotificationListApi(APIView):
    @extend_schema(responses={200: NotificationSerializer(many=True)}, summary="Уведомления в кабинете")
    def get(self, request: Request) -> Response:
        return Response(NotificationSerializer(notification_list(user=request_user(request))[:100], many=True).data)


class NotificationReadApi(APIView):
    @extend_schema(request=None, responses={204: None}, summary="Отметить прочитанным")
    def post(self, request: Request, pk: int) -> Response:
        note = notification_list(user=request_user(request)).filter(pk=pk).first()
        if note is None:
            raise NotFound()
        notification_mark_read(notification=note)
        return Response(status=204)


@csrf_exempt  # it changes nothing: a POST to an unknown address is a 404, not a CSRF failure
def api_not_found(request: HttpRequest) -> HttpResponse:
    """Any other address under /api/: the API's structured 404, not the HTML page of the site. A
    known address without its final slash is redirected to it, as Django's APPEND_SLASH would."""
    if not request.path_info.endswith("/") and request.method in ("GET", "HEAD"):
        try:
            match = resolve(f"{request.path_info}/")
        except Resolver404:
            match = None
        if match is not None and match.func is not api_not_found:
            return HttpResponsePermanentRedirect(request.get_full_path(force_append_slash=True))
    return JsonResponse(error_body(code="not_found", message=_("Не найдено.")), status=404)
