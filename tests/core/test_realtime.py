"""Pushes to open pages (core.realtime.group_send) from the threads that serve requests and run
tasks, which have no event loop: they arrive in order, they reuse the process's connections to
Redis, and a Redis that does not answer does not hold the request that pushed."""

import socket
import threading
import time

import pytest
from asgiref.sync import async_to_sync

from core.realtime import group_send


def in_a_thread(fn, timeout=30):
    """Runs ``fn`` in a thread of its own, as a request's or a task's: no event loop in it."""
    failures = []

    def run():
        try:
            fn()
        except BaseException as exc:  # reported to the test
            failures.append(exc)

    thread = threading.Thread(target=run)
    thread.start()
    thread.join(timeout)
    assert not thread.is_alive() and not failures, failures


@pytest.fixture
def admin(redis_layer):
    """A client of the layer's Redis, of the test's own."""
    import redis

    client = redis.Redis.from_url(redis_layer.hosts[0]["address"])
    yield client
    client.close()


def redis_connections_received(admin) -> int:
    return int(admin.info("stats")["total_connections_received"])


def test_a_push_from_a_thread_without_a_loop_reaches_the_group(redis_layer):
    channel = async_to_sync(redis_layer.new_channel)()
    async_to_sync(redis_layer.group_add)("attempt.push-test", channel)
    try:

        def pushes():
            group_send("attempt.push-test", {"type": "attempt.clock", "n": 1})
            group_send("attempt.push-test", {"type": "attempt.finished", "score": 37})

        in_a_thread(pushes)

        async def two():  # in one loop: channels_redis keeps what it receives per loop
            return [await redis_layer.receive(channel), await redis_layer.receive(channel)]

        assert async_to_sync(two)() == [{"type": "attempt.clock", "n": 1}, {"type": "attempt.finished", "score": 37}]
    finally:
        async_to_sync(redis_layer.group_discard)("attempt.push-test", channel)


def test_pushes_reuse_the_process_connections_to_redis(admin):
    """Each push made a loop of its own, and channels_redis a connection to Redis for each loop: 2 ms
    of the process's CPU a push, two for each test that ends. Twenty pushes from two threads now
    open at most the connections of one loop."""

    def pushes():
        for i in range(10):
            group_send("attempt.nobody", {"type": "attempt.clock", "i": i})

    in_a_thread(pushes)  # the process's loop and its connections are made here, if not before
    before = redis_connections_received(admin)
    in_a_thread(pushes)
    in_a_thread(pushes)
    assert redis_connections_received(admin) - before <= 2


def test_a_redis_that_does_not_answer_does_not_hold_the_request_that_pushed(redis_layer, settings):
    """A socket that takes connections and never answers stands for a Redis that hangs: the push
    returns at once (the message waits in the process's loop, which gives up on it after
    PUSH_TIMEOUT_SECONDS), where it held the submit's thread for as long as Redis did not answer."""
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(16)
    try:
        config = {"hosts": [f"redis://127.0.0.1:{silent.getsockname()[1]}/0"]}
        settings.CHANNEL_LAYERS = {"default": {"BACKEND": "core.channel_layer.RedisChannelLayer", "CONFIG": config}}
        began = time.monotonic()
        in_a_thread(lambda: group_send("attempt.nobody", {"type": "attempt.finished", "score": 1}), timeout=10)
        assert time.monotonic() - began < 1
    finally:
        silent.close()


def own_ports_to_redis(port: int) -> set[int]:
    """The local ports of this process's TCP connections to ``port`` (from /proc)."""
    import os

    inodes = set()
    for fd in os.listdir("/proc/self/fd"):
        try:
            target = os.readlink(f"/proc/self/fd/{fd}")
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[8:-1])
    ports = set()
    for table in ("/proc/self/net/tcp", "/proc/self/net/tcp6"):
        with open(table) as lines:
            for line in list(lines)[1:]:
                fields = line.split()
                local, remote, inode = fields[1], fields[2], fields[9]
                if inode in inodes and int(remote.rsplit(":", 1)[1], 16) == port:
                    ports.add(int(local.rsplit(":", 1)[1], 16))
    return ports


def test_a_push_after_redis_closed_the_connection_still_arrives(redis_layer, admin):
    """Redis restarted closes the connections of the process's loop: the next push tried on one of
    them failed and was lost (a connection made for each push never met a closed one). Here Redis
    closes the loop's connection as a restart would (CLIENT KILL), and the next push arrives."""
    import asyncio

    def close_the_pushers_connection():
        ours = own_ports_to_redis(admin.connection_pool.connection_kwargs["port"])
        clients = admin.client_list()
        pushers = [c for c in clients if int(c["addr"].rsplit(":", 1)[1]) in ours and c["cmd"] in ("eval", "evalsha")]
        assert pushers  # the loop's connection, which sent the script of group_send last
        for client in pushers:
            admin.client_kill_filter(_id=client["id"])

    async def scenario():  # in one loop: channels_redis keeps what it receives per loop
        channel = await redis_layer.new_channel()
        await redis_layer.group_add("attempt.push-restart", channel)
        try:
            await asyncio.to_thread(group_send, "attempt.push-restart", {"type": "attempt.clock", "n": 1})
            first = await asyncio.wait_for(redis_layer.receive(channel), 5)
            await asyncio.to_thread(close_the_pushers_connection)
            await asyncio.to_thread(group_send, "attempt.push-restart", {"type": "attempt.finished", "score": 36})
            second = await asyncio.wait_for(redis_layer.receive(channel), 5)
        finally:
            await redis_layer.group_discard("attempt.push-restart", channel)
        return first, second

    first, second = async_to_sync(scenario)()
    assert first == {"type": "attempt.clock", "n": 1}
    assert second == {"type": "attempt.finished", "score": 36}
