"""Downloads have threads of their own (config.asgi.HttpPools): however many of them a slow client
holds, a page or the exam room's API is still served at once; and the exam room's answers get the
next free thread before the sitting's entry does, and a thread of their own that the entry never
holds."""

import asyncio
import threading
import time

from config.asgi import HttpPools
from tests.core.test_wsgi_pool import scope

RELEASE = threading.Event()


def wsgi_app(environ, start_response):
    """A download that waits for its client, or a start that waits for the database (held until
    RELEASE); anything else answers at once."""
    start_response("200 OK", [("Content-Type", "text/plain")])
    if environ["PATH_INFO"].endswith((".pdf", "/start/")):
        RELEASE.wait(10)
    return [environ["PATH_INFO"].encode()]


async def request(app, path):
    sent = []

    async def receive():
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message):
        sent.append(message)

    await app(scope(path=path), receive, send)
    return b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")


def exam_pools(*, threads, reserved, app=wsgi_app):
    """The pools of config.asgi with the exam room's answers first."""
    return HttpPools(
        app,
        threads=threads,
        download_threads=1,
        download_paths=r"\.pdf$",
        first_paths=r"^/api/v1/exam/attempt/answers/\d+/$",
        first_reserved=reserved,
    )


def assert_served_while_held(app, held_paths, path):
    """``path`` is answered while ``held_paths`` are being served (each held until RELEASE), and
    every held request is answered once released."""

    async def scenario():
        RELEASE.clear()
        held = [asyncio.create_task(request(app, p)) for p in held_paths]
        await asyncio.sleep(0.2)
        answer = await asyncio.wait_for(request(app, path), 2)
        answered_while_held = not any(h.done() for h in held)
        RELEASE.set()
        return answer, answered_while_held, await asyncio.gather(*held)

    answer, answered_while_held, answers = asyncio.run(scenario())
    assert answer == path.encode()
    assert answered_while_held
    assert answers == [p.encode() for p in held_paths]


def test_downloads_held_by_slow_clients_leave_the_pages_their_threads():
    app = HttpPools(wsgi_app, threads=1, download_threads=2, download_paths=r"\.pdf$")
    # Both download threads are held, and a third download waits; the page does not.
    assert_served_while_held(app, [f"/notice-{i}.pdf" for i in range(3)], "/exam/")


def test_the_default_download_paths_are_the_product_downloads(settings):
    import re

    pattern = re.compile(settings.HTTP_DOWNLOAD_PATHS)
    downloads = [
        "/cabinet/applications/7/notice.pdf",
        "/cabinet/applications/7/sitting.ics",
        "/cabinet/applications/7/attachments/3/",
        "/staff/bank/export.xlsx",
        "/api/v1/registry/open-data.csv",
    ]
    requests = [
        "/exam/",
        "/api/v1/exam/attempt/answers/3/",
        "/cabinet/applications/7/attachments/",
        "/registry/",
        "/registry/open-data/",
    ]
    assert all(pattern.search(path) for path in downloads)
    assert not any(pattern.search(path) for path in requests)


def test_an_answer_waiting_for_a_thread_is_served_before_the_entry_waiting():
    """The one thread is held by a start waiting for the database, and two more starts wait for it;
    an answer that arrives after them is served first once the thread is free."""
    app = exam_pools(threads=1, reserved=0)
    done = []

    async def served(path):
        await request(app, path)
        done.append(path)

    async def scenario():
        RELEASE.clear()
        start = "/api/v1/exam/attempt/start/"
        tasks = [asyncio.create_task(served(start))]
        await asyncio.sleep(0.1)
        tasks += [asyncio.create_task(served(start)) for _ in range(2)]
        await asyncio.sleep(0.1)
        tasks.append(asyncio.create_task(served("/api/v1/exam/attempt/answers/3/")))
        await asyncio.sleep(0.1)
        RELEASE.set()  # the held start ends; the others no longer wait for RELEASE
        await asyncio.wait_for(asyncio.gather(*tasks), 5)

    asyncio.run(scenario())
    assert done[:2] == ["/api/v1/exam/attempt/start/", "/api/v1/exam/attempt/answers/3/"]
    assert len(done) == 4


def test_the_requests_served_first_by_default_are_the_exam_rooms_answers(settings):
    import re

    from django.urls import reverse

    pattern = re.compile(settings.HTTP_FIRST_PATHS)
    assert pattern.search(reverse("exam-api:exam-answer", args=[40]))
    others = [
        reverse("exam-api:exam-start"),
        reverse("exam-api:exam-attempt"),
        reverse("exam-api:exam-submit"),
        "/exam/",
    ]
    assert not any(pattern.search(path) for path in others)


def test_an_answer_finds_its_reserved_thread_while_starts_hold_all_the_others():
    """Two threads, one reserved for the answers: of three starts waiting for the database, one
    holds a thread and the others wait for it, not for the reserved one, which answers at once."""
    assert_served_while_held(
        exam_pools(threads=2, reserved=1),
        ["/api/v1/exam/attempt/start/"] * 3,
        "/api/v1/exam/attempt/answers/3/",
    )


def test_without_a_reserved_thread_the_starts_take_every_thread():
    """The check of the test above can fail: with no thread reserved, two starts hold both threads
    and the answer waits until they end."""

    async def scenario():
        RELEASE.clear()
        app = exam_pools(threads=2, reserved=0)
        held = [asyncio.create_task(request(app, "/api/v1/exam/attempt/start/")) for _ in range(2)]
        await asyncio.sleep(0.2)
        answer = asyncio.create_task(request(app, "/api/v1/exam/attempt/answers/3/"))
        await asyncio.sleep(0.3)
        waited = not answer.done()
        RELEASE.set()
        await asyncio.wait_for(asyncio.gather(answer, *held), 5)
        return waited

    assert asyncio.run(scenario())


def test_the_threads_a_reservation_leaves_serve_the_other_requests_in_turn():
    """Three threads, one reserved: two starts run at once, a third starts when one of them ends,
    and every one is answered."""
    running, most = [], [0]
    lock = threading.Lock()

    def counting(environ, start_response):
        with lock:
            running.append(1)
            most[0] = max(most[0], len(running))
        time.sleep(0.1)
        with lock:
            running.pop()
        start_response("200 OK", [])
        return [b"ok"]

    app = exam_pools(threads=3, reserved=1, app=counting)

    async def scenario():
        return await asyncio.wait_for(asyncio.gather(*(request(app, "/start/") for _ in range(6))), 5)

    assert asyncio.run(scenario()) == [b"ok"] * 6
    assert most[0] == 2
