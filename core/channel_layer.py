"""The channel layer: channels_redis, over connections to Redis whose commands can be cancelled.

On Python 3.11 ``asyncio.wait_for`` returns the result of an awaitable that finished in the same
turn of the loop as its caller was cancelled, and the cancellation is lost (python/cpython#86296,
fixed in 3.12). redis-py sends every command through ``wait_for(..., socket_timeout)``. A socket
closed while its consumer's receive was sending BZPOPMIN lost the cancellation: the receive went on
waiting for messages, 5 s at a time on a connection of its own, for ever, and the consumer never
ended: a task and a connection leaked per unlucky socket, and a test's loop that waited for it hung
(CI, at the end of a refused WebSocket of tests/exam/test_consumers.py). Here a command is sent
under ``asyncio.timeout``, which tells its own expiry from a cancellation from outside."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from typing import Any

from channels_redis.core import RedisChannelLayer as _RedisChannelLayer
from channels_redis.utils import create_pool
from redis.asyncio import Connection as _Connection
from redis.exceptions import TimeoutError as RedisTimeoutError


class Connection(_Connection):
    """redis-py's TCP connection, with the socket timeout of a send kept by ``asyncio.timeout``."""

    async def send_packed_command(self, command: bytes | str | Iterable[bytes], check_health: bool = True) -> None:
        timeout = self.socket_timeout
        if not timeout:
            await super().send_packed_command(command, check_health=check_health)
            return
        # Without a socket timeout redis-py writes without wait_for; the connection serves one
        # command at a time, and the read that follows has the timeout back.
        self.socket_timeout = None
        try:
            async with asyncio.timeout(timeout):
                await super().send_packed_command(command, check_health=check_health)
        except TimeoutError:  # the timeout's own expiry; a cancellation from outside stays one
            raise RedisTimeoutError("Timeout writing to socket") from None
        finally:
            self.socket_timeout = timeout


class RedisChannelLayer(_RedisChannelLayer):
    """channels_redis's layer, whose pools make the connections above to a Redis over TCP (TLS, a
    Unix socket and Sentinel keep redis-py's own classes)."""

    def create_pool(self, index: int) -> Any:
        host = dict(self.hosts[index])
        if str(host.get("address", "redis://")).startswith("redis://") and "master_name" not in host:
            host["connection_class"] = Connection
        return create_pool(host)
