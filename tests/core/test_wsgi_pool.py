"""The bridge from the ASGI server to Django's WSGI handler (core.wsgi_pool): bodies arrive whole
however the client split them, large and chunked bodies still stream in, streamed responses go out
chunk by chunk at the client's pace, and a thread keeps what Django builds per thread."""

import asyncio
import os
import threading
import time

from django.core.cache import caches
from django.http import HttpResponse, StreamingHttpResponse

from core.wsgi_pool import WsgiPool


def scope(method="GET", path="/", headers=()):
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"testserver"), *headers],
        "server": ("testserver", 80),
        "client": ("127.0.0.1", 5000),
    }


def serve(app, request_scope, parts=(b"",), *, send_delay=0.0, disconnect=False):
    """Runs one request through ``app``: the body in ``parts`` (as the client's packets), each
    message the server would send recorded with the moment it was sent."""
    incoming = [{"type": "http.request", "body": p, "more_body": i < len(parts) - 1} for i, p in enumerate(parts)]
    if disconnect:
        incoming = [{"type": "http.disconnect"}]
    sent = []

    async def receive():
        return incoming.pop(0) if incoming else {"type": "http.disconnect"}

    async def send(message):
        await asyncio.sleep(send_delay)
        sent.append((time.monotonic(), message))

    asyncio.run(app(request_scope, receive, send))
    return sent


def echo(environ, start_response):
    """Answers with what it received: the method, the length announced and the body read."""
    body = environ["wsgi.input"].read()
    start_response("201 Created", [("Content-Type", "text/plain"), ("X-Length", environ.get("CONTENT_LENGTH", ""))])
    return [environ["REQUEST_METHOD"].encode(), b" ", body]


def body_of(sent):
    return b"".join(m.get("body", b"") for _at, m in sent if m["type"] == "http.response.body")


def test_a_body_sent_in_parts_reaches_the_application_whole_and_the_answer_goes_out_in_one_piece():
    pool = WsgiPool(echo, threads=1)
    sent = serve(pool, scope("PUT", headers=[(b"content-length", b"11")]), parts=[b"hello", b" world"])
    assert [m["type"] for _at, m in sent] == ["http.response.start", "http.response.body"]
    start, end = sent[0][1], sent[1][1]
    assert start["status"] == 201
    assert (b"x-length", b"11") in start["headers"]
    assert end == {"type": "http.response.body", "body": b"PUT hello world", "more_body": False}


def test_a_body_over_the_limit_or_of_unknown_length_is_read_as_it_arrives():
    pool = WsgiPool(echo, threads=1, buffer_limit=8)
    big = [b"a" * 10, b"b" * 10, b"c" * 10]
    assert body_of(serve(pool, scope("POST", headers=[(b"content-length", b"30")]), parts=big)) == b"POST " + b"".join(
        big
    )
    chunked = scope("POST", headers=[(b"transfer-encoding", b"chunked")])
    assert body_of(serve(pool, chunked, parts=[b"one ", b"two"])) == b"POST one two"


def test_a_client_gone_before_its_body_is_not_served():
    called = []

    def app(environ, start_response):
        called.append(environ["PATH_INFO"])
        start_response("200 OK", [])
        return [b""]

    sent = serve(WsgiPool(app, threads=1), scope("POST", headers=[(b"content-length", b"5")]), disconnect=True)
    assert called == []
    assert sent == []


def test_a_streamed_response_goes_out_chunk_by_chunk_at_the_pace_of_the_client():
    produced = []

    def download(environ, start_response):
        def chunks():
            for i in range(3):
                produced.append(time.monotonic())
                yield f"part {i};".encode()

        response = StreamingHttpResponse(chunks(), content_type="text/csv")
        start_response("200 OK", [("Content-Type", "text/csv")])
        return response

    sent = serve(WsgiPool(download, threads=1), scope(path="/export.csv"), send_delay=0.05)
    types = [m["type"] for _at, m in sent]
    assert types == ["http.response.start"] + ["http.response.body"] * 4
    assert body_of(sent) == b"part 0;part 1;part 2;"
    assert sent[-1][1]["more_body"] is False
    # The next chunk is made only once the previous one has been sent (a slow client holds its
    # own download, not the server's memory).
    body_sent = [at for at, m in sent if m["type"] == "http.response.body"]
    assert produced[1] >= body_sent[0] and produced[2] >= body_sent[1]


def test_a_response_held_in_memory_goes_out_whole():
    def page(environ, start_response):
        response = HttpResponse(b"<p>page</p>")
        start_response("200 OK", [("Content-Type", "text/html")])
        return response

    sent = serve(WsgiPool(page, threads=1), scope(path="/exam/"))
    assert [m for _at, m in sent][1] == {"type": "http.response.body", "body": b"<p>page</p>", "more_body": False}


def test_a_thread_keeps_what_django_builds_per_thread_from_one_request_to_the_next():
    """Django's cache connections are made once per thread and context: a bridge that ran each
    request in a fresh context (a2wsgi did) made them again for every request."""
    seen = []

    def app(environ, start_response):
        seen.append((threading.get_ident(), id(caches["default"])))
        start_response("200 OK", [])
        return [b"ok"]

    pool = WsgiPool(app, threads=1)
    for _ in range(3):
        serve(pool, scope())
    assert len(set(seen)) == 1


def test_only_http_is_served():
    pool = WsgiPool(echo, threads=1)
    try:
        asyncio.run(pool({"type": "lifespan"}, None, None))
    except ValueError as exc:
        assert "lifespan" in str(exc)
    else:
        raise AssertionError("a lifespan scope was accepted")


def test_server_timing_says_where_the_time_went_only_when_asked():
    def slow(environ, start_response):
        time.sleep(0.05)
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"ok"]

    def timing_of(sent):
        return dict(sent[0][1]["headers"]).get(b"server-timing")

    assert timing_of(serve(WsgiPool(slow, threads=1), scope())) is None
    header = timing_of(serve(WsgiPool(slow, threads=1, timing=True), scope())).decode()
    metrics = dict(part.strip().split(";", 1) for part in header.split(","))
    assert float(metrics["app"].removeprefix("dur=")) >= 50
    assert float(metrics["wait"].removeprefix("dur=")) >= 0
    assert metrics["proc"] == f"desc={os.getpid()}"

    streamed = WsgiPool(lambda e, s: (s("200 OK", []), iter([b"a", b"b"]))[1], threads=1, timing=True)
    assert b"app;dur=" in timing_of(serve(streamed, scope()))


def test_a_process_forked_from_one_with_the_pool_serves_with_threads_of_its_own():
    """The browser tests' live server is forked from the test process, which has imported the ASGI
    application and its pools: a fork copies the queue but none of the threads, and every request
    waited in the queue for ever."""
    from core.wsgi_pool import RankedExecutor
    from tests.conftest import in_forked_child

    executor = RankedExecutor(2)
    assert executor.submit(lambda: "parent").result(timeout=5) == "parent"
    served = lambda: 0 if executor.submit_ranked(0, lambda: "child").result(timeout=5) == "child" else 2  # noqa: E731
    assert in_forked_child(served, timeout=10) == 0


def test_an_executor_shut_down_finishes_the_work_queued_before():
    from core.wsgi_pool import RankedExecutor

    executor = RankedExecutor(2, reserved=1)
    futures = [executor.submit(time.sleep, 0.05) for _ in range(3)] + [executor.submit_ranked(0, lambda: "first")]
    executor.shutdown(wait=True)
    assert all(f.done() for f in futures)
    assert futures[-1].result() == "first"
