"""Pushing messages to open pages over the channel layer, best effort.

Pages also poll, so an outage of Redis (the channel layer) delays a live update but changes nothing
that was saved; a failure here is logged and never fails the write that already committed.

The messages of a process go out from one event loop, in a thread of its own: channels_redis keeps
its connections to Redis per event loop, and ``async_to_sync`` called from a request's thread (which
has no loop) made a thread, a loop and a connection for each message, 2 ms of the process's CPU, two
of them for each test that ends (bench/README.md)."""

from __future__ import annotations

import asyncio
import logging
import os
import threading
from typing import Any

log = logging.getLogger(__name__)

# How long the process's loop waits for Redis to take one message before it gives up on it, and how
# many messages may wait for it meanwhile (beyond that a new one is dropped, and logged).
PUSH_TIMEOUT_SECONDS = 2.0
PUSH_BACKLOG = 1000

# A message waiting to go out: the channel layer, the group and the message.
_Push = tuple[Any, str, dict[str, Any]]


class _Pusher:
    """The process's event loop for pushes, and the queue of messages its one task sends in order.
    Started with the first push of a process: one forked after it was started (the Celery worker's
    pool, the browser tests' live server) starts its own, since a fork copies none of the threads.
    The caller only hands the message over: its thread does not wait for Redis (a wait that, with
    three busy threads in the process, was 90 ms of turns at the interpreter's lock)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pid = 0  # of the process whose thread runs the loop; none yet
        self._running: tuple[asyncio.AbstractEventLoop, asyncio.Queue[_Push]] | None = None

    def send(self, layer: Any, group: str, message: dict[str, Any]) -> None:
        loop, queue = self._started()
        loop.call_soon_threadsafe(self._put, queue, (layer, group, message))

    def _started(self) -> tuple[asyncio.AbstractEventLoop, asyncio.Queue[_Push]]:
        running = self._running
        if running is None or self._pid != os.getpid():
            with self._lock:
                if self._running is None or self._pid != os.getpid():
                    loop, queue = asyncio.new_event_loop(), asyncio.Queue[_Push]()
                    threading.Thread(target=self._run, args=(loop, queue), name="push", daemon=True).start()
                    self._running, self._pid = (loop, queue), os.getpid()
                running = self._running
        return running

    @staticmethod
    def _put(queue: asyncio.Queue[_Push], item: _Push) -> None:
        if queue.qsize() >= PUSH_BACKLOG:
            log.warning("not pushing to %s: %s messages wait for the channel layer", item[1], queue.qsize())
            return
        queue.put_nowait(item)

    @staticmethod
    def _run(loop: asyncio.AbstractEventLoop, queue: asyncio.Queue[_Push]) -> None:
        asyncio.set_event_loop(loop)
        loop.run_until_complete(_Pusher._drain(queue))

    @staticmethod
    async def _drain(queue: asyncio.Queue[_Push]) -> None:
        from redis.exceptions import ConnectionError as RedisConnectionError

        while True:
            layer, group, message = await queue.get()
            try:
                try:
                    await asyncio.wait_for(layer.group_send(group, message), PUSH_TIMEOUT_SECONDS)
                except RedisConnectionError:
                    # A connection of the pool that Redis closed (restarted since): the pool makes
                    # a new one for the second try; a Redis still down fails it as well.
                    await asyncio.wait_for(layer.group_send(group, message), PUSH_TIMEOUT_SECONDS)
            except Exception:  # Redis down, unreachable or not answering: see the module docstring
                log.warning("could not push to %s", group, exc_info=True)


_pusher = _Pusher()


def group_send(group: str, message: dict[str, Any]) -> None:
    """Push ``message`` to the pages in ``group``, after the caller's write has committed; returns
    at once, the message goes out from the process's loop."""
    from asgiref.sync import async_to_sync
    from channels.layers import InMemoryChannelLayer, get_channel_layer

    layer = get_channel_layer()
    if layer is None:
        return
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        pass  # no loop in this thread: the normal case for sync code
    else:
        log.debug("not pushing to %s from inside an event loop", group)
        return
    if isinstance(layer, InMemoryChannelLayer):
        # make run's layer, of one process: its queues belong to the server's loop, which
        # async_to_sync reaches from a thread that loop started; they are not safe across loops.
        async_to_sync(layer.group_send)(group, message)
        return
    _pusher.send(layer, group, message)
