"""WebSockets of the attestation test: the candidate's clock and "time is up", and the exam
administrator's live monitor of a sitting."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer

from core.errors import DomainError


class AttemptConsumer(AsyncJsonWebsocketConsumer):
    """Carries the server's remaining time and the end of the test to the exam room. The page asks
    {"type": "sync"} whenever it wants the clock; the server pushes extra time, take-over and the
    result as they happen."""

    async def connect(self) -> None:
        state = await self._load()
        if state is None:
            await self.close(code=4401)
            return
        self.attempt_id, self.session_key = state
        self.group = f"attempt.{self.attempt_id}"
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.accept()
        await self.send_json(await self._clock())

    async def disconnect(self, code: int) -> None:
        if hasattr(self, "group"):
            await self.channel_layer.group_discard(self.group, self.channel_name)

    async def receive_json(self, content: Any, **kwargs: Any) -> None:
        if isinstance(content, dict) and content.get("type") == "sync":
            await self.send_json(await self._clock())

    async def attempt_clock(self, event: dict[str, Any]) -> None:
        await self.send_json(await self._clock())

    async def attempt_finished(self, event: dict[str, Any]) -> None:
        await self.send_json({"type": "finished", "score": event.get("score"), "passed": event.get("passed")})

    async def attempt_taken_over(self, event: dict[str, Any]) -> None:
        if event.get("session") == self.session_key:
            await self.send_json({"type": "taken_over"})

    @database_sync_to_async
    def _load(self) -> tuple[int, str] | None:
        from exam.testing import selectors as testing_selectors
        from exam.testing.session import exam_session_get

        session = self.scope.get("session")
        if session is None:
            return None
        try:
            credential, session_key = exam_session_get(session)
        except DomainError:
            return None
        attempt = testing_selectors.attempt_for_credential(credential)
        if attempt is None:
            return None
        return attempt.pk, session_key

    @database_sync_to_async
    def _clock(self) -> dict[str, Any]:
        from exam.models import Attempt
        from exam.testing import selectors as testing_selectors
        from exam.testing.services.attempts import attempt_finalize_if_due

        attempt = attempt_finalize_if_due(attempt=Attempt.objects.get(pk=self.attempt_id))
        return {"type": "clock", **testing_selectors.attempt_clock(attempt)}


class SittingMonitorConsumer(AsyncJsonWebsocketConsumer):
    """The exam administrator's live view of a sitting: a fresh snapshot every few seconds and at
    once when something happens (a start, an end, a take-over, extra time)."""

    INTERVAL = 3.0

    async def connect(self) -> None:
        self.sitting_id = int(self.scope["url_route"]["kwargs"]["sitting_id"])
        if not await self._allowed():
            await self.close(code=4403)
            return
        if not await self._sitting_exists():
            await self.close(code=4404)  # before accepting: the snapshot needs the sitting
            return
        self.group = f"sitting.{self.sitting_id}"
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.accept()
        await self._send_snapshot()
        self.ticker = asyncio.ensure_future(self._tick())

    async def disconnect(self, code: int) -> None:
        if hasattr(self, "ticker"):
            self.ticker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.ticker
        if hasattr(self, "group"):
            await self.channel_layer.group_discard(self.group, self.channel_name)

    async def sitting_changed(self, event: dict[str, Any]) -> None:
        await self._send_snapshot()

    async def _tick(self) -> None:
        while True:
            await asyncio.sleep(self.INTERVAL)
            await self._send_snapshot()

    async def _send_snapshot(self) -> None:
        await self.send_json({"type": "snapshot", "rows": await self._snapshot()})

    @database_sync_to_async
    def _allowed(self) -> bool:
        from core.accounts import session_second_factor_pending
        from core.roles import Role, has_role

        user = self.scope.get("user")
        if user is None or not user.is_authenticated or not has_role(user, Role.EXAM_ADMIN):
            return False
        return not session_second_factor_pending(user, self.scope.get("session"))

    @database_sync_to_async
    def _sitting_exists(self) -> bool:
        from exam.models import Sitting

        return Sitting.objects.filter(pk=self.sitting_id).exists()

    @database_sync_to_async
    def _snapshot(self) -> list[dict[str, Any]]:
        from exam.models import Sitting
        from exam.testing import selectors as testing_selectors

        sitting = Sitting.objects.filter(pk=self.sitting_id).first()
        if sitting is None:  # deleted while watched: an empty room rather than a crashed socket
            return []
        return testing_selectors.sitting_monitor(sitting)
