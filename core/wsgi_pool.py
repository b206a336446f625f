"""Django's WSGI handler served from the ASGI server on a pool of reused threads, with one hand-over
from the event loop to a thread and one back for an ordinary request.

a2wsgi (the bridge this replaces for ordinary requests) hands every step of a request between the
loop and its thread: the read of the body, the start of the response, each chunk and the end, each
a wake-up of the other side and a wait for it, eight for an answer save. Here the loop reads a body
of known length up to ``buffer_limit`` before the thread starts, and the thread gives back a
response that is not streamed whole; the loop sends it. Measured with one server process, an answer
save cost 1.41 ms of its CPU through a2wsgi and 0.86 ms here (bench/README.md, "One hand-over each
way").

Each thread runs its requests in its own context, as a WSGI server's threads do (a2wsgi ran each in
a copy of the loop's): what Django keeps per thread, such as its cache connections, is made once per
thread, not once per request. Every context variable the product sets is reset when its request
ends (core.logs, core.site, core.db).

What still goes through a2wsgi, on the same threads: a body without a length or longer than
``buffer_limit`` (an upload is read as it arrives, never held whole before Django has checked its
size). A streamed response (a file, an export) is sent chunk by chunk from the thread, each chunk
waiting until the loop has sent it: a slow client slows only its own download."""

from __future__ import annotations

import asyncio
import collections
import io
import itertools
import os
import re
import threading
import time
from collections.abc import Awaitable, Callable, Iterable
from concurrent.futures import Executor, Future
from typing import Any

from a2wsgi.wsgi import WSGIResponder, build_environ

# Read once, for Server-Timing only: the servers are not forked after importing this (the browser
# tests' live server is, with the timing off; RankedExecutor itself checks for a fork).
_PID = os.getpid()
BUFFER_LIMIT = 256 * 1024  # bytes: a request body up to this is read before the thread starts

Message = dict[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


class _Response:
    """What the thread gives back to the loop: the status and headers, and the whole body, or
    ``streamed`` when the thread has sent it already."""

    __slots__ = ("body", "headers", "status", "streamed")

    def __init__(self) -> None:
        self.status = 500
        self.headers: list[tuple[bytes, bytes]] = []
        self.body: list[bytes] = []
        self.streamed = False  # the thread sends the response (and has sent its headers once started)

    def start_response(
        self, status: str, headers: list[tuple[str, str]], exc_info: Any = None
    ) -> Callable[[bytes], None]:
        """PEP 3333's start_response; what its write() callable is given comes before the body."""
        if exc_info is not None and self.streamed:
            raise exc_info[1].with_traceback(exc_info[2])
        self.status = int(status.split(" ", 1)[0])
        self.headers = [(name.lower().encode("latin1"), value.encode("latin1")) for name, value in headers]
        return self.body.append

    def timed(self, arrived: float, began: float) -> None:
        """Server-Timing: how long the request waited for a thread and how long the application took
        (to its whole response, or to the first chunk of a streamed one), in milliseconds, and which
        server process served it."""
        now = time.perf_counter()
        value = b"wait;dur=%.2f, app;dur=%.2f, proc;desc=%d" % ((began - arrived) * 1000, (now - began) * 1000, _PID)
        self.headers.append((b"server-timing", value))

    def start_message(self) -> Message:
        return {"type": "http.response.start", "status": self.status, "headers": self.headers}


def _held_whole(iterable: Iterable[bytes]) -> bool:
    """A response already in memory: a list, or one of Django's that does not stream."""
    return isinstance(iterable, list | tuple) or getattr(iterable, "streaming", None) is False


# What waits for a thread: the future and the call.
_Work = tuple[Future[Any], Any, Any, Any]


class RankedExecutor(Executor):
    """``threads`` threads that take the waiting work first-ranked first (rank 0: the exam room's
    answers), then the rest (rank 1), each in order of arrival; ThreadPoolExecutor takes it in order
    of arrival only. Of the threads, ``reserved`` never take the rest: at most ``threads - reserved``
    of them run it at once, so that an answer finds a free thread while pages, sign-ins and starts
    fill the others, and fewer of those take turns with it at the interpreter's lock. ``submit``
    ranks 1. The threads start with the first work of a process: one forked after this was made (the
    live server of the browser tests) starts its own, since a fork copies the queues but none of the
    threads."""

    def __init__(self, threads: int, name: str = "http", *, reserved: int = 0) -> None:
        if not 0 <= reserved < threads:
            raise ValueError("reserved: from 0 to threads - 1")
        self._count = threads
        self._rest_limit = threads - reserved
        self._name = name
        self._start_lock = threading.Lock()
        self._pid = 0  # of the process whose threads serve the queues; none yet
        self._ready = threading.Condition()
        self._first: collections.deque[_Work] = collections.deque()
        self._rest: collections.deque[_Work] = collections.deque()
        self._rest_running = 0
        self._stopping = False
        self._threads: list[threading.Thread] = []

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        return self.submit_ranked(1, fn, *args, **kwargs)

    def submit_ranked(self, rank: int, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        if self._pid != os.getpid():
            self._start()
        future: Future[Any] = Future()
        with self._ready:
            (self._first if rank == 0 else self._rest).append((future, fn, args, kwargs))
            self._ready.notify()
        return future

    def _start(self) -> None:
        with self._start_lock:
            if self._pid == os.getpid():
                return
            # A fork copies the condition's lock as it was, the parent's waiting work and the count of
            # its threads: in the child, a new lock, and none of the parent's work, whose futures
            # the parent's loop awaits.
            self._ready = threading.Condition()
            self._first.clear()
            self._rest.clear()
            self._rest_running = 0
            self._stopping = False
            self._threads = [
                threading.Thread(target=self._work, name=f"{self._name}_{i}", daemon=True) for i in range(self._count)
            ]
            for thread in self._threads:
                thread.start()
            self._pid = os.getpid()

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        """The threads end once the work queued before has been done."""
        with self._ready:
            self._stopping = True
            self._ready.notify_all()
        if wait:
            for thread in self._threads:
                thread.join()

    def _next(self) -> tuple[_Work | None, bool]:
        """The next work this thread may take, waiting for it, and whether it is of the rest; None
        when the executor is shut down and nothing it may take is left."""
        with self._ready:
            while True:
                if self._first:
                    return self._first.popleft(), False
                if self._rest and self._rest_running < self._rest_limit:
                    self._rest_running += 1
                    return self._rest.popleft(), True
                if self._stopping and not self._rest:
                    return None, False
                self._ready.wait()

    def _work(self) -> None:
        while True:
            work, of_rest = self._next()
            if work is None:
                with self._ready:
                    self._ready.notify_all()  # another thread may be waiting on the rest's limit
                return
            future, fn, args, kwargs = work
            try:
                if future.set_running_or_notify_cancel():
                    try:
                        result = fn(*args, **kwargs)
                    except BaseException as exc:  # as ThreadPoolExecutor: the caller gets it
                        future.set_exception(exc)
                    else:
                        future.set_result(result)
            finally:
                if of_rest:
                    with self._ready:
                        self._rest_running -= 1
                        self._ready.notify()


class WsgiPool:
    """An ASGI application (HTTP) running the WSGI application ``app`` on ``threads`` reused threads;
    the requests whose path matches ``first`` get the next free thread before any other waiting, and
    ``first_reserved`` of the threads are theirs only."""

    def __init__(
        self,
        app: WsgiApp,
        *,
        threads: int,
        buffer_limit: int = BUFFER_LIMIT,
        timing: bool = False,
        first: str = "",
        first_reserved: int = 0,
    ) -> None:
        self.app = app
        self.executor = RankedExecutor(threads, reserved=first_reserved if first else 0)
        self.buffer_limit = buffer_limit
        self.timing = timing  # each response says in Server-Timing where its time went (the benches)
        self.first = re.compile(first) if first else None

    async def __call__(self, scope: Message, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            raise ValueError(f"WsgiPool serves HTTP, not {scope['type']!r}")
        arrived = time.perf_counter()
        if not self._readable_first(scope):
            await WSGIResponder(self.app, self.executor, 10)(scope, receive, send)  # type: ignore[arg-type]
            return
        chunks = []
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return  # gone before its body arrived: nothing to answer
            chunks.append(message.get("body", b""))
            if not message.get("more_body", False):
                break
        loop = asyncio.get_running_loop()
        environ: dict[str, Any] = build_environ(scope, io.BytesIO(b"".join(chunks)))  # type: ignore[arg-type,assignment]
        rank = 0 if self.first is not None and self.first.search(scope["path"]) else 1
        response = await asyncio.wrap_future(
            self.executor.submit_ranked(rank, self._run, environ, loop, send, arrived), loop=loop
        )
        if not response.streamed:
            await send(response.start_message())
            await send({"type": "http.response.body", "body": b"".join(response.body), "more_body": False})

    def _readable_first(self, scope: Message) -> bool:
        """Whether the body is of a known length within the limit (no body counts as one)."""
        length = None
        for name, value in scope.get("headers", ()):
            if name == b"transfer-encoding":
                return False
            if name == b"content-length":
                length = bytes(value)
        return length is None or (length.isdigit() and int(length) <= self.buffer_limit)

    def _run(self, environ: dict[str, Any], loop: asyncio.AbstractEventLoop, send: Send, arrived: float) -> _Response:
        """In a thread of the pool: the WSGI application's work, and a streamed response's sending."""
        began = time.perf_counter()
        response = _Response()
        iterable = self.app(environ, response.start_response)
        try:
            if _held_whole(iterable):
                response.body.extend(iterable)
                if self.timing:
                    response.timed(arrived, began)
                return response

            def sent(message: Message) -> None:
                asyncio.run_coroutine_threadsafe(send(message), loop).result()  # type: ignore[arg-type]

            chunks = iter(iterable)
            first = next(chunks, b"")  # start_response has been called by the first chunk (PEP 3333)
            response.streamed = True
            if self.timing:
                response.timed(arrived, began)
            sent(response.start_message())
            for chunk in itertools.chain(response.body, (first,), chunks):
                if chunk:
                    sent({"type": "http.response.body", "body": chunk, "more_body": True})
            sent({"type": "http.response.body", "body": b"", "more_body": False})
            return response
        finally:
            close = getattr(iterable, "close", None)
            if close is not None:
                close()
