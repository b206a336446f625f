"""Live updates of the cabinet over WebSocket through the configured channel layer (Redis in CI)."""

import asyncio

import pytest
from asgiref.sync import async_to_sync
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.contrib.auth.models import AnonymousUser

from core.consumers import NotificationConsumer
from core.services import notification_send


@pytest.mark.django_db(transaction=True)
def test_open_cabinet_is_told_of_a_new_notification(alice, oscar):
    async def scenario():
        alices = WebsocketCommunicator(NotificationConsumer.as_asgi(), "/ws/notifications/")
        alices.scope["user"] = alice
        oscars = WebsocketCommunicator(NotificationConsumer.as_asgi(), "/ws/notifications/")
        oscars.scope["user"] = oscar
        assert (await alices.connect())[0] and (await oscars.connect())[0]
        assert await alices.receive_json_from(timeout=5) == {"type": "unread", "count": 0}
        assert await oscars.receive_json_from(timeout=5) == {"type": "unread", "count": 0}
        await database_sync_to_async(notification_send)(
            recipient=alice, subject="Заявление зарегистрировано", body="№ 1"
        )
        message = await alices.receive_json_from(timeout=5)
        assert message == {"type": "unread", "count": 1, "subject": "Заявление зарегистрировано"}
        assert await oscars.receive_nothing(timeout=0.5)  # nobody else hears of it
        await alices.disconnect()
        await oscars.disconnect()

    async_to_sync(scenario)()


@pytest.mark.django_db(transaction=True)
def test_anonymous_socket_is_refused():
    async def scenario():
        communicator = WebsocketCommunicator(NotificationConsumer.as_asgi(), "/ws/notifications/")
        communicator.scope["user"] = AnonymousUser()
        connected, code = await communicator.connect()
        assert not connected
        assert code == 4401

    async_to_sync(scenario)()


def test_the_channel_layer_takes_the_sockets_of_a_failed_node_at_once(redis_layer):
    """When an app node dies, its exam rooms reconnect to the others within a second or two: one
    process joins hundreds of groups at once (seen in make drill-cluster: a pool of 100 connections,
    redis-py's default, refused the rest with "Too many connections")."""
    layer = redis_layer

    async def burst():
        channels = [f"specific.burst!{i}" for i in range(400)]
        await asyncio.gather(*(layer.group_add("attempt.burst", name) for name in channels))
        await asyncio.gather(*(layer.group_discard("attempt.burst", name) for name in channels))

    async_to_sync(burst)()


def test_a_socket_waiting_for_messages_outlives_the_redis_clients_timeout(redis_layer):
    """channels_redis waits for a message with BZPOPMIN for brpop_timeout seconds (5), redis-py 8
    reads with a socket timeout of 5 s by default: under load the client gave up first, the consumer
    failed and the exam room's socket was closed (seen in make drill-cluster). Here the wait is made
    longer than redis-py's default, as a slow answer makes it."""
    layer = redis_layer

    async def wait() -> None:
        layer.brpop_timeout = 6
        channel = await layer.new_channel()
        with pytest.raises(asyncio.TimeoutError):  # ours: nothing came, and nothing failed
            await asyncio.wait_for(layer.receive(channel), timeout=7)

    async_to_sync(wait)()
