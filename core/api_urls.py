from django.urls import path

from core import api_views
from core.qes.api import DocumentSignatureVerifyApi

app_name = "core-api"

urlpatterns = [
    path("me/", api_views.MeApi.as_view(), name="me"),
    path("notifications/", api_views.NotificationListApi.as_view(), name="notifications"),
    path("signatures/verify/", DocumentSignatureVerifyApi.as_view(), name="signature-verify"),
    path("notifications/<int:pk>/read/", api_views.NotificationReadApi.as_view(), name="notification-read"),
]
