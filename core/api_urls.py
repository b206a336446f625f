from django.urls import path

from core import api_views

app_name = "core-api"

urlpatterns = [
    path("me/", api_views.MeApi.as_view(), name="me"),
    path("notifications/", api_views.NotificationListApi.as_view(), name="notifications"),
    path("notifications/<int:pk>/read/", api_views.NotificationReadApi.as_view(), name="notification-read"),
]
