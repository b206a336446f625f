"""The ASGI entry point: HTTP through Django's WSGI handler on fixed pools of threads
(core.wsgi_pool), WebSockets through Channels.

Why not Django's own ASGI handler for HTTP: the product's views are synchronous (the ORM), and
under ASGI Django runs each request in a thread of its own, started and joined per request, with
the hand-overs between the event loop and that thread; measured on this stack, a one-statement view
cost 4-6 ms of CPU per request that way against 1.5-1.7 ms through a pool of reused threads, and
0.9 ms since a request is handed over once each way (bench/README.md). The WebSockets (the exam
room's clock, the monitor, notifications) stay asynchronous in Channels; both share one server
process and one port."""

import gc
import os
import re
from typing import Any

from django.core.wsgi import get_wsgi_application

from config.workdir import prepare

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
prepare()
django_wsgi_app = get_wsgi_application()

from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import AllowedHostsOriginValidator  # noqa: E402
from django.conf import settings  # noqa: E402

from config.routing import websocket_urlpatterns  # noqa: E402
from core.wsgi_pool import WsgiPool  # noqa: E402


class HttpPools:
    """HTTP requests to one of two pools of threads. A download (a file, a PDF, an export) holds its
    thread until the client has read the last chunk (each is sent before the next is made), so on a slow
    line for minutes: downloads get threads of their own (HTTP_DOWNLOAD_THREADS), and however many
    are under way, the pages, the API and the exam room keep all of theirs (HTTP_THREADS). Of these,
    the exam room's answers (HTTP_FIRST_PATHS) get the next free thread before the other requests
    waiting, and HTTP_FIRST_RESERVED of the threads serve nothing else: at a sitting's entry the
    threads are busy with pages, sign-ins and starts, and an answer, a millisecond of work whose wait
    the candidate sees, waited behind them for a thread, then took turns with them at the
    interpreter's lock."""

    def __init__(
        self,
        app: Any,
        *,
        threads: int,
        download_threads: int,
        download_paths: str,
        first_paths: str = "",
        first_reserved: int = 0,
        timing: bool = False,
    ) -> None:
        self.requests = WsgiPool(app, threads=threads, timing=timing, first=first_paths, first_reserved=first_reserved)
        self.downloads = WsgiPool(app, threads=download_threads, timing=timing)
        self.download_paths = re.compile(download_paths)

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        pool = self.downloads if self.download_paths.search(scope["path"]) else self.requests
        await pool(scope, receive, send)


application = ProtocolTypeRouter(
    {
        "http": HttpPools(
            django_wsgi_app,
            threads=settings.HTTP_THREADS,
            download_threads=settings.HTTP_DOWNLOAD_THREADS,
            download_paths=settings.HTTP_DOWNLOAD_PATHS,
            first_paths=settings.HTTP_FIRST_PATHS,
            first_reserved=settings.HTTP_FIRST_RESERVED,
            timing=settings.HTTP_SERVER_TIMING,
        ),
        "websocket": AllowedHostsOriginValidator(AuthMiddlewareStack(URLRouter(websocket_urlpatterns))),
    }
)


def _collector_tuned(thresholds: tuple[int, int, int]) -> None:
    """The cyclic garbage collector of a server process, set for its work: everything loaded at
    start (Django, the apps, the URLs: about 130,000 objects) is moved out of its reach, so that a
    full collection no longer scans it (measured under a sitting's load: a pause of 100-190 ms of
    the whole process, every 15-30 s, and 5 s of CPU in four minutes), and collections start after
    more allocations than Python's default of 700 (a request makes thousands; most are freed at once
    by their reference count and never needed a collection)."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(*thresholds)


_collector_tuned(settings.GC_THRESHOLDS)
