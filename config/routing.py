from django.urls import path

from core.consumers import NotificationConsumer
from exam.testing.consumers import AttemptConsumer, SittingMonitorConsumer

websocket_urlpatterns = [
    path("ws/notifications/", NotificationConsumer.as_asgi()),
    path("ws/exam/attempt/", AttemptConsumer.as_asgi()),
    path("ws/exam/monitor/<int:sitting_id>/", SittingMonitorConsumer.as_asgi()),
]
