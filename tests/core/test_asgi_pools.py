"""Downloads have threads of their own (config.asgi.HttpPools): however many of them a slow client
holds, a page or the exam room's API is still served at once."""

import asyncio
import threading

from config.asgi import HttpPools
from tests.core.test_wsgi_pool import scope

RELEASE = threading.Event()


def wsgi_app(environ, start_response):
    """A download that waits for its client (held until RELEASE); anything else answers at once."""
    start_response("200 OK", [("Content-Type", "text/plain")])
    if environ["PATH_INFO"].endswith(".pdf"):
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


def test_downloads_held_by_slow_clients_leave_the_pages_their_threads():
    app = HttpPools(wsgi_app, threads=1, download_threads=2, download_paths=r"\.pdf$")

    async def scenario():
        RELEASE.clear()
        downloads = [asyncio.create_task(request(app, f"/notice-{i}.pdf")) for i in range(3)]
        await asyncio.sleep(0.2)
        # Both download threads are held, and a third download waits; the page does not.
        page = await asyncio.wait_for(request(app, "/exam/"), 2)
        answered_while_held = not any(d.done() for d in downloads)
        RELEASE.set()
        return page, answered_while_held, await asyncio.gather(*downloads)

    page, answered_while_held, downloads = asyncio.run(scenario())
    assert page == b"/exam/"
    assert answered_while_held
    assert downloads == [b"/notice-0.pdf", b"/notice-1.pdf", b"/notice-2.pdf"]


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
