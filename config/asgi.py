"""The ASGI entry point: HTTP through Django's WSGI handler on a fixed pool of threads, WebSockets
through Channels.

Why not Django's own ASGI handler for HTTP: the product's views are synchronous (the ORM), and
under ASGI Django runs each request in a thread of its own, started and joined per request, with
the hand-overs between the event loop and that thread; measured on this stack, a one-statement view
cost 4-6 ms of CPU per request that way against 1.5-1.7 ms through a2wsgi's pool of reused
threads (bench/README.md). The WebSockets (the exam room's clock, the monitor, notifications) stay
asynchronous in Channels; both share one server process and one port."""

import os

from django.core.wsgi import get_wsgi_application

from config.workdir import prepare

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
prepare()
django_wsgi_app = get_wsgi_application()

from a2wsgi import WSGIMiddleware  # noqa: E402
from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import AllowedHostsOriginValidator  # noqa: E402
from django.conf import settings  # noqa: E402

from config.routing import websocket_urlpatterns  # noqa: E402

application = ProtocolTypeRouter(
    {
        # django-stubs types the handler as returning HttpResponseBase, which is the iterable of bytes.
        "http": WSGIMiddleware(django_wsgi_app, workers=settings.HTTP_THREADS),  # type: ignore[arg-type]
        "websocket": AllowedHostsOriginValidator(AuthMiddlewareStack(URLRouter(websocket_urlpatterns))),
    }
)
