"""The channel layer's connections to Redis can be cancelled at any turn of the loop (core.channel_layer):
on Python 3.11 redis-py's send lost a cancellation that came just as the command was written, and a
consumer whose socket closed then never ended."""

import asyncio
import threading

import pytest
from asgiref.sync import async_to_sync
from channels.testing import WebsocketCommunicator
from django.contrib.sessions.backends.db import SessionStore

from exam.testing.consumers import AttemptConsumer


def test_a_command_cancelled_at_any_turn_of_the_loop_ends_cancelled(redis_layer):
    """A task sending PING is cancelled after 0, 1, 2 ... turns of the loop: whenever the
    cancellation reached it before it ended, it ends cancelled, never with PING's answer."""

    async def scenario() -> list[int]:
        client = redis_layer.connection(0)
        await client.ping()  # connected: the turns below are those of a command alone
        lost = []
        for turns in range(40):
            task = asyncio.ensure_future(client.ping())
            for _ in range(turns):
                await asyncio.sleep(0)
            if not task.cancel():
                continue  # it had ended: nothing to lose
            try:
                await task
            except asyncio.CancelledError:
                continue
            lost.append(turns)
        return lost

    assert async_to_sync(scenario)() == []


@pytest.mark.django_db(transaction=True)
def test_the_consumer_of_a_refused_socket_ends_every_time(redis_layer):
    """The exam room refuses a socket without the exam session; its consumer was waiting for the
    layer's messages, and the end of the test's loop cancels it. A hundred times over, each with a
    layer of its own as a new process has, each ends (one in a few hung for ever)."""
    from channels.layers import channel_layers

    async def refused() -> None:
        room = WebsocketCommunicator(AttemptConsumer.as_asgi(), "/ws/exam/attempt/")
        room.scope["session"] = SessionStore()
        connected, code = await room.connect()
        assert not connected and code == 4401

    failures: list[BaseException] = []

    def hundred() -> None:
        try:
            for _ in range(100):
                channel_layers.backends.clear()
                async_to_sync(refused)()
        except BaseException as exc:  # reported below
            failures.append(exc)

    thread = threading.Thread(target=hundred, daemon=True)  # a hung loop must not hold the run
    thread.start()
    thread.join(60)
    assert not thread.is_alive(), "a refused socket's consumer did not end"
    assert not failures, failures
