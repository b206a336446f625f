"""Live updates of the cabinet: the count of unread notifications, pushed after each commit."""

from __future__ import annotations

from typing import Any

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer


def user_group(user_id: int) -> str:
    return f"user.{user_id}"


class NotificationConsumer(AsyncJsonWebsocketConsumer):
    async def connect(self) -> None:
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            await self.close(code=4401)
            return
        self.group = user_group(user.pk)
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.accept()
        await self.send_json({"type": "unread", "count": await self._unread(user)})

    async def disconnect(self, code: int) -> None:
        if hasattr(self, "group"):
            await self.channel_layer.group_discard(self.group, self.channel_name)

    async def notification_new(self, event: dict[str, Any]) -> None:
        await self.send_json({"type": "unread", "count": event["count"], "subject": event.get("subject", "")})

    @database_sync_to_async
    def _unread(self, user: Any) -> int:
        from core.selectors import notification_unread_count

        return notification_unread_count(user=user)
